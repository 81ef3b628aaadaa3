package lsp

import (
	"context"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/corels/corels/analysis"
)

// CodeAction offers the analysis' quick fixes for the findings that overlap the range, as
// workspace edits of kind quickfix with their diagnostic attached. The edits are for the
// version the findings were computed from (versioned when the client supports it).
func (s *Server) CodeAction(ctx context.Context, params *protocol.CodeActionParams) ([]protocol.CommandOrCodeAction, error) {
	actions := []protocol.CommandOrCodeAction{}
	if !wantsKind(params.Context.Only, protocol.CodeActionKindQuickFix) {
		return actions, nil
	}
	r, err := s.current(ctx, params.TextDocument.URI)
	if err != nil || r == nil {
		return actions, err
	}
	s.mu.Lock()
	versioned := s.caps.documentChanges
	s.mu.Unlock()
	m := r.mapper(s.encoding())
	a, b := m.offsetRange(params.Range)
	kind := protocol.CodeActionKindQuickFix
	for _, f := range r.findings() {
		if len(f.Fixes) == 0 || (f.Range.Start.File != "" && f.Range.Start.File != r.path) {
			continue
		}
		fa, fb := m.compilerOffset(f.Range.Start), m.compilerOffset(f.Range.End)
		if fb < fa {
			fb = fa
		}
		if fa > b || a > fb {
			continue
		}
		diag := toDiagnostic(r, m, f)
		for i, fix := range f.Fixes {
			preferred := i == 0
			actions = append(actions, &protocol.CodeAction{
				Title:       fix.Title,
				Kind:        &kind,
				Diagnostics: []protocol.Diagnostic{diag},
				IsPreferred: &preferred,
				Edit:        workspaceEdit(params.TextDocument.URI, r, m, fix.Edits, versioned),
			})
		}
	}
	return actions, nil
}

// wantsKind reports whether an "only" filter admits kind (a filter entry admits its
// sub-kinds: "quickfix" admits "quickfix.x").
func wantsKind(only []protocol.CodeActionKind, kind protocol.CodeActionKind) bool {
	if len(only) == 0 {
		return true
	}
	for _, o := range only {
		if o == kind || strings.HasPrefix(string(kind), string(o)+".") || o == "" {
			return true
		}
	}
	return false
}

func workspaceEdit(u uri.URI, r *result, m *mapper, edits []analysis.Edit, versioned bool) *protocol.WorkspaceEdit {
	tes := make([]protocol.TextEdit, 0, len(edits))
	for _, e := range edits {
		tes = append(tes, protocol.TextEdit{Range: m.compilerRange(e.Range), NewText: e.NewText})
	}
	if !versioned {
		return &protocol.WorkspaceEdit{Changes: map[uri.URI][]protocol.TextEdit{u: tes}}
	}
	elems := make([]protocol.TextDocumentEditElement, len(tes))
	for i := range tes {
		elems[i] = &tes[i]
	}
	version := r.version
	return &protocol.WorkspaceEdit{DocumentChanges: []protocol.DocumentChange{&protocol.TextDocumentEdit{
		TextDocument: protocol.OptionalVersionedTextDocumentIdentifier{
			TextDocumentIdentifier: protocol.TextDocumentIdentifier{URI: u},
			Version:                &version,
		},
		Edits: elems,
	}}}
}
