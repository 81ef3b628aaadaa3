package compiler

import (
	"slices"
	"strings"

	"modernc.org/cc/v4"
)

// pragmaRanges records where `#pragma clang attribute push(__attribute__((preserve_access_index)), ...)`
// is in effect: vmlinux.h applies the attribute to every record that way.
type pragmaRanges struct {
	stack  []pragmaOpen
	ranges []fileRange
}

type pragmaOpen struct {
	preserve bool
	file     string
	offset   int
}

type fileRange struct {
	file       string
	start, end int // byte offsets; end < 0: to the end of the file
}

func (p *pragmaRanges) handle(toks []cc.Token) error {
	var words []string
	for _, t := range toks {
		words = append(words, t.SrcStr())
	}
	if len(words) < 3 || words[0] != "clang" || words[1] != "attribute" {
		return nil
	}
	op := words[2]
	if i := strings.LastIndexByte(op, '.'); i >= 0 { // namespaced: `Ns.push`
		op = op[i+1:]
	}
	pos := toks[0].Position()
	switch op {
	case "push":
		preserve := false
		for _, w := range words[3:] {
			if w == "preserve_access_index" || w == "__preserve_access_index__" {
				preserve = true
			}
		}
		p.stack = append(p.stack, pragmaOpen{preserve, pos.Filename, pos.Offset})
	case "pop":
		if n := len(p.stack); n > 0 {
			o := p.stack[n-1]
			p.stack = p.stack[:n-1]
			if o.preserve {
				end := pos.Offset
				if o.file != pos.Filename {
					end = -1
				}
				p.ranges = append(p.ranges, fileRange{o.file, o.offset, end})
			}
		}
	}
	return nil
}

// finish closes ranges left open at the end of the translation unit.
func (p *pragmaRanges) finish() {
	for _, o := range p.stack {
		if o.preserve {
			p.ranges = append(p.ranges, fileRange{o.file, o.offset, -1})
		}
	}
	p.stack = nil
}

func (p *pragmaRanges) contains(file string, offset int) bool {
	for _, r := range p.ranges {
		if r.file == file && offset >= r.start && (r.end < 0 || offset < r.end) {
			return true
		}
	}
	return false
}

// inFiles is p with the offsets of ranges in bpftool headers taken from the copies cc was
// given back to the files'.
func (p *pragmaRanges) inFiles(hdrs bpftoolHeaders) *pragmaRanges {
	if len(hdrs) == 0 {
		return p
	}
	out := &pragmaRanges{ranges: slices.Clone(p.ranges)}
	for i, r := range out.ranges {
		if h, ok := hdrs[r.file]; ok {
			out.ranges[i].start = h.served.file(r.start)
			if r.end >= 0 {
				out.ranges[i].end = h.served.file(r.end)
			}
		}
	}
	return out
}
