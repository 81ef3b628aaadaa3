package lsp

import (
	"context"
	"strconv"
	"strings"

	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/corels/corels/analysis"
)

// CodeAction offers the analysis' quick fixes for the findings that overlap the range or
// that the client names in context.diagnostics, as workspace edits of kind quickfix with
// their diagnostic attached. The edits are for the version the findings were computed from
// (versioned when the client supports it). The context matters because some clients send
// only the cursor: Neovim's vim.lsp.buf.code_action() asks with an empty range at the
// cursor and the line's diagnostics in the context, so a cursor at the start of the line
// overlaps nothing.
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
	enc := s.encoding()
	m := r.mapper(enc)
	a, b := m.offsetRange(params.Range)
	// Neovim 0.7 sends back the diagnostics it stored, with columns it turned into bytes:
	// on a line with multi-byte characters their ranges are the published ones in UTF-8.
	var bytes *mapper
	if enc != encUTF8 && len(params.Context.Diagnostics) > 0 {
		bytes = newMapper(r.text, encUTF8)
	}
	kind := protocol.CodeActionKindQuickFix
	for _, f := range r.findings() {
		if len(f.Fixes) == 0 || (f.Range.Start.File != "" && f.Range.Start.File != r.path) {
			continue
		}
		fa, fb := m.compilerOffset(f.Range.Start), m.compilerOffset(f.Range.End)
		if fb < fa {
			fb = fa
		}
		diag := toDiagnostic(r, m, f)
		if (fa > b || a > fb) && !namedIn(params.Context.Diagnostics, diag) &&
			(bytes == nil || !namedIn(params.Context.Diagnostics, toDiagnostic(r, bytes, f))) {
			continue
		}
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

// namedIn reports whether the client's diagnostics include d as published: same range,
// code and message (severity and source are presentation, which clients may rewrite).
func namedIn(ds []protocol.Diagnostic, d protocol.Diagnostic) bool {
	code, msg := diagnosticCode(d.Code), diagnosticText(d.Message)
	for _, c := range ds {
		if c.Range == d.Range && diagnosticCode(c.Code) == code && diagnosticText(c.Message) == msg {
			return true
		}
	}
	return false
}

// diagnosticCode is a diagnostic's code as text (a code may be a number on the wire).
func diagnosticCode(c protocol.ProgressToken) string {
	switch c := c.(type) {
	case protocol.String:
		return string(c)
	case protocol.Integer:
		return strconv.Itoa(int(c))
	}
	return ""
}

func diagnosticText(m protocol.InlayHintTooltip) string {
	switch m := m.(type) {
	case protocol.String:
		return string(m)
	case *protocol.MarkupContent:
		return m.Value
	}
	return ""
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
