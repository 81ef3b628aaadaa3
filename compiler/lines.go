package compiler

import "sort"

// lineTable maps byte offsets of a file to 1-based lines and columns.
type lineTable []int // offsets of line starts

func newLineTable(src []byte) lineTable {
	t := lineTable{0}
	for i, c := range src {
		if c == '\n' {
			t = append(t, i+1)
		}
	}
	return t
}

func (t lineTable) position(file string, off int) Position {
	i := sort.SearchInts(t, off+1) - 1
	if i < 0 {
		i = 0
	}
	return Position{File: file, Line: i + 1, Col: off - t[i] + 1, Offset: off}
}

// offset is the byte offset of a 1-based line and byte column, -1 outside the table.
func (t lineTable) offset(line, col int) int {
	if line < 1 || line > len(t) || col < 1 {
		return -1
	}
	return t[line-1] + col - 1
}
