package lsp

import (
	"context"

	"go.lsp.dev/protocol"
)

// Hover shows the analysis' hover for the relocation, type or extern under the cursor:
// local layout, the relocation record and its verdict on each target kernel.
func (s *Server) Hover(ctx context.Context, params *protocol.HoverParams) (*protocol.Hover, error) {
	r, err := s.current(ctx, params.TextDocument.URI)
	if err != nil || r == nil || r.hover == nil {
		return nil, err
	}
	m := r.mapper(s.encoding())
	h, ok := r.hover(m.offset(params.Position))
	if !ok || h.Markdown == "" {
		return nil, nil
	}
	rng := m.compilerRange(h.Range)
	s.mu.Lock()
	markdown := s.caps.markdown
	s.mu.Unlock()
	kind := protocol.MarkupKindMarkdown
	if !markdown {
		kind = protocol.MarkupKindPlainText
	}
	return &protocol.Hover{
		Contents: &protocol.MarkupContent{Kind: kind, Value: h.Markdown},
		Range:    &rng,
	}, nil
}
