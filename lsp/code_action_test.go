package lsp

import (
	"strings"
	"testing"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/compiler"
)

// withFixes makes the analysis report one finding with two fixes on the first
// relocation, to test the protocol side of code actions by itself.
func withFixes(t *testing.T) {
	saved := analyzeFunc
	t.Cleanup(func() { analyzeFunc = saved })
	analyzeFunc = func(res *compiler.Result, src []byte, opts analysis.Options) (*analysis.Report, func(int) (analysis.Hover, bool)) {
		rep, hover := analyze(res, src, opts)
		if len(res.Relocations) > 0 {
			r := res.Relocations[0].Range
			start := compiler.Range{Start: r.Start, End: r.Start}
			rep.Findings = append(rep.Findings, analysis.Finding{
				Code: "test-fix", Severity: analysis.Warning, Message: "fix me", Range: r,
				Fixes: []analysis.Fix{
					{Title: "first", Edits: []analysis.Edit{{Range: start, NewText: "/*1*/"}}},
					{Title: "second", Edits: []analysis.Edit{{Range: r, NewText: "x"}, {Range: start, NewText: "/*2*/"}}},
				},
			})
		}
		return rep, hover
	}
}

func TestCodeActions(t *testing.T) {
	withFixes(t)
	text := readTestdata(t, "seed.bpf.c")
	for _, versioned := range []bool{false, true} {
		caps := protocol.ClientCapabilities{Workspace: &protocol.WorkspaceClientCapabilities{
			WorkspaceEdit: &protocol.WorkspaceEditClientCapabilities{DocumentChanges: &versioned}}}
		e := newEnv(t, envOptions{caps: caps})
		u := e.open(testdata(t, "seed.bpf.c"), text)
		e.edit(u, 7, protocol.Range{}, "")
		at := posOf(t, text, "->arg1)", 0, 3)
		actions, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: protocol.Range{Start: at, End: at},
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(actions) != 2 {
			t.Fatalf("versioned=%v: %d actions", versioned, len(actions))
		}
		first := actions[0].(*protocol.CodeAction)
		second := actions[1].(*protocol.CodeAction)
		if first.Title != "first" || *first.Kind != protocol.CodeActionKindQuickFix || !*first.IsPreferred || *second.IsPreferred {
			t.Errorf("actions: %+v %+v", first, second)
		}
		if len(first.Diagnostics) != 1 || diagCode(first.Diagnostics[0]) != "test-fix" {
			t.Errorf("attached diagnostics: %+v", first.Diagnostics)
		}
		if versioned {
			tde := first.Edit.DocumentChanges[0].(*protocol.TextDocumentEdit)
			if tde.TextDocument.Version == nil || *tde.TextDocument.Version != 7 || first.Edit.Changes != nil {
				t.Errorf("versioned edit: %+v", first.Edit)
			}
		} else if len(first.Edit.Changes[u]) != 1 || first.Edit.DocumentChanges != nil {
			t.Errorf("plain edit: %+v", first.Edit)
		}
		got := applyEdits(t, text, editsFor(second.Edit, u))
		if !strings.Contains(got, "ctx->/*2*/x)") {
			t.Errorf("second fix applied: %s", got)
		}
		// Another range, or only refactorings: nothing.
		for _, p := range []*protocol.CodeActionParams{
			{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: protocol.Range{Start: pos(0, 0), End: pos(0, 3)}},
			{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: protocol.Range{Start: at, End: at},
				Context: protocol.CodeActionContext{Only: []protocol.CodeActionKind{"refactor"}}},
		} {
			if as, err := e.server.CodeAction(e.ctx, p); err != nil || len(as) != 0 {
				t.Errorf("unexpected actions %v %v", as, err)
			}
		}
	}
}

