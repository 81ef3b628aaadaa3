package lsp

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// The scenarios an editor user meets, through the real server over a pipe with
// go.lsp.dev/protocol's client. Programs with vmlinux.h need `make vmlinux`.

func vmlinuxEnv(t *testing.T, kernels ...string) *env {
	t.Helper()
	needVmlinux(t)
	var ks []string
	for _, k := range kernels {
		ks = append(ks, synthKernel(t, k))
	}
	return newEnv(t, envOptions{init: map[string]any{
		"compileFlags":    testFlags(t),
		"kernels":         ks,
		"relocationHints": "diagnostic",
	}})
}

var numbers = regexp.MustCompile(`\d+`)

// kernelLine returns the line of a hover that names kernel, without the name.
func kernelLine(hover, kernel string) string {
	for _, l := range strings.Split(hover, "\n") {
		if strings.Contains(l, kernel) {
			return strings.ReplaceAll(l, kernel, "")
		}
	}
	return ""
}

func findDiag(ds []protocol.Diagnostic, code string) []protocol.Diagnostic {
	var out []protocol.Diagnostic
	for _, d := range ds {
		if diagCode(d) == code {
			out = append(out, d)
		}
	}
	return out
}

// Open a testdata program and receive its diagnostics: one core-reloc hint per
// relocation, at the member names, nothing unresolved on kernels that have the fields.
func TestE2EOpenDiagnostics(t *testing.T) {
	e := vmlinuxEnv(t, "5.14.0-synth", "4.18.0-synth")
	text := readTestdata(t, "core_read_chain.bpf.c")
	u := e.open(testdata(t, "core_read_chain.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	relocs := findDiag(p.Diagnostics, "core-reloc")
	if len(relocs) != 2 {
		t.Fatalf("core-reloc diagnostics: %v", codes(p.Diagnostics))
	}
	for i, want := range []string{"real_parent", "tgid"} {
		d := relocs[i]
		start := posOf(t, text, "BPF_CORE_READ(task, real_parent, tgid)", 0, strings.Index("BPF_CORE_READ(task, real_parent, tgid)", want))
		if d.Range.Start != start || d.Range.End.Character != start.Character+uint32(len(want)) {
			t.Errorf("%s at %v, want %v", want, d.Range, start)
		}
		if d.Severity != protocol.DiagnosticSeverityHint || !strings.Contains(diagMessage(d), want) {
			t.Errorf("%s: %v %q", want, d.Severity, diagMessage(d))
		}
		if src, _ := d.Source.Get(); src != "corels" {
			t.Errorf("source %q", src)
		}
	}
	for _, d := range p.Diagnostics {
		if d.Severity == protocol.DiagnosticSeverityError || d.Severity == protocol.DiagnosticSeverityWarning {
			t.Errorf("unexpected %s: %s", diagCode(d), diagMessage(d))
		}
	}
}

// Hover on a relocated field shows its local offset and the relocation's access string.
func TestE2EHoverRelocatedField(t *testing.T) {
	e := vmlinuxEnv(t, "5.14.0-synth")
	text := readTestdata(t, "core_read_chain.bpf.c")
	u := e.open(testdata(t, "core_read_chain.bpf.c"), text)
	h := e.hover(u, posOf(t, text, "real_parent,", 0, 3))
	got := hoverText(h)
	if !strings.Contains(got, "0:84") || !(strings.Contains(got, "2552") || strings.Contains(got, "0x9f8")) {
		t.Errorf("hover lacks the access string 0:84 or the offset 2552:\n%s", got)
	}
	if h.Range == nil || h.Range.Start != posOf(t, text, "real_parent,", 0, 0) {
		t.Errorf("hover range %v", h.Range)
	}
	if c, ok := h.Contents.(*protocol.MarkupContent); !ok || c.Kind != protocol.MarkupKindMarkdown {
		t.Errorf("hover contents %T", h.Contents)
	}
	if h := e.hover(u, posOf(t, text, "bpf_printk", 0, 2)); h != nil {
		t.Errorf("hover off a relocation: %q", hoverText(h))
	}
}

// A configuration change of kernels changes the hover, without a restart.
func TestE2EKernelChangeChangesHover(t *testing.T) {
	e := vmlinuxEnv(t, "5.14.0-synth")
	text := readTestdata(t, "array_index.bpf.c")
	u := e.open(testdata(t, "array_index.bpf.c"), text)
	at := posOf(t, text, "&task->comm[1]", 0, 8) // task_struct.comm moved between 4.18 and 5.14
	before := hoverText(e.hover(u, at))
	if !strings.Contains(before, "5.14.0-synth") {
		t.Fatalf("hover does not name 5.14.0-synth:\n%s", before)
	}
	from := e.mark()
	e.server.DidChangeConfiguration(e.ctx, &protocol.DidChangeConfigurationParams{
		Settings: []byte(`{"corels": {"kernels": ["` + synthKernel(t, "4.18.0-synth") + `"]}}`),
	})
	e.waitDiagnostics(from, u, 1) // re-analysed for the new kernels
	after := hoverText(e.hover(u, at))
	if !strings.Contains(after, "4.18.0-synth") || strings.Contains(after, "5.14.0-synth") || after == before {
		t.Errorf("hover after the change:\n%s\nbefore:\n%s", after, before)
	}
	// The kernel's line of the hover gives another offset.
	if a, b := kernelLine(before, "5.14.0-synth"), kernelLine(after, "4.18.0-synth"); a == "" || b == "" ||
		slices.Equal(numbers.FindAllString(a, -1), numbers.FindAllString(b, -1)) {
		t.Errorf("kernel lines: %q and %q", a, b)
	}
}

// A syntax error typed mid-edit is reported as parse-error at that version; the next
// good edit recovers.
func TestE2ESyntaxErrorRecovers(t *testing.T) {
	e := newEnv(t, envOptions{init: map[string]any{"relocationHints": "diagnostic"}})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	if n := len(findDiag(p.Diagnostics, "parse-error")); n != 0 {
		t.Fatalf("parse errors in the good file: %d", n)
	}
	at := posOf(t, text, "return ifindex;", 0, 0)
	from := e.mark()
	e.edit(u, 2, protocol.Range{Start: at, End: at}, "int broken = ;\n\t")
	p = e.waitDiagnostics(from, u, 2)
	errs := findDiag(p.Diagnostics, "parse-error")
	if len(errs) == 0 {
		t.Fatalf("no parse-error at v2: %v", codes(p.Diagnostics))
	}
	if errs[0].Range.Start.Line != at.Line || errs[0].Severity != protocol.DiagnosticSeverityError {
		t.Errorf("parse-error at %v (%v), want line %d", errs[0].Range, errs[0].Severity, at.Line)
	}
	from = e.mark()
	e.edit(u, 3, protocol.Range{Start: at, End: protocol.Position{Line: at.Line + 1, Character: 1}}, "")
	p = e.waitDiagnostics(from, u, 3)
	if n := len(findDiag(p.Diagnostics, "parse-error")); n != 0 {
		t.Errorf("still %d parse errors after the fix", n)
	}
	if n := len(findDiag(p.Diagnostics, "core-reloc")); n != 3 {
		t.Errorf("relocations after recovery: %d, want 3", n)
	}
}

// The wrap quick fix, applied, makes the probe-read warning disappear.
func TestE2EWrapQuickFix(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed_unwrapped.bpf.c")
	u := e.open(testdata(t, "seed_unwrapped.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	warns := findDiag(p.Diagnostics, "probe-read-not-relocatable")
	if len(warns) != 2 {
		t.Fatalf("probe-read warnings: %v", codes(p.Diagnostics))
	}
	version := int32(1)
	for len(warns) > 0 {
		w := warns[0]
		actions, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: w.Range,
			Context: protocol.CodeActionContext{Diagnostics: []protocol.Diagnostic{w}},
		})
		if err != nil {
			t.Fatal(err)
		}
		fix := wrapFix(actions)
		if fix == nil {
			t.Fatalf("no wrap fix among %d actions", len(actions))
		}
		if fix.Kind == nil || *fix.Kind != protocol.CodeActionKindQuickFix || len(fix.Diagnostics) != 1 || diagCode(fix.Diagnostics[0]) != "probe-read-not-relocatable" {
			t.Errorf("fix %q: kind %v, diagnostics %v", fix.Title, fix.Kind, fix.Diagnostics)
		}
		text = applyEdits(t, text, editsFor(fix.Edit, u))
		version++
		from := e.mark()
		e.replaceAll(u, version, text)
		p = e.waitDiagnostics(from, u, version)
		if n := len(findDiag(p.Diagnostics, "probe-read-not-relocatable")); n != len(warns)-1 {
			t.Fatalf("after %q: %d warnings, want %d", fix.Title, n, len(warns)-1)
		}
		warns = findDiag(p.Diagnostics, "probe-read-not-relocatable")
	}
	if !strings.Contains(text, "__builtin_preserve_access_index(") {
		t.Errorf("fixed text:\n%s", text)
	}
}

func wrapFix(actions []protocol.CommandOrCodeAction) *protocol.CodeAction {
	for _, a := range actions {
		if ca, ok := a.(*protocol.CodeAction); ok && ca.Edit != nil {
			for _, e := range editsFor(ca.Edit, "") {
				if strings.Contains(e.NewText, "__builtin_preserve_access_index") {
					return ca
				}
			}
		}
	}
	return nil
}

// editsFor returns the text edits of a workspace edit (for u, or any document when u is "").
func editsFor(we *protocol.WorkspaceEdit, u uri.URI) []protocol.TextEdit {
	var out []protocol.TextEdit
	for doc, es := range we.Changes {
		if u == "" || doc == u {
			out = append(out, es...)
		}
	}
	for _, dc := range we.DocumentChanges {
		if tde, ok := dc.(*protocol.TextDocumentEdit); ok && (u == "" || tde.TextDocument.URI == u) {
			for _, el := range tde.Edits {
				if te, ok := el.(*protocol.TextEdit); ok {
					out = append(out, *te)
				}
			}
		}
	}
	return out
}

// An edit that introduces a non-relocatable read produces the warning at the new version.
func TestE2ENewNonRelocatableRead(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	if n := len(findDiag(p.Diagnostics, "probe-read-not-relocatable")); n != 0 {
		t.Fatalf("warnings in the wrapped seed: %d", n)
	}
	at := posOf(t, text, "return ifindex;", 0, 0)
	from := e.mark()
	e.edit(u, 2, protocol.Range{Start: at, End: at}, "bpf_probe_read(&ifindex, sizeof(ifindex), &dev->dev_id);\n\t")
	p = e.waitDiagnostics(from, u, 2)
	warns := findDiag(p.Diagnostics, "probe-read-not-relocatable")
	if len(warns) != 1 || warns[0].Range.Start.Line != at.Line {
		t.Errorf("v2 warnings: %+v", warns)
	}
	for _, pub := range e.publications(u) {
		if v, _ := pub.Version.Get(); v == 1 && len(findDiag(pub.Diagnostics, "probe-read-not-relocatable")) > 0 {
			t.Error("the warning was published for version 1")
		}
	}
}
