package lsp

import (
	"context"

	"go.lsp.dev/protocol"
)

// InlayHint shows the analysis' inlay hints (the local offset after each relocated member
// access) in the requested range, when relocationHints is "inlay".
func (s *Server) InlayHint(ctx context.Context, params *protocol.InlayHintParams) ([]protocol.InlayHint, error) {
	hints := []protocol.InlayHint{}
	r, err := s.current(ctx, params.TextDocument.URI)
	if err != nil || r == nil || r.report == nil || r.cfg.relocationHints != hintsInlay {
		return hints, err
	}
	m := r.mapper(s.encoding())
	a, b := m.offsetRange(params.Range)
	yes := true
	for _, h := range r.report.Hints {
		if h.Position.File != "" && h.Position.File != r.path {
			continue
		}
		off := m.compilerOffset(h.Position)
		if off < a || off > b || h.Label == "" {
			continue
		}
		ih := protocol.InlayHint{
			Position:    m.position(off),
			Label:       protocol.String(h.Label),
			PaddingLeft: &yes,
		}
		if h.Tooltip != "" {
			ih.Tooltip = protocol.String(h.Tooltip)
		}
		hints = append(hints, ih)
	}
	return hints, nil
}
