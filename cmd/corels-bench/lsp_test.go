package main

import (
	"strings"
	"testing"
	"unicode/utf16"

	"go.lsp.dev/protocol"
)

// The ranged change the bench sends takes the last text to the next one when applied as
// an LSP server applies it (UTF-16 columns), and is no larger than the edit.
func TestContentChange(t *testing.T) {
	for _, c := range []struct{ name, prev, next, text string }{
		{"insert", "int f(void)\n{\n\treturn 0;\n}\n", "int f(void)\n{\n\tbpf_printk(\"edit\");\n\treturn 0;\n}\n", "bpf_printk(\"edit\");\n\t"},
		{"delete", "a\nbc\nd\n", "a\nd\n", ""},
		{"replace at the end", "x = 1;", "x = 22;", "22"},
		{"repeated text", "aaaa", "aaaaaa", ""},
		{"unchanged", "same\n", "same\n", ""},
		{"multi-byte before", "/* é😀 */\nint x;\n", "/* é😀 */\nint xy;\n", "y"},
		{"multi-byte changed", "s = \"é\";", "s = \"è\";", "è"},
		{"surrogate pair changed", "😀x", "😁x", "😁"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ch, ok := contentChange(c.prev, c.next, true).(*protocol.TextDocumentContentChangePartial)
			if !ok {
				t.Fatal("not a ranged change")
			}
			if got := applyRange(t, c.prev, ch); got != c.next {
				t.Fatalf("applied: %q, want %q", got, c.next)
			}
			if c.text != "" && ch.Text != c.text {
				t.Errorf("new text %q, want %q", ch.Text, c.text)
			}
			if len(ch.Text) > len(c.next)-min(len(c.prev), len(c.next))+len(c.text) {
				t.Errorf("new text %q is more than the edit", ch.Text)
			}
		})
	}
	if _, whole := contentChange("a", "b", false).(*protocol.TextDocumentContentChangeWholeDocument); !whole {
		t.Error("without incremental sync the change is not the whole document")
	}
}

// applyRange replaces the range of ch in text, positions in UTF-16 code units.
func applyRange(t *testing.T, text string, ch *protocol.TextDocumentContentChangePartial) string {
	t.Helper()
	offset := func(p protocol.Position) int {
		lines := strings.SplitAfter(text, "\n")
		if int(p.Line) >= len(lines) {
			t.Fatalf("line %d past the end", p.Line)
		}
		off := 0
		for _, l := range lines[:p.Line] {
			off += len(l)
		}
		units := 0
		for i, r := range lines[p.Line] {
			if units == int(p.Character) {
				return off + i
			}
			units += len(utf16.Encode([]rune{r}))
		}
		if units != int(p.Character) {
			t.Fatalf("column %d past the end of line %d", p.Character, p.Line)
		}
		return off + len(lines[p.Line])
	}
	return text[:offset(ch.Range.Start)] + ch.Text + text[offset(ch.Range.End):]
}