// TestCodeActionsFromContext: what Neovim's vim.lsp.buf.code_action() sends, an empty
// range at the cursor and the line's diagnostics in context.diagnostics, gets the fixes
// of the findings named there as well as of those overlapping the range, each once. A
// diagnostic that does not match a published one (range, code or message) names nothing.
func TestCodeActionsFromContext(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "seed_unwrapped.bpf.c")
	u := e.open(testdata(t, "seed_unwrapped.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	warns := findDiag(p.Diagnostics, "probe-read-not-relocatable")
	if len(warns) != 2 || warns[0].Range.Start.Line == warns[1].Range.Start.Line || warns[0].Range.Start.Character == 0 {
		t.Fatalf("want two probe-read warnings on two lines, not at column 0: %+v", warns)
	}
	first, second := warns[0], warns[1]
	at := func(d protocol.Diagnostic, col uint32) protocol.Range {
		p := protocol.Position{Line: d.Range.Start.Line, Character: col}
		return protocol.Range{Start: p, End: p}
	}
	with := func(d protocol.Diagnostic, change func(*protocol.Diagnostic)) protocol.Diagnostic {
		change(&d)
		return d
	}
	// Neovim 0.7 sends the diagnostic rebuilt from vim.diagnostic: no source, the
	// severity as a number, a string code.
	asNvim := with(first, func(d *protocol.Diagnostic) { d.Source = protocol.Optional[string]{} })

	// The actions each finding alone gets, asked with its own range.
	alone := map[protocol.Range][]string{}
	for _, w := range warns {
		as, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: w.Range})
		if err != nil || len(as) == 0 {
			t.Fatalf("no actions over the warning at %v: %v", w.Range, err)
		}
		for _, a := range as {
			// Cloned: the client's decoder may reuse the bytes behind decoded strings.
			alone[w.Range] = append(alone[w.Range], strings.Clone(a.(*protocol.CodeAction).Title))
		}
	}
	both := append(append([]string(nil), alone[first.Range]...), alone[second.Range]...)

	for _, tc := range []struct {
		name  string
		rng   protocol.Range
		diags []protocol.Diagnostic
		only  []protocol.CodeActionKind
		want  []string
	}{
		{"cursor at column 0, no context", at(first, 0), nil, nil, nil},
		{"cursor at column 0, the line's diagnostic", at(first, 0), []protocol.Diagnostic{first}, nil, alone[first.Range]},
		{"as Neovim rebuilds it", at(first, 0), []protocol.Diagnostic{asNvim}, nil, alone[first.Range]},
		{"quickfix only", at(first, 0), []protocol.Diagnostic{first}, []protocol.CodeActionKind{protocol.CodeActionKindQuickFix}, alone[first.Range]},
		{"refactor only", at(first, 0), []protocol.Diagnostic{first}, []protocol.CodeActionKind{"refactor"}, nil},
		{"both diagnostics, cursor elsewhere", at(first, 0), []protocol.Diagnostic{first, second}, nil, both},
		{"overlapping and named: once", first.Range, []protocol.Diagnostic{first}, nil, alone[first.Range]},
		{"named twice: once", at(first, 0), []protocol.Diagnostic{first, first}, nil, alone[first.Range]},
		{"overlapping one, naming the other", first.Range, []protocol.Diagnostic{second}, nil, both},
		{"another message", at(first, 0), []protocol.Diagnostic{with(first, func(d *protocol.Diagnostic) {
			d.Message = protocol.String(diagMessage(first) + " ")
		})}, nil, nil},
		{"another code", at(first, 0), []protocol.Diagnostic{with(first, func(d *protocol.Diagnostic) {
			d.Code = protocol.String("direct-kernel-read")
		})}, nil, nil},
		{"another range", at(first, 0), []protocol.Diagnostic{with(first, func(d *protocol.Diagnostic) {
			d.Range.Start.Character++
		})}, nil, nil},
		{"the other line's range with this message", at(first, 0), []protocol.Diagnostic{with(first, func(d *protocol.Diagnostic) {
			d.Range = second.Range
		})}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{
				TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: tc.rng,
				Context: protocol.CodeActionContext{Diagnostics: tc.diags, Only: tc.only},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range as {
				ca := a.(*protocol.CodeAction)
				got = append(got, ca.Title)
				if len(ca.Diagnostics) != 1 || diagCode(ca.Diagnostics[0]) != "probe-read-not-relocatable" {
					t.Errorf("%q: attached %+v", ca.Title, ca.Diagnostics)
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("actions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestCodeActionsByteColumns: Neovim 0.7 stores diagnostics with byte columns and sends
// them back so in context.diagnostics; on a line with multi-byte characters before the
// finding those differ from the published UTF-16 range, and still name the finding.
func TestCodeActionsByteColumns(t *testing.T) {
	e := newEnv(t, envOptions{})
	const wide = "/* é€😀 */ " // 2+3+4 bytes for 1+1+2 UTF-16 units: 5 more bytes than units
	text := strings.Replace(readTestdata(t, "seed_unwrapped.bpf.c"), "\tbpf_probe_read(&dev,", "\t"+wide+"bpf_probe_read(&dev,", 1)
	u := e.open(testdata(t, "seed_unwrapped.bpf.c"), text)
	p := e.waitDiagnostics(0, u, 1)
	warns := findDiag(p.Diagnostics, "probe-read-not-relocatable")
	if len(warns) != 2 {
		t.Fatalf("warnings: %v", codes(p.Diagnostics))
	}
	w := warns[0]
	line := strings.Split(text, "\n")[w.Range.Start.Line]
	if !strings.Contains(line, wide) {
		t.Fatalf("the first warning is not on the wide line: %q", line)
	}
	asBytes := w
	asBytes.Range.Start.Character += 5
	asBytes.Range.End.Character += 5
	cursor := protocol.Range{Start: protocol.Position{Line: w.Range.Start.Line}, End: protocol.Position{Line: w.Range.Start.Line}}
	for _, tc := range []struct {
		name string
		diag protocol.Diagnostic
		want int
	}{
		{"as published (UTF-16)", w, 2},
		{"as Neovim 0.7 sends it back (bytes)", asBytes, 2},
		{"bytes, another message", func() protocol.Diagnostic {
			d := asBytes
			d.Message = protocol.String("other")
			return d
		}(), 0},
		{"bytes, off by one", func() protocol.Diagnostic {
			d := asBytes
			d.Range.Start.Character++
			return d
		}(), 0},
	} {
		as, err := e.server.CodeAction(e.ctx, &protocol.CodeActionParams{
			TextDocument: protocol.TextDocumentIdentifier{URI: u}, Range: cursor,
			Context: protocol.CodeActionContext{Diagnostics: []protocol.Diagnostic{tc.diag}},
		})
		if err != nil || len(as) != tc.want {
			t.Errorf("%s: %d actions (%v), want %d", tc.name, len(as), err, tc.want)
		}
	}
}
