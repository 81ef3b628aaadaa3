package lsp

import (
	"context"
	"strconv"
	"strings"

	"go.lsp.dev/protocol"
)

// The outline (textDocument/documentSymbol) lists a file's BPF programs (functions with a
// SEC() section) and maps (variables in ".maps" or legacy "maps"). It is read from the
// tokens, not from the compiler, so it is there at once and stays there while the file
// does not parse.

type outlineKind int

const (
	outlineProgram outlineKind = iota + 1
	outlineMap
)

type outlineItem struct {
	kind         outlineKind
	name         string
	section      string
	detail       string
	start, end   int // the whole declaration
	nameStart    int
	nameEnd      int
	bodyStart    int // programs: offset of "{"
	declStartTok int
}

// cKeywords are skipped when looking for a declarator's name.
var cKeywords = map[string]bool{
	"struct": true, "union": true, "enum": true, "const": true, "volatile": true, "static": true,
	"extern": true, "inline": true, "__inline": true, "__inline__": true, "__always_inline": true,
	"unsigned": true, "signed": true, "int": true, "long": true, "short": true, "char": true,
	"void": true, "__attribute__": true, "__weak": true, "__hidden": true, "typedef": true,
	"register": true, "restrict": true, "__restrict": true, "_Bool": true, "bool": true,
}

// outline scans src for programs and maps, in source order.
func outline(src []byte) []outlineItem {
	if tooLarge(src) {
		return nil
	}
	toks := lex(src)
	var items []outlineItem
	start := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind == tDirective {
			start = i + 1
			continue
		}
		if punct(src, t, ';') {
			if it, ok := declaration(src, toks, start, i, -1); ok {
				items = append(items, it)
			}
			start = i + 1
			continue
		}
		if punct(src, t, '(') || punct(src, t, '[') {
			i = matching(src, toks, i)
			continue
		}
		if punct(src, t, '{') {
			j := matching(src, toks, i)
			if i > start && punct(src, toks[i-1], ')') {
				// A function body ends the declaration.
				if it, ok := declaration(src, toks, start, min(j, len(toks)-1), i); ok {
					items = append(items, it)
				}
				i = j
				start = j + 1
				continue
			}
			i = j
		}
	}
	return items
}

// section returns the section named by SEC("...") / section("...") at toks[i], and the
// index of its closing parenthesis.
func sectionAt(src []byte, toks []token, i int) (string, int, bool) {
	t := toks[i]
	if t.kind != tIdent || !(t.is(src, "SEC") || t.is(src, "section") || t.is(src, "__section")) {
		return "", 0, false
	}
	if i+3 >= len(toks) || !punct(src, toks[i+1], '(') || toks[i+2].kind != tString || !punct(src, toks[i+3], ')') {
		return "", 0, false
	}
	s, err := strconv.Unquote(toks[i+2].text(src))
	if err != nil {
		s = strings.Trim(toks[i+2].text(src), `"`)
	}
	return s, i + 3, true
}

