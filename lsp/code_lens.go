package lsp

import (
	"context"

	"go.lsp.dev/protocol"
)

// CodeLens shows the analysis' per-program summaries above each SEC() function. The
// lenses carry no command: they are read, not clicked.
func (s *Server) CodeLens(ctx context.Context, params *protocol.CodeLensParams) ([]protocol.CodeLens, error) {
	lenses := []protocol.CodeLens{}
	r, err := s.current(ctx, params.TextDocument.URI)
	if err != nil || r == nil || r.report == nil {
		return lenses, err
	}
	m := r.mapper(s.encoding())
	for _, l := range r.report.Lenses {
		if l.Range.Start.File != "" && l.Range.Start.File != r.path {
			continue
		}
		lenses = append(lenses, protocol.CodeLens{
			Range:   m.compilerRange(l.Range),
			Command: protocol.Command{Title: l.Title},
		})
	}
	return lenses, nil
}
