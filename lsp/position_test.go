package lsp

import (
	"testing"
	"unicode/utf8"

	"go.lsp.dev/protocol"

	"github.com/corels/corels/compiler"
)

func pos(line, char uint32) protocol.Position { return protocol.Position{Line: line, Character: char} }

func TestNegotiateEncoding(t *testing.T) {
	for _, tc := range []struct {
		offered []protocol.PositionEncodingKind
		want    posEncoding
	}{
		{nil, encUTF16},
		{[]protocol.PositionEncodingKind{"utf-16"}, encUTF16},
		{[]protocol.PositionEncodingKind{"utf-32", "utf-16"}, encUTF16},
		{[]protocol.PositionEncodingKind{"utf-16", "utf-8"}, encUTF8},
		{[]protocol.PositionEncodingKind{"utf-8"}, encUTF8},
	} {
		if got := negotiateEncoding(tc.offered); got != tc.want {
			t.Errorf("negotiate(%v) = %v, want %v", tc.offered, got, tc.want)
		}
	}
}

func TestMapperUTF16(t *testing.T) {
	// "é" is 2 bytes / 1 UTF-16 unit, "😀" 4 bytes / 2 units, "中" 3 bytes / 1 unit.
	text := []byte("aé😀b\r\n中x\rlast")
	m := newMapper(text, encUTF16)
	for _, tc := range []struct {
		p   protocol.Position
		off int
	}{
		{pos(0, 0), 0},
		{pos(0, 1), 1},  // before é
		{pos(0, 2), 3},  // before 😀
		{pos(0, 3), 3},  // inside the surrogate pair: start of the character
		{pos(0, 4), 7},  // before b
		{pos(0, 5), 8},  // end of line
		{pos(0, 99), 8}, // clamped to the line end, before \r\n
		{pos(1, 0), 10},
		{pos(1, 1), 13},
		{pos(1, 2), 14}, // before the lone \r
		{pos(2, 0), 15},
		{pos(2, 4), 19},
		{pos(9, 9), 19}, // past the last line: end of text
	} {
		if got := m.offset(tc.p); got != tc.off {
			t.Errorf("offset(%v) = %d, want %d", tc.p, got, tc.off)
		}
	}
	for _, tc := range []struct {
		off int
		p   protocol.Position
	}{
		{0, pos(0, 0)}, {3, pos(0, 2)}, {5, pos(0, 2)}, {7, pos(0, 4)}, {8, pos(0, 5)},
		{9, pos(0, 5)}, // inside \r\n
		{10, pos(1, 0)}, {13, pos(1, 1)}, {15, pos(2, 0)}, {19, pos(2, 4)}, {99, pos(2, 4)}, {-5, pos(0, 0)},
	} {
		if got := m.position(tc.off); got != tc.p {
			t.Errorf("position(%d) = %v, want %v", tc.off, got, tc.p)
		}
	}
}

func TestMapperUTF8(t *testing.T) {
	text := []byte("aé😀b\nx")
	m := newMapper(text, encUTF8)
	if got := m.offset(pos(0, 3)); got != 3 {
		t.Errorf("offset(0:3) = %d, want 3", got)
	}
	if got := m.offset(pos(0, 2)); got != 1 { // inside é: moved to its start
		t.Errorf("offset(0:2) = %d, want 1", got)
	}
	if got := m.offset(pos(0, 50)); got != 8 {
		t.Errorf("offset(0:50) = %d, want 8", got)
	}
	if got := m.position(7); got != pos(0, 7) {
		t.Errorf("position(7) = %v", got)
	}
	if got := m.offset(pos(1, 1)); got != 10 {
		t.Errorf("offset(1:1) = %d, want 10", got)
	}
}

// Every character boundary round-trips in both encodings.
func TestMapperRoundTrip(t *testing.T) {
	text := []byte("int x; // é😀中\n\tstruct s *p = 0;\r\n\xff\xfe broken utf-8\n")
	for _, enc := range []posEncoding{encUTF16, encUTF8} {
		m := newMapper(text, enc)
		for off := 0; off <= len(text); {
			if got := m.offset(m.position(off)); got != off && !(off > 0 && text[off-1] == '\r') {
				t.Errorf("enc %d: offset(position(%d)) = %d", enc, off, got)
			}
			if off == len(text) {
				break
			}
			_, size := utf8.DecodeRune(text[off:])
			off += size
		}
	}
}

func TestCompilerPositions(t *testing.T) {
	text := []byte("ab\r\ncd\nef")
	m := newMapper(text, encUTF16)
	// Compiler lines count "\n" only; columns are bytes.
	if got := m.compilerOffset(compiler.Position{Line: 2, Col: 2}); got != 5 {
		t.Errorf("2:2 = %d, want 5", got)
	}
	if got := m.compilerOffset(compiler.Position{Line: 3, Col: 99}); got != 9 {
		t.Errorf("3:99 = %d, want 9 (clamped)", got)
	}
	if got := m.compilerOffset(compiler.Position{Line: 99, Col: 1}); got != 9 {
		t.Errorf("99:1 = %d, want 9", got)
	}
	if got := m.compilerOffset(compiler.Position{Offset: 4}); got != 4 {
		t.Errorf("offset 4 = %d", got)
	}
	r := m.compilerRange(compiler.Range{Start: compiler.Position{Line: 2, Col: 1}, End: compiler.Position{Line: 2, Col: 3}})
	if r.Start != pos(1, 0) || r.End != pos(1, 2) {
		t.Errorf("range = %v", r)
	}
}
