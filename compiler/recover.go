package compiler

import (
	"fmt"
	"sort"
	"strings"
)

// Error recovery. cc/v4 stops at the first syntax error and, after a type error, returns
// no syntax tree: one mistake would hide every relocation of the file and every later
// error. clang recovers at the next declaration. corels does it by compiling again with the
// broken top-level item blanked (newlines kept, so positions hold): a function body with an
// error becomes `{}` (its declaration stays, so its callers still compile); an item broken
// before its body is blanked whole. Each round blanks the items the last one found errors
// in, until the file compiles or an error cannot be placed in an item of the main file.

// maxErrors is clang's default -ferror-limit.
const maxErrors = 20

// recovering runs compile on u and, while it fails with errors in top-level items of the
// main file, on u with those items blanked. The result holds the errors of every round.
func (u *unit) recovering(compile func(*unit) (*Result, error)) (*Result, error) {
	res, err := compile(u)
	if err != nil || !res.HasErrors() {
		return res, err
	}
	r := newRecovery(u.path, u.src)
	var kept []Diagnostic
	cur := u
	for round := 0; round < maxErrors; round++ {
		src := append([]byte(nil), cur.src...)
		more, ok := r.round(res.Diagnostics, src)
		if !ok {
			return finishRecovery(res, kept), nil // cannot recover: report what we have
		}
		kept = append(kept, more...)
		next := *cur
		next.src = src
		cur = &next
		if res, err = compile(cur); err != nil {
			return nil, err
		}
		if !res.HasErrors() || len(kept) >= maxErrors {
			break
		}
	}
	return finishRecovery(res, kept), nil
}

// recovery is what error recovery knows of a main file across its rounds.
type recovery struct {
	path    string
	items   []item
	lines   lineTable
	blanked map[int]int // item → 1: body blanked, 2: whole item blanked
}

func newRecovery(path string, src []byte) *recovery {
	return &recovery{path: path, items: topLevelItems(src), lines: newLineTable(src), blanked: map[int]int{}}
}

// round places a compile's errors in the items of the main file and blanks those items in
// src: a body with all its item's errors inside to `{}`, else the whole item. It returns
// the errors to keep; ok is false when an error cannot be placed, or is in an item already
// blanked whole.
func (r *recovery) round(diags []Diagnostic, src []byte) (kept []Diagnostic, ok bool) {
	broken := map[int][]Diagnostic{}
	var atEnd []Diagnostic
	syntax := false
	for _, d := range diags {
		if d.Severity != "error" {
			continue
		}
		// cc stops parsing at the first syntax error, and what it says after it
		// (the next item "expected ';'", an early end of file) is noise.
		if strings.HasPrefix(d.Message, "unexpected ") {
			if syntax {
				continue
			}
			syntax = true
		}
		if d.Range.Start.File != r.path || d.unplaced {
			return nil, false
		}
		off := r.lines.offset(d.Range.Start.Line, d.Range.Start.Col)
		if len(r.items) > 0 && off >= r.items[len(r.items)-1].end {
			atEnd = append(atEnd, d)
			continue
		}
		i := itemAt(r.items, off)
		if i < 0 || r.blanked[i] == 2 {
			return nil, false
		}
		broken[i] = append(broken[i], d)
	}
	// An error past the last item (an early end of file) follows from one before it, a
	// macro invocation or comment left open, when there is one; else it is the last item's.
	if len(broken) > 0 {
		kept = append(kept, atEnd...)
	} else if len(atEnd) > 0 {
		if i := len(r.items) - 1; i >= 0 && r.blanked[i] != 2 {
			broken[i] = atEnd
		} else {
			return nil, false
		}
	}
	for i, ds := range broken {
		kept = append(kept, withoutCascades(ds)...)
		it := r.items[i]
		inBody := it.bodyStart >= 0 && r.blanked[i] == 0
		for _, d := range ds {
			off := r.lines.offset(d.Range.Start.Line, d.Range.Start.Col)
			inBody = inBody && off >= it.bodyStart && off < it.bodyEnd
		}
		if inBody {
			blank(src, it.bodyStart, it.bodyEnd)
			r.blanked[i] = 1
		} else {
			blank(src, it.start, it.end)
			r.blanked[i] = 2
		}
	}
	return kept, true
}

