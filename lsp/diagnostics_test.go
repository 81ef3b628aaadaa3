package lsp

import (
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/compiler"
)

// Edits supersede each other: runs for older versions are cancelled, only the newest is
// published, with its version.
func TestSupersededRunsAreNotPublished(t *testing.T) {
	front := newGatedFront()
	path := testdata(t, "seed.bpf.c")
	e := newEnv(t, envOptions{server: Options{FrontEnd: front}})
	u := e.open(path, readTestdata(t, "seed.bpf.c"))
	e.waitDiagnostics(0, u, 1)
	front.hold(path)
	from := e.mark()
	for v := int32(2); v <= 6; v++ {
		e.edit(u, v, protocol.Range{Start: pos(0, 0), End: pos(0, 0)}, "\n")
		time.Sleep(time.Duration(v%3) * 40 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // the debounce fires; the run for v6 waits at the gate
	front.release(path)
	e.waitDiagnostics(from, u, 6)
	time.Sleep(200 * time.Millisecond)
	var versions []int32
	for _, p := range e.publications(u) {
		v, _ := p.Version.Get()
		versions = append(versions, v)
	}
	if len(versions) != 2 || versions[0] != 1 || versions[1] != 6 {
		t.Errorf("published versions %v, want [1 6]", versions)
	}
}

// Under a stream of edits at random intervals, publications come in increasing version
// order, the last edit is always published, and each publication matches the text of the
// version it names.
func TestPublicationsInOrderAndNeverStale(t *testing.T) {
	e := newEnv(t, envOptions{server: Options{Debounce: 5 * time.Millisecond}, init: map[string]any{"relocationHints": "diagnostic"}})
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	e.waitDiagnostics(0, u, 1)
	base := posOf(t, text, "->dev", 0, 2).Line // the line of the sk_buff.dev relocation in v1
	rng := rand.New(rand.NewSource(1))
	const last = 60
	for v := int32(2); v <= last; v++ {
		e.edit(u, v, protocol.Range{Start: pos(0, 0), End: pos(0, 0)}, "\n") // every version moves the code down one line
		time.Sleep(time.Duration(rng.Intn(15)) * time.Millisecond)
	}
	e.waitDiagnostics(0, u, last)
	prev := int32(0)
	for _, p := range e.publications(u) {
		v, _ := p.Version.Get()
		if v <= prev {
			t.Errorf("version %d published after %d", v, prev)
		}
		prev = v
		found := false
		for _, d := range p.Diagnostics {
			if diagCode(d) == "core-reloc" && strings.Contains(diagMessage(d), "sk_buff") {
				found = true
				if d.Range.Start.Line != base+uint32(v-1) {
					t.Errorf("v%d: sk_buff.dev at line %d, want %d (diagnostics of another version)", v, d.Range.Start.Line, base+uint32(v-1))
				}
			}
		}
		if !found {
			t.Errorf("v%d: no sk_buff relocation", v)
		}
	}
	t.Logf("%d edits, %d publications", last-1, len(e.publications(u)))
}

// Clients that pull diagnostics get them from textDocument/diagnostic, never pushed.
func TestPullDiagnostics(t *testing.T) {
	caps := protocol.ClientCapabilities{TextDocument: &protocol.TextDocumentClientCapabilities{Diagnostic: &protocol.DiagnosticClientCapabilities{}}}
	e := newEnv(t, envOptions{caps: caps, noInit: true})
	res := e.initialize(envOptions{caps: caps, init: map[string]any{"relocationHints": "diagnostic"}})
	if res.Capabilities.DiagnosticProvider == nil {
		t.Fatal("no diagnosticProvider for a pull client")
	}
	text := readTestdata(t, "seed.bpf.c")
	u := e.open(testdata(t, "seed.bpf.c"), text)
	pull := func(prev *string) protocol.DocumentDiagnosticReport {
		r, err := e.server.Diagnostic(e.ctx, &protocol.DocumentDiagnosticParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, PreviousResultID: prev})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	full, ok := pull(nil).(*protocol.RelatedFullDocumentDiagnosticReport)
	if !ok || full.Kind != "full" || full.ResultID == nil || len(findDiag(full.Items, "core-reloc")) != 3 {
		t.Fatalf("first pull: %#v", full)
	}
	if un, ok := pull(full.ResultID).(*protocol.RelatedUnchangedDocumentDiagnosticReport); !ok || un.ResultID != *full.ResultID {
		t.Errorf("second pull with the same id: %#v", un)
	}
	at := posOf(t, text, "return ifindex;", 0, 0)
	e.edit(u, 2, protocol.Range{Start: at, End: at}, "int broken = ;\n\t")
	next, ok := pull(full.ResultID).(*protocol.RelatedFullDocumentDiagnosticReport)
	if !ok || *next.ResultID == *full.ResultID || len(findDiag(next.Items, "parse-error")) == 0 {
		t.Errorf("pull after an edit: %#v", next)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(e.publications(u)); n != 0 {
		t.Errorf("%d diagnostics pushed to a pull client", n)
	}
}

// A slow analysis (the first parse of a file's headers) shows $/progress.
func TestSlowAnalysisProgress(t *testing.T) {
	front := newGatedFront()
	path := testdata(t, "seed.bpf.c")
	front.hold(path)
	yes := true
	caps := protocol.ClientCapabilities{Window: &protocol.WindowClientCapabilities{WorkDoneProgress: &yes}}
	e := newEnv(t, envOptions{caps: caps, server: Options{FrontEnd: front}})
	e.open(path, readTestdata(t, "seed.bpf.c"))
	e.waitMsg(0, "progress begin", func(m wireMsg) bool {
		return m.Method == protocol.MethodProgress && strings.Contains(string(m.Params), `"title":"Analysing seed.bpf.c"`)
	})
	front.release(path)
	e.waitMsg(0, "diagnostics", func(m wireMsg) bool { return m.Method == protocol.MethodTextDocumentPublishDiagnostics })
	e.waitMsg(0, "progress end", func(m wireMsg) bool {
		return m.Method == protocol.MethodProgress && strings.Contains(string(m.Params), `"kind":"end"`) && strings.Contains(string(m.Params), "done")
	})
}

// An error in an included header is shown in the main file (the compiler's findings are
// placed at its start, the header position in the message; findings whose range names the
// header are moved to the #include line by findingRange), never lost.
func TestHeaderErrorOnInclude(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "bad.h"), []byte("int y = ;\nint x;\n"), 0o644)
	text := "// a program\n#include \"bad.h\"\nint f(void) { return x; }\n"
	e := newEnv(t, envOptions{})
	u := e.open(filepath.Join(dir, "main.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	errs := findDiag(p.Diagnostics, "parse-error")
	if len(errs) == 0 {
		t.Fatalf("no parse error: %v", p.Diagnostics)
	}
	d := errs[0]
	if d.Range.Start.Line > 1 || !strings.Contains(diagMessage(d), "bad.h:1:") {
		t.Errorf("header error shown at %v: %q", d.Range, diagMessage(d))
	}
	// An empty document is analysed as empty, not read from disk.
	from := e.mark()
	e.replaceAll(u, 2, "")
	if p := e.waitDiagnostics(from, u, 2); len(p.Diagnostics) != 0 {
		t.Errorf("empty document: %v", p.Diagnostics)
	}
}

func TestFindingRangeInHeader(t *testing.T) {
	text := []byte("// x\n#include <bpf/bpf_helpers.h>\n#include \"local.h\"\nint x;\n")
	r := &result{path: "/w/main.bpf.c", text: text}
	m := newMapper(text, encUTF16)
	at := compiler.Position{File: "/w/local.h", Line: 3, Col: 5}
	rng, prefix := findingRange(r, m, compiler.Range{Start: at, End: at})
	if rng.Start != pos(2, 0) || rng.End != pos(2, 18) || prefix != "in /w/local.h:3:5: " {
		t.Errorf("%v %q", rng, prefix)
	}
	other := compiler.Position{File: "/usr/include/linux/types.h", Line: 1, Col: 1}
	if rng, _ := findingRange(r, m, compiler.Range{Start: other, End: other}); rng.Start != pos(1, 0) {
		t.Errorf("unknown header: %v (want the first #include)", rng)
	}
}

// An analysis over its budget does not hang the file: the version is published with a
// partial-results note and requests are answered; when the analysis finishes, its results
// replace the note for the same version.
func TestAnalysisOverBudgetIsPartial(t *testing.T) {
	front := newGatedFront()
	path := testdata(t, "seed.bpf.c")
	text := readTestdata(t, "seed.bpf.c")
	e := newEnv(t, envOptions{server: Options{FrontEnd: front, AnalysisBudget: 100 * time.Millisecond}})
	front.hold(path)
	u := e.open(path, text)
	p := e.waitDiagnostics(0, u, 1)
	if len(p.Diagnostics) != 1 || diagCode(p.Diagnostics[0]) != CodeAnalysisPartial ||
		!strings.Contains(diagMessage(p.Diagnostics[0]), "results are partial") {
		t.Fatalf("over budget: got %+v, want one %s note", p.Diagnostics, CodeAnalysisPartial)
	}
	if h := e.hover(u, posOf(t, text, "->dev", 0, 2)); h != nil {
		t.Errorf("hover over a partial result: %+v, want none", h)
	}
	from := e.mark()
	front.release(path)
	p = e.waitDiagnostics(from, u, 1)
	for _, d := range p.Diagnostics {
		if diagCode(d) == CodeAnalysisPartial {
			t.Errorf("finished analysis still carries the partial note: %+v", d)
		}
	}
	if h := e.hover(u, posOf(t, text, "->dev", 0, 2)); h == nil {
		t.Error("no hover after the analysis finished")
	}
}

// A document past the size corels analyses gets one clear diagnostic, and the features
// that read the whole text answer nothing (they lexed it once per request before); back
// under the limit, everything works again.
func TestDocumentTooLarge(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed.bpf.c")
	big := strings.Repeat(text, compiler.MaxSourceSize/len(text)+1)
	u := e.open(testdata(t, "seed.bpf.c"), text)
	e.waitDiagnostics(0, u, 1)
	from := e.mark()
	e.replaceAll(u, 2, big)
	p := e.waitDiagnostics(from, u, 2)
	if len(p.Diagnostics) != 1 || !strings.Contains(diagMessage(p.Diagnostics[0]), "corels analyses files up to 4 MB") {
		t.Fatalf("diagnostics for a %d MB document: %+v", len(big)>>20, p.Diagnostics)
	}
	td := protocol.TextDocumentIdentifier{URI: u}
	at := posOf(t, text, "->dev", 0, 2)
	if d, err := e.server.Definition(e.ctx, &protocol.DefinitionParams{TextDocumentPositionParams: protocol.TextDocumentPositionParams{TextDocument: td, Position: at}}); err != nil || d != nil {
		t.Errorf("definition in a too large document: %v, %v", d, err)
	}
	if syms, err := e.server.DocumentSymbol(e.ctx, &protocol.DocumentSymbolParams{TextDocument: td}); err != nil || len(syms.(protocol.DocumentSymbolSlice)) != 0 {
		t.Errorf("symbols of a too large document: %v, %v", syms, err)
	}
	from = e.mark()
	e.replaceAll(u, 3, text)
	if p := e.waitDiagnostics(from, u, 3); len(p.Diagnostics) == 0 || e.hover(u, at) == nil {
		t.Errorf("back under the limit: diagnostics %+v and no hover", p.Diagnostics)
	}
}
