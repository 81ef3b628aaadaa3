package lsp

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"
)

func TestParseSettings(t *testing.T) {
	st, errs := parseSettings([]byte(`{"corels": {"kernels": "a.btf", "compileFlags": ["-I", "inc"], "relocationHints": "off", "vmlinuxFallback": false, "path": "/usr/bin/corels"}}`))
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if !slices.Equal(*st.Kernels, []string{"a.btf"}) || !slices.Equal(*st.CompileFlags, []string{"-I", "inc"}) ||
		*st.RelocationHints != "off" || *st.VmlinuxFallback {
		t.Errorf("parsed %+v", st)
	}
	st, errs = parseSettings([]byte(`{"kernels": 3, "relocationHints": "loud", "vmlinuxFallback": "yes", "compileFlags": ["-DX"]}`))
	if len(errs) != 3 || st.Kernels != nil || st.RelocationHints != nil || st.VmlinuxFallback != nil || st.CompileFlags == nil {
		t.Errorf("errs %q, settings %+v", errs, st)
	}
	for _, raw := range []string{"", "null", "{}"} {
		if st, errs := parseSettings([]byte(raw)); len(errs) != 0 || st.Kernels != nil {
			t.Errorf("%q: %+v %v", raw, st, errs)
		}
	}
	if _, errs := parseSettings([]byte(`[1]`)); len(errs) != 1 {
		t.Errorf("array settings: %v", errs)
	}
}

func TestEffectiveConfig(t *testing.T) {
	s := func(v string) *string { return &v }
	l := func(v ...string) *[]string { return &v }
	layers := configLayers{
		file:   settings{Kernels: l("file.btf"), RelocationHints: s("off"), CompileFlags: l("-Iinc")},
		init:   settings{Kernels: l("init.btf")},
		client: settings{RelocationHints: s("diagnostic")},
	}
	c, errs := layers.effective("/ws", clientCaps{inlayHints: true})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	if !slices.Equal(c.kernels, []string{"init.btf"}) || c.relocationHints != "diagnostic" || !c.vmlinuxFallback {
		t.Errorf("effective %+v", c)
	}
	if c.flags == nil || !slices.Equal(c.flags.IncludeDirs, []string{"/ws/inc"}) {
		t.Errorf("flags %+v", c.flags)
	}
	// Default presentation of relocation hints follows the client.
	if c, _ := (configLayers{}).effective("", clientCaps{inlayHints: true}); c.relocationHints != hintsInlay {
		t.Errorf("with inlay hints: %s", c.relocationHints)
	}
	if c, _ := (configLayers{}).effective("", clientCaps{}); c.relocationHints != hintsDiagnostic {
		t.Errorf("without inlay hints: %s", c.relocationHints)
	}
	if _, errs := (configLayers{init: settings{CompileFlags: l("-target", "x86_64")}}).effective("", clientCaps{}); len(errs) != 1 {
		t.Errorf("bad flags: %v", errs)
	}
}

