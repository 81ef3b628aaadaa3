package lsp

import (
	"bytes"
	"sort"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/compiler"
)

// posEncoding is the unit in which LSP positions count characters within a line. It is
// negotiated at initialize: UTF-16 code units unless the client offers UTF-8.
type posEncoding int

const (
	encUTF16 posEncoding = iota
	encUTF8
)

func (e posEncoding) kind() protocol.PositionEncodingKind {
	if e == encUTF8 {
		return protocol.PositionEncodingKindUTF8
	}
	return protocol.PositionEncodingKindUTF16
}

// negotiateEncoding picks UTF-8 when the client offers it (no conversion at all), else
// UTF-16, which every client must support.
func negotiateEncoding(offered []protocol.PositionEncodingKind) posEncoding {
	for _, k := range offered {
		if k == protocol.PositionEncodingKindUTF8 {
			return encUTF8
		}
	}
	return encUTF16
}

// mapper converts between byte offsets in one text and LSP positions. Lines end at "\n",
// "\r\n" or "\r", as the LSP says. Conversions never fail: out-of-range positions are
// clamped (a line past the end is the end of the text, a character past the end of its
// line is the line's end, a position inside a multi-unit character moves to its start).
type mapper struct {
	text  []byte
	enc   posEncoding
	lines []int // byte offset of each line's start
	nl    []int // byte offset of each line's start counting "\n" only, as the compiler does
}

func newMapper(text []byte, enc posEncoding) *mapper {
	n := bytes.Count(text, []byte{'\n'}) + 1 // sized at once: a 10 MB document has ~10^5 lines
	m := &mapper{text: text, enc: enc, lines: make([]int, 1, n+bytes.Count(text, []byte{'\r'})), nl: make([]int, 1, n)}
	for i := 0; i < len(text); i++ {
		switch text[i] {
		case '\n':
			m.lines = append(m.lines, i+1)
			m.nl = append(m.nl, i+1)
		case '\r':
			if i+1 < len(text) && text[i+1] == '\n' {
				continue // the '\n' ends the line
			}
			m.lines = append(m.lines, i+1)
		}
	}
	return m
}

// lineEnd is the byte offset where line i's content ends (before its terminator).
func (m *mapper) lineEnd(i int) int {
	if i+1 >= len(m.lines) {
		return len(m.text)
	}
	end := m.lines[i+1]
	if end > 0 && m.text[end-1] == '\n' {
		end--
	}
	if end > m.lines[i] && m.text[end-1] == '\r' {
		end--
	}
	return end
}

// offset returns the byte offset of p, clamped into the text.
func (m *mapper) offset(p protocol.Position) int {
	line := int(p.Line)
	if line >= len(m.lines) {
		return len(m.text)
	}
	start, end := m.lines[line], m.lineEnd(line)
	want := int(p.Character)
	if m.enc == encUTF8 {
		off := start + want
		if want < 0 || off > end {
			off = end
		}
		// Not inside a UTF-8 sequence.
		if off < end {
			off = charStart(m.text, start, off)
		}
		return off
	}
	units := 0
	off := start
	for off < end {
		r, size := utf8.DecodeRune(m.text[off:end])
		n := 1
		if r >= 0x10000 {
			n = 2
		}
		if units+n > want {
			break
		}
		units += n
		off += size
	}
	return off
}

// position returns the LSP position of byte offset off (clamped into the text).
func (m *mapper) position(off int) protocol.Position {
	if off < 0 {
		off = 0
	}
	if off > len(m.text) {
		off = len(m.text)
	}
	line := sort.SearchInts(m.lines, off+1) - 1
	if line < 0 {
		line = 0
	}
	start := m.lines[line]
	if end := m.lineEnd(line); off > end {
		off = end // inside a "\r\n"
	}
	if off < len(m.text) {
		off = charStart(m.text, start, off)
	}
	if m.enc == encUTF8 {
		return protocol.Position{Line: uint32(line), Character: uint32(off - start)}
	}
	units := 0
	for i := start; i < off; {
		r, size := utf8.DecodeRune(m.text[i:off])
		if r >= 0x10000 {
			units += 2
		} else {
			units++
		}
		i += size
	}
	return protocol.Position{Line: uint32(line), Character: uint32(units)}
}

func (m *mapper) rangeOf(start, end int) protocol.Range {
	if end < start {
		end = start
	}
	return protocol.Range{Start: m.position(start), End: m.position(end)}
}

// offsetRange returns the byte offsets of r, in order.
func (m *mapper) offsetRange(r protocol.Range) (int, int) {
	a, b := m.offset(r.Start), m.offset(r.End)
	if b < a {
		a, b = b, a
	}
	return a, b
}

// compilerOffset returns the byte offset of a compiler position in this text. Positions
// with a line use it (compiler lines count "\n" only; columns count bytes); others use
// Offset.
func (m *mapper) compilerOffset(p compiler.Position) int {
	if p.Line <= 0 {
		return clamp(p.Offset, 0, len(m.text))
	}
	if p.Line > len(m.nl) {
		return len(m.text)
	}
	start := m.nl[p.Line-1]
	end := len(m.text)
	if p.Line < len(m.nl) {
		end = m.nl[p.Line] - 1
	}
	col := p.Col
	if col < 1 {
		col = 1
	}
	return clamp(start+col-1, start, end)
}

// compilerRange converts a compiler range in this text to an LSP range.
func (m *mapper) compilerRange(r compiler.Range) protocol.Range {
	start := m.compilerOffset(r.Start)
	end := start
	if r.End.Line > 0 || r.End.Offset > 0 {
		end = m.compilerOffset(r.End)
	}
	return m.rangeOf(start, end)
}

// charStart returns where the character holding byte off begins: off itself, unless off is a
// continuation byte of a valid sequence that starts before it (no earlier than lineStart).
// A stray continuation byte (Latin-1 text in an old comment) is a character of its own, as
// utf8.DecodeRune counts it.
func charStart(text []byte, lineStart, off int) int {
	for l := off; l > lineStart && off-l < utf8.UTFMax-1 && !utf8.RuneStart(text[l]); {
		l--
		if utf8.RuneStart(text[l]) {
			if r, size := utf8.DecodeRune(text[l:]); !(r == utf8.RuneError && size <= 1) && l+size > off {
				return l
			}
			return off
		}
	}
	return off
}

func clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
