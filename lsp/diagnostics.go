package lsp

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/compiler"
)

// Diagnostics are pushed (textDocument/publishDiagnostics, with the document version they
// were computed from) unless the client pulls them (textDocument/diagnostic); never both.
// core-reloc findings are diagnostics only when relocationHints is "diagnostic".

func severity(s analysis.Severity) protocol.DiagnosticSeverity {
	switch s {
	case analysis.Error:
		return protocol.DiagnosticSeverityError
	case analysis.Warning:
		return protocol.DiagnosticSeverityWarning
	case analysis.Info:
		return protocol.DiagnosticSeverityInformation
	}
	return protocol.DiagnosticSeverityHint
}

// diagnostics converts r's findings.
func (s *Server) diagnostics(r *result) []protocol.Diagnostic {
	m := r.mapper(s.encoding())
	out := []protocol.Diagnostic{}
	for _, f := range r.findings() {
		if !showFinding(r.cfg, f) {
			continue
		}
		out = append(out, toDiagnostic(r, m, f))
	}
	return out
}

// showFinding applies the relocationHints setting.
func showFinding(cfg *config, f analysis.Finding) bool {
	return f.Code != analysis.CodeCoreReloc || cfg.relocationHints == hintsDiagnostic
}

func toDiagnostic(r *result, m *mapper, f analysis.Finding) protocol.Diagnostic {
	rng, prefix := findingRange(r, m, f.Range)
	return protocol.Diagnostic{
		Range:    rng,
		Severity: severity(f.Severity),
		Code:     protocol.String(f.Code),
		Source:   protocol.NewOptional("corels"),
		Message:  protocol.String(prefix + f.Message),
	}
}

// findingRange maps a finding's range into the document. A range in another file (an
// error in a header) is shown on the #include line that brings that file in (or the
// first #include), with the header position in the message, as compilers do.
func findingRange(r *result, m *mapper, rng compiler.Range) (protocol.Range, string) {
	file := rng.Start.File
	if file == "" || file == r.path {
		return m.compilerRange(rng), ""
	}
	prefix := fmt.Sprintf("in %s:%d:%d: ", file, rng.Start.Line, rng.Start.Col)
	incs := includes(r.text)
	for _, inc := range incs {
		if filepath.Base(inc.name) == filepath.Base(file) {
			return m.rangeOf(inc.start, inc.end), prefix
		}
	}
	if len(incs) > 0 {
		return m.rangeOf(incs[0].start, incs[0].end), prefix
	}
	return m.rangeOf(0, 0), prefix
}

// include is one #include directive of a file.
type include struct {
	name       string // as written, without quotes or brackets
	system     bool   // <...>
	start, end int    // the directive's text
}

// includes lists the #include directives of src (not preprocessed: all of them).
func includes(src []byte) []include {
	var out []include
	if tooLarge(src) {
		return nil
	}
	for _, t := range lex(src) {
		if t.kind != tDirective {
			continue
		}
		d := src[t.off:t.end]
		i := 1
		for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
			i++
		}
		if len(d) < i+7 || string(d[i:i+7]) != "include" {
			continue
		}
		i += 7
		for i < len(d) && (d[i] == ' ' || d[i] == '\t') {
			i++
		}
		if i >= len(d) || (d[i] != '"' && d[i] != '<') {
			continue
		}
		closeCh := byte('"')
		if d[i] == '<' {
			closeCh = '>'
		}
		j := i + 1
		for j < len(d) && d[j] != closeCh && d[j] != '\n' {
			j++
		}
		if j >= len(d) || d[j] != closeCh {
			continue
		}
		end := t.end
		for end > t.off && (src[end-1] == '\n' || src[end-1] == '\r' || src[end-1] == ' ' || src[end-1] == '\t') {
			end--
		}
		out = append(out, include{name: string(d[i+1 : j]), system: closeCh == '>', start: t.off, end: end})
	}
	return out
}

// Diagnostic answers a pull for one document's diagnostics.
func (s *Server) Diagnostic(ctx context.Context, params *protocol.DocumentDiagnosticParams) (protocol.DocumentDiagnosticReport, error) {
	r, err := s.current(ctx, params.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return &protocol.RelatedFullDocumentDiagnosticReport{FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{
			Kind: string(protocol.DocumentDiagnosticReportKindFull), Items: []protocol.Diagnostic{},
		}}, nil
	}
	id := strconv.FormatUint(r.seq, 10)
	if params.PreviousResultID != nil && *params.PreviousResultID == id {
		return &protocol.RelatedUnchangedDocumentDiagnosticReport{UnchangedDocumentDiagnosticReport: protocol.UnchangedDocumentDiagnosticReport{
			Kind: "unchanged", ResultID: id,
		}}, nil
	}
	return &protocol.RelatedFullDocumentDiagnosticReport{FullDocumentDiagnosticReport: protocol.FullDocumentDiagnosticReport{
		Kind: string(protocol.DocumentDiagnosticReportKindFull), ResultID: &id, Items: s.diagnostics(r),
	}}, nil
}