func TestExpandPath(t *testing.T) {
	home, _ := os.UserHomeDir()
	for in, want := range map[string]string{
		"/abs/x.btf": "/abs/x.btf", "rel/x": "/root/ws/rel/x", "~/k.btf": filepath.Join(home, "k.btf"), "a/../b": "/root/ws/b",
	} {
		if got := expandPath(in, "/root/ws"); got != want {
			t.Errorf("expandPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// .corels.json in the workspace root configures the server; a kernel file that cannot be
// read is reported once with window/showMessage, not on every edit; pushed settings
// override the file without a restart.
func TestConfigFileAndErrorsOnce(t *testing.T) {
	root := t.TempDir()
	kdir := filepath.Join(root, "btf")
	os.MkdirAll(kdir, 0o755)
	data, _ := os.ReadFile(synthKernel(t, "5.10.0-synth"))
	os.WriteFile(filepath.Join(kdir, "5.10.0-synth.btf"), data, 0o644)
	cfg, _ := json.Marshal(map[string]any{"kernels": []string{"btf/", "missing.btf", "*.nothing"}, "relocationHints": "diagnostic"})
	os.WriteFile(filepath.Join(root, configFileName), cfg, 0o644)
	text := readTestdata(t, "seed.bpf.c")
	src := filepath.Join(root, "seed.bpf.c")
	os.WriteFile(src, []byte(text), 0o644)

	e := newEnv(t, envOptions{root: root})
	u := e.open(src, text)
	p := e.waitDiagnostics(0, u, 1)
	if !slices.Contains(codes(p.Diagnostics), "core-reloc") {
		t.Errorf("relocationHints from .corels.json not applied: %v", codes(p.Diagnostics))
	}
	h := hoverText(e.hover(u, posOf(t, text, "->dev", 0, 3)))
	if !strings.Contains(h, "5.10.0-synth") {
		t.Errorf("hover does not name the kernel from btf/: %s", h)
	}
	for v := int32(2); v <= 4; v++ {
		from := e.mark()
		e.edit(u, v, protocol.Range{Start: pos(0, 0), End: pos(0, 0)}, " ")
		e.waitDiagnostics(from, u, v)
	}
	e.client.mu.Lock()
	shown := slices.Clone(e.client.shown)
	e.client.mu.Unlock()
	var missing, nomatch int
	for _, m := range shown {
		if strings.Contains(m.Message, "missing.btf") {
			missing++
		}
		if strings.Contains(m.Message, "*.nothing") {
			nomatch++
		}
	}
	if missing != 1 || nomatch != 1 {
		t.Errorf("messages shown: %+v", shown)
	}

	// Pushed settings win over the file and apply at once.
	from := e.mark()
	e.server.DidChangeConfiguration(e.ctx, &protocol.DidChangeConfigurationParams{Settings: []byte(`{"corels": {"relocationHints": "off"}}`)})
	p = e.waitDiagnostics(from, u, 4)
	if slices.Contains(codes(p.Diagnostics), "core-reloc") {
		t.Errorf("relocationHints off not applied: %v", codes(p.Diagnostics))
	}
}

// A client that supports workspace/configuration is asked for the "corels" section after
// initialized, and again when it signals a change without settings.
func TestConfigPull(t *testing.T) {
	yes := true
	caps := protocol.ClientCapabilities{Workspace: &protocol.WorkspaceClientCapabilities{Configuration: &yes}}
	e := &env{}
	e = newEnv(t, envOptions{caps: caps, noInit: true})
	e.client.settings = json.RawMessage(`{"kernels": ["` + synthKernel(t, "4.18.0-synth") + `"]}`)
	e.initialize(envOptions{caps: caps})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(hoverText(e.hover(u, posOf(t, text, "->dev", 0, 3))), "4.18.0-synth") {
		if time.Now().After(deadline) {
			t.Fatal("pulled kernels never applied")
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.client.mu.Lock()
	e.client.settings = json.RawMessage(`{"kernels": ["` + synthKernel(t, "5.14.0-synth") + `"]}`)
	e.client.mu.Unlock()
	e.server.DidChangeConfiguration(e.ctx, &protocol.DidChangeConfigurationParams{Settings: []byte("null")})
	for !strings.Contains(hoverText(e.hover(u, posOf(t, text, "->dev", 0, 3))), "5.14.0-synth") {
		if time.Now().After(deadline) {
			t.Fatal("re-pulled kernels never applied")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// $/progress is reported while kernels load, for clients that support it.
func TestKernelProgress(t *testing.T) {
	yes := true
	caps := protocol.ClientCapabilities{Window: &protocol.WindowClientCapabilities{WorkDoneProgress: &yes}}
	e := newEnv(t, envOptions{caps: caps, init: map[string]any{"kernels": []string{filepath.Join(repoRoot(t), "testdata", "kernels", "*-synth*.btf.o")}}})
	var kinds []string
	e.waitMsg(0, "progress end", func(m wireMsg) bool {
		if m.Method != protocol.MethodProgress {
			return false
		}
		var v struct{ Kind string }
		var p struct{ Value json.RawMessage }
		json.Unmarshal(m.Params, &p)
		json.Unmarshal(p.Value, &v)
		kinds = append(kinds, v.Kind)
		return v.Kind == "end"
	})
	if kinds[0] != "begin" || len(kinds) < 3 {
		t.Errorf("progress kinds %v", kinds)
	}
	msgs, _ := e.tap.snapshot()
	created := false
	for _, m := range msgs {
		if m.Method == protocol.MethodWindowWorkDoneProgressCreate {
			created = true
		}
	}
	if !created {
		t.Error("no window/workDoneProgress/create")
	}
}

// TestKernelsSetting: the "kernels" entries mean what `corels check --kernel` makes of them
// (btf.LoadKernelArgs): "default" is the embedded kernel, in its place, files and
// directories relative to the root, each kernel once; globs are the setting's own.
func TestKernelsSetting(t *testing.T) {
	root := t.TempDir()
	kdir := filepath.Join(root, "btf")
	os.MkdirAll(kdir, 0o755)
	data, _ := os.ReadFile(synthKernel(t, "5.10.0-synth"))
	os.WriteFile(filepath.Join(kdir, "5.10.0-synth.btf"), data, 0o644)
	for _, tc := range []struct {
		kernels []string
		want    string
	}{
		{[]string{"default"}, "6.1.0-56-amd64"},
		{[]string{synthKernel(t, "5.14.0-synth"), "default", "btf/", synthKernel(t, "5.14.0-synth"), " default"},
			"5.14.0-synth,6.1.0-56-amd64,5.10.0-synth"},
		{[]string{"btf/*.btf", "default"}, "5.10.0-synth,6.1.0-56-amd64"},
	} {
		e := newEnv(t, envOptions{root: root, init: map[string]any{"kernels": tc.kernels}})
		e.srv.mu.Lock()
		ks := e.srv.kernels
		e.srv.mu.Unlock()
		got, err := ks.wait(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, k := range got {
			names = append(names, k.Name)
		}
		if strings.Join(names, ",") != tc.want {
			t.Errorf("kernels %q: loaded %v, want %s", tc.kernels, names, tc.want)
		}
		e.exit()
	}
}
