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