// finishRecovery gives res the errors of the earlier rounds, in order, at most maxErrors
// of them and then clang's note.
func finishRecovery(res *Result, kept []Diagnostic) *Result {
	var warnings []Diagnostic
	for _, d := range res.Diagnostics {
		if d.Severity == "error" {
			kept = append(kept, d)
		} else {
			warnings = append(warnings, d)
		}
	}
	seen := map[string]bool{}
	var errs []Diagnostic
	for _, d := range kept {
		k := d.Range.Start.String() + "\x00" + d.Message
		if !seen[k] {
			seen[k] = true
			errs = append(errs, d)
		}
	}
	sort.SliceStable(errs, func(i, j int) bool {
		a, b := errs[i].Range.Start, errs[j].Range.Start
		if a.File != b.File {
			return fileBefore(a.File, b.File, res.Path)
		}
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
	if len(errs) > maxErrors {
		note := errs[maxErrors]
		note.Message = fmt.Sprintf("too many errors emitted, stopping now (corels shows the first %d, as clang's -ferror-limit)", maxErrors)
		note.Range.End = note.Range.Start
		errs = append(errs[:maxErrors], note)
	}
	out := *res
	out.Diagnostics = append(errs, warnings...)
	return &out
}

// withoutCascades drops errors that only follow from another one of the same item
// ("invalid operands: int and <invalid type>" after "undefined: x").
func withoutCascades(ds []Diagnostic) []Diagnostic {
	var out []Diagnostic
	for _, d := range ds {
		if !strings.Contains(d.Message, "<invalid type>") {
			out = append(out, d)
		}
	}
	if len(out) == 0 && len(ds) > 0 {
		out = ds[:1]
	}
	return out
}

// fileBefore orders the files of a translation unit's results: the main file first, then
// the headers by path.
func fileBefore(a, b, main string) bool {
	return a == main || b != main && a < b
}

// blank replaces src[start:end] with spaces, keeping newlines so that positions hold.
func blank(src []byte, start, end int) {
	for i := start; i < end && i < len(src); i++ {
		if src[i] != '\n' {
			src[i] = ' '
		}
	}
}

// item is a top-level declaration or function definition of a source file, by byte
// offsets; bodyStart/bodyEnd bound a function body's inside (between its braces), -1 when
// the item has none.
type item struct {
	start, end         int
	bodyStart, bodyEnd int
}

func itemAt(items []item, off int) int {
	i := sort.Search(len(items), func(i int) bool { return items[i].end > off })
	if i < len(items) && items[i].start <= off {
		return i
	}
	return -1
}

// topLevelItems splits C source into top-level items on its text: an item ends at a `;`
// outside brackets, or at the `}` closing a body that follows a `)` (a function
// definition, macros such as BPF_KPROBE(...) { ... } included), or at a `}` in the first
// column. Preprocessor directives, comments and literals are skipped. An unterminated item
// runs to the end.
func topLevelItems(src []byte) []item {
	return scanItems(src, 0, -1)
}

// scanItems is topLevelItems from src[from:], where an item starts, stopping after limit
// items (limit < 0: none).
func scanItems(src []byte, from, limit int) []item {
	var out []item
	cur := item{start: -1, bodyStart: -1, bodyEnd: -1}
	depth, paren := 0, 0
	funcLike := false
	var prev byte // the last significant character
	lineStart := true
	for i := from; i < len(src) && len(out) != limit; i++ {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			continue
		case c == '#' && lineStart:
			i = directiveEnd(src, i)
			lineStart = true
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i+1 < len(src) && src[i+1] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			if end := blockCommentEnd(src, i); end < 0 {
				i = len(src)
			} else {
				i = end - 1
			}
			continue
		}
		lineStart = false
		if cur.start < 0 {
			cur.start = i
		}
		switch c {
		case '"', '\'':
			for i++; i < len(src) && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case '(', '[':
			paren++
		case ')', ']':
			if paren > 0 {
				paren--
			}
		case '{':
			if depth == 0 && paren == 0 {
				funcLike = prev == ')'
				if funcLike {
					cur.bodyStart = i + 1
				}
			}
			depth++
		case '}':
			if (depth > 1 || paren > 0) && (i == 0 || src[i-1] == '\n') {
				// A brace in the first column closes a top-level item however many
				// brackets a half-typed line left open before it: only the function the
				// programmer is typing in is broken, not everything after it.
				depth, paren = 1, 0
			}
			if depth > 0 {
				depth--
			}
			if depth == 0 && paren == 0 && funcLike {
				cur.bodyEnd, cur.end = i, i+1
				out = append(out, cur)
				cur, funcLike = item{start: -1, bodyStart: -1, bodyEnd: -1}, false
				prev = 0
				continue
			}
		case ';':
			if depth == 0 && paren == 0 {
				cur.end = i + 1
				if !funcLike {
					cur.bodyStart = -1
				}
				out = append(out, cur)
				cur, funcLike = item{start: -1, bodyStart: -1, bodyEnd: -1}, false
				prev = 0
				continue
			}
		}
		prev = c
	}
	if cur.start >= 0 {
		cur.end = len(src)
		if cur.bodyStart >= 0 {
			cur.bodyEnd = len(src)
		}
		out = append(out, cur)
	}
	return out
}

// blockCommentEnd is the index just past the `*/` closing the comment opened at s[i:i+2],
// or -1 when nothing closes it. (Without the copy strings.Index(string(src[i+2:]), "*/")
// made of the rest of a []byte source at every comment.)
func blockCommentEnd[T string | []byte](s T, i int) int {
	for j := i + 2; j+1 < len(s); j++ {
		if s[j] == '*' && s[j+1] == '/' {
			return j + 2
		}
	}
	return -1
}

// directiveEnd is where the preprocessor directive starting at src[i] ends: at the newline
// that is not spliced, or at the end of src.
func directiveEnd[T string | []byte](src T, i int) int {
	for i < len(src) && src[i] != '\n' {
		if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n' {
			i++
		}
		i++
	}
	return i
}