// declaration classifies the top-level declaration toks[a..b] (inclusive). body is the
// index of a function body's "{", or -1.
func declaration(src []byte, toks []token, a, b, body int) (outlineItem, bool) {
	if a > b || b >= len(toks) {
		return outlineItem{}, false
	}
	sec, found := "", false
	limit := b
	if body >= 0 {
		limit = body
	}
	for i := a; i < limit; i++ {
		if punct(src, toks[i], '{') {
			i = matching(src, toks, i)
			continue
		}
		if s, _, ok := sectionAt(src, toks, i); ok {
			sec, found = s, true
			break
		}
	}
	if !found {
		return outlineItem{}, false
	}
	it := outlineItem{section: sec, start: toks[a].off, end: toks[b].end, declStartTok: a}
	if body >= 0 {
		it.kind = outlineProgram
		it.bodyStart = toks[body].off
		it.detail = "SEC(\"" + sec + "\")"
		// The name is the identifier before the first parameter list that is not an
		// attribute or the SEC() itself; with a macro (BPF_KPROBE(name, ...)), its first
		// argument.
		for i := a; i < body; i++ {
			if _, end, ok := sectionAt(src, toks, i); ok {
				i = end
				continue
			}
			t := toks[i]
			if t.kind == tIdent && (t.is(src, "__attribute__") || t.is(src, "__attribute")) && i+1 < body && punct(src, toks[i+1], '(') {
				i = matching(src, toks, i+1)
				continue
			}
			if t.kind == tIdent && i+1 < body && punct(src, toks[i+1], '(') {
				name := i
				if isMacroName(t.text(src)) && i+2 < body && toks[i+2].kind == tIdent {
					name = i + 2
				}
				it.name = toks[name].text(src)
				it.nameStart, it.nameEnd = toks[name].off, toks[name].end
				return it, it.name != ""
			}
		}
		return outlineItem{}, false
	}
	if sec != ".maps" && sec != "maps" {
		return outlineItem{}, false
	}
	it.kind = outlineMap
	// The declarator: the last identifier at brace depth 0 before "=", "[" or the end,
	// skipping keywords, the type tag and the SEC() group.
	name := -1
	var bodyOpen int = -1
	for i := a; i <= b; i++ {
		t := toks[i]
		if punct(src, t, '{') {
			if bodyOpen < 0 {
				bodyOpen = i
			}
			i = matching(src, toks, i)
			continue
		}
		if _, end, ok := sectionAt(src, toks, i); ok {
			i = end
			continue
		}
		if punct(src, t, '(') {
			i = matching(src, toks, i)
			continue
		}
		if punct(src, t, '=') || punct(src, t, ';') {
			break
		}
		if t.kind == tIdent && !cKeywords[t.text(src)] {
			// "struct bpf_map_def name": the tag after struct is not the name.
			if i > a && toks[i-1].kind == tIdent && (toks[i-1].is(src, "struct") || toks[i-1].is(src, "union")) {
				continue
			}
			name = i
		}
	}
	if name < 0 {
		return outlineItem{}, false
	}
	it.name = toks[name].text(src)
	it.nameStart, it.nameEnd = toks[name].off, toks[name].end
	it.detail = mapDetail(src, toks, a, b)
	return it, true
}

// isMacroName reports whether name looks like a macro (BPF_KPROBE, BPF_PROG, ...).
func isMacroName(name string) bool {
	upper := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			return false
		}
	}
	return upper
}

// mapDetail describes a map from its BTF-style definition (__uint(type, X),
// __uint(max_entries, N)) or a legacy initializer (.type = X, .max_entries = N).
func mapDetail(src []byte, toks []token, a, b int) string {
	var typ, max string
	for i := a; i+2 <= b; i++ {
		t := toks[i]
		if t.kind != tIdent {
			continue
		}
		key := ""
		switch {
		case (t.is(src, "__uint") || t.is(src, "__type")) && punct(src, toks[i+1], '(') && i+4 <= b && punct(src, toks[i+3], ','):
			key = toks[i+2].text(src)
			if v := toks[i+4]; v.kind == tIdent || v.kind == tNumber {
				switch key {
				case "type":
					typ = v.text(src)
				case "max_entries":
					max = v.text(src)
				}
			}
		case i > a && punct(src, toks[i-1], '.') && punct(src, toks[i+1], '='):
			v := toks[i+2]
			switch {
			case t.is(src, "type"):
				typ = v.text(src)
			case t.is(src, "max_entries"):
				max = v.text(src)
			}
		}
	}
	var parts []string
	if typ != "" {
		parts = append(parts, typ)
	}
	if max != "" {
		parts = append(parts, "max_entries "+max)
	}
	return strings.Join(parts, ", ")
}

// DocumentSymbol lists programs and maps.
func (s *Server) DocumentSymbol(ctx context.Context, params *protocol.DocumentSymbolParams) (protocol.DocumentSymbolResult, error) {
	text, err := s.currentText(params.TextDocument.URI)
	if err != nil {
		return nil, err
	}
	m := newMapper(text, s.encoding())
	syms := protocol.DocumentSymbolSlice{}
	for _, it := range outline(text) {
		kind := protocol.SymbolKindFunction
		if it.kind == outlineMap {
			kind = protocol.SymbolKindVariable
		}
		detail := it.detail
		sym := protocol.DocumentSymbol{
			Name:           it.name,
			Kind:           kind,
			Range:          m.rangeOf(it.start, it.end),
			SelectionRange: m.rangeOf(it.nameStart, it.nameEnd),
		}
		if detail != "" {
			sym.Detail = &detail
		}
		syms = append(syms, sym)
	}
	return syms, nil
}
