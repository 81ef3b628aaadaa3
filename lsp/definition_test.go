package lsp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

func (e *env) definition(u uri.URI, p protocol.Position) *protocol.Location {
	e.t.Helper()
	res, err := e.server.Definition(e.ctx, &protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{
		TextDocument: protocol.TextDocumentIdentifier{URI: u}, Position: p,
	}})
	if err != nil {
		e.t.Fatalf("definition: %v", err)
	}
	switch r := res.(type) {
	case *protocol.Location:
		return r
	case protocol.LocationSlice:
		if len(r) > 0 {
			return &r[0]
		}
	}
	return nil
}

// lineAt returns the text of loc's line, and the identifier at loc.
func lineAt(t *testing.T, loc *protocol.Location) (string, string) {
	t.Helper()
	data, err := os.ReadFile(loc.URI.FsPath())
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	line := lines[loc.Range.Start.Line]
	return strings.TrimSpace(line), line[loc.Range.Start.Character:loc.Range.End.Character]
}

func TestDefinitionLocal(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	for _, tc := range []struct {
		at       protocol.Position
		wantLine string
	}{
		{posOf(t, text, "->dev", 0, 3), "struct net_device *dev;"},
		{posOf(t, text, "->ifindex", 0, 4), "int ifindex;"},
		{posOf(t, text, "->arg1)", 0, 2), "unsigned long arg1;"},
		{posOf(t, text, "struct sk_buff *)", 0, 8), "struct sk_buff {"},
	} {
		loc := e.definition(u, tc.at)
		if loc == nil {
			t.Errorf("%v: no definition", tc.at)
			continue
		}
		line, ident := lineAt(t, loc)
		if loc.URI != u || line != tc.wantLine {
			t.Errorf("%v: %s %q, want %q", tc.at, loc.URI, line, tc.wantLine)
		}
		if !strings.Contains(tc.wantLine, ident) || ident == "" {
			t.Errorf("%v: range covers %q", tc.at, ident)
		}
	}
	// Accesses that are not relocated (probe reads of unattributed records) too.
	utext := readTestdata(t, "seed_unwrapped.bpf.c")
	uu := e.open(testdata(t, "seed_unwrapped.bpf.c"), utext)
	if loc := e.definition(uu, posOf(t, utext, "->dev)", 0, 3)); loc == nil {
		t.Error("unrelocated ->dev: no definition")
	} else if line, _ := lineAt(t, loc); line != "struct net_device *dev;" {
		t.Errorf("unrelocated ->dev: %q", line)
	}
	// Nothing under the cursor, or a position far out of range: no definition, no error.
	if loc := e.definition(u, pos(0, 0)); loc != nil {
		t.Errorf("comment: %v", loc)
	}
	if loc := e.definition(u, pos(9999, 9999)); loc != nil {
		t.Errorf("out of range: %v", loc)
	}
}

func TestDefinitionVmlinux(t *testing.T) {
	needVmlinux(t)
	e := newEnv(t, envOptions{init: map[string]any{"compileFlags": testFlags(t), "kernels": []string{synthKernel(t, "5.14.0-synth")}}})
	vmlinux := testdata(t, "include/vmlinux.h")
	for _, tc := range []struct {
		file, needle string
		delta        int
		wantLine     string
		wantIn       string // the record that must hold it
	}{
		{"core_read_chain.bpf.c", "real_parent, tgid", 2, "struct task_struct *real_parent;", "struct task_struct {"},
		{"core_read_chain.bpf.c", "tgid);", 1, "pid_t tgid;", "struct task_struct {"},
		{"mm_total_vm.bpf.c", "total_vm);", 1, "long unsigned int total_vm;", "struct mm_struct {"}, // through an anonymous struct
		{"core_read_chain.bpf.c", "struct task_struct *task", 9, "struct task_struct {", ""},
	} {
		text := readTestdata(t, tc.file)
		u := e.open(testdata(t, tc.file), text)
		loc := e.definition(u, posOf(t, text, tc.needle, 0, tc.delta))
		if loc == nil {
			t.Errorf("%s %q: no definition", tc.file, tc.needle)
			continue
		}
		line, _ := lineAt(t, loc)
		if loc.URI.FsPath() != vmlinux || line != tc.wantLine {
			t.Errorf("%s %q: %s:%d %q, want %q", tc.file, tc.needle, filepath.Base(loc.URI.FsPath()), loc.Range.Start.Line+1, line, tc.wantLine)
			continue
		}
		if tc.wantIn != "" {
			data, _ := os.ReadFile(vmlinux)
			lines := strings.Split(string(data), "\n")
			found := false
			for i := int(loc.Range.Start.Line); i >= 0; i-- {
				if strings.HasPrefix(lines[i], "struct ") || strings.HasPrefix(lines[i], "union ") {
					found = lines[i] == tc.wantIn
					break
				}
			}
			if !found {
				t.Errorf("%s %q: line %d is not in %q", tc.file, tc.needle, loc.Range.Start.Line+1, tc.wantIn)
			}
		}
	}
}

func TestBuildIndex(t *testing.T) {
	src := []byte(`#define FOO 1
typedef unsigned int u32;
typedef struct { int val; } kuid_t;
typedef void (*handler_t)(int);
enum color { RED, GREEN = 2, BLUE };
struct outer { struct { int a; }; union { long b; } u; int arr[4]; int bits: 3; };
`)
	ix := buildIndex(src)
	at := func(off int) string {
		end := off
		for end < len(src) && isIdentChar(src[end]) {
			end++
		}
		return string(src[off:end])
	}
	for name, want := range map[string]string{"u32": "u32", "kuid_t": "kuid_t", "handler_t": "handler_t"} {
		if off, ok := ix.typedefs[name]; !ok || at(off) != want {
			t.Errorf("typedef %s: %v", name, ok)
		}
	}
	for _, name := range []string{"RED", "GREEN", "BLUE"} {
		if off, ok := ix.enumerators[name]; !ok || at(off) != name {
			t.Errorf("enumerator %s", name)
		}
	}
	if off, ok := ix.macros["FOO"]; !ok || at(off) != "FOO" {
		t.Errorf("macro FOO")
	}
	body, ok := ix.records["struct outer"]
	if !ok {
		t.Fatal("struct outer")
	}
	for _, m := range []string{"a", "b", "arr", "bits"} {
		if off, ok := memberIn(src, body[0], body[1], m); !ok || at(off) != m {
			t.Errorf("member %s: %v", m, ok)
		}
	}
	if body, ok := ix.anonByAlias["kuid_t"]; !ok {
		t.Error("anonymous typedef'd struct")
	} else if _, ok := memberIn(src, body[0], body[1], "val"); !ok {
		t.Error("kuid_t.val")
	}
}
