package lsp

import "github.com/corels/corels/compiler"

// A small C tokenizer for what the server reads without the compiler: the outline of a
// file (SEC programs, maps) while it does not parse, its #include lines, and the
// declarations in headers that go-to-definition jumps to. It does not preprocess.

type tokKind uint8

const (
	tIdent tokKind = iota + 1
	tNumber
	tString
	tChar
	tPunct
	tDirective // a whole preprocessor line, continuations included
)

type token struct {
	kind     tokKind
	off, end int
}

func (t token) text(src []byte) string { return string(src[t.off:t.end]) }

func (t token) is(src []byte, s string) bool {
	return t.end-t.off == len(s) && string(src[t.off:t.end]) == s
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '$'
}

func isIdentChar(c byte) bool { return isIdentStart(c) || c >= '0' && c <= '9' }

// tooLarge reports whether a document is past what corels analyses: the features that
// lex the whole document answer nothing for it, as the compiler does (a 10 MB document
// lexed once per request cost ~130 MB each).
func tooLarge(doc []byte) bool { return len(doc) > compiler.MaxSourceSize }

// lex tokenizes src. It never fails: unterminated comments, strings and stray bytes end
// at the end of the line or the text.
func lex(src []byte) []token {
	toks := make([]token, 0, len(src)/5)
	lineStart := true // only blanks since the last newline
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			i++
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
			continue
		case c == '\\' && i+1 < len(src) && src[i+1] == '\n':
			i += 2
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
			continue
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := i + 2
			for j+1 < len(src) && !(src[j] == '*' && src[j+1] == '/') {
				j++
			}
			if j+1 < len(src) {
				i = j + 2
			} else {
				i = len(src)
			}
			continue
		}
		start := i
		kind := tPunct
		switch {
		case c == '#' && lineStart:
			kind = tDirective
			for i < len(src) && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n' {
					i += 2
					continue
				}
				if src[i] == '/' && i+1 < len(src) && src[i+1] == '*' {
					// a comment may span lines inside a directive
					j := i + 2
					for j+1 < len(src) && !(src[j] == '*' && src[j+1] == '/') {
						j++
					}
					i = min(j+2, len(src))
					continue
				}
				i++
			}
		case isIdentStart(c):
			kind = tIdent
			for i < len(src) && isIdentChar(src[i]) {
				i++
			}
		case c >= '0' && c <= '9' || c == '.' && i+1 < len(src) && src[i+1] >= '0' && src[i+1] <= '9':
			kind = tNumber
			for i < len(src) {
				d := src[i]
				if (d == '+' || d == '-') && (src[i-1] == 'e' || src[i-1] == 'E' || src[i-1] == 'p' || src[i-1] == 'P') {
					i++
					continue
				}
				if !isIdentChar(d) && d != '.' {
					break
				}
				i++
			}
		case c == '"' || c == '\'':
			kind = tString
			if c == '\'' {
				kind = tChar
			}
			i++
			for i < len(src) && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' && i+1 < len(src) {
					i++
				}
				i++
			}
			if i < len(src) && src[i] == c {
				i++
			}
		case c == '-' && i+1 < len(src) && src[i+1] == '>':
			i += 2
		case c == '.' && i+2 < len(src) && src[i+1] == '.' && src[i+2] == '.':
			i += 3
		default:
			i++
		}
		lineStart = false
		toks = append(toks, token{kind: kind, off: start, end: i})
	}
	return toks
}

// matching returns the index of the token closing the bracket at toks[i] ("(", "[" or
// "{"), or len(toks) when it is not closed.
func matching(src []byte, toks []token, i int) int {
	open := src[toks[i].off]
	var close byte
	switch open {
	case '(':
		close = ')'
	case '[':
		close = ']'
	case '{':
		close = '}'
	default:
		return i
	}
	depth := 0
	for j := i; j < len(toks); j++ {
		if toks[j].kind != tPunct || toks[j].end-toks[j].off != 1 {
			continue
		}
		switch src[toks[j].off] {
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(toks)
}

// punct reports whether t is the one-character punctuator c.
func punct(src []byte, t token, c byte) bool {
	return t.kind == tPunct && t.end-t.off == 1 && src[t.off] == c
}

// tokenAt returns the index of the identifier token containing or ending at off, or -1.
func tokenAt(toks []token, off int) int {
	lo, hi := 0, len(toks)
	for lo < hi {
		mid := (lo + hi) / 2
		if toks[mid].end < off {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	for i := lo; i < len(toks) && toks[i].off <= off; i++ {
		if toks[i].kind == tIdent && toks[i].off <= off && off <= toks[i].end {
			return i
		}
	}
	return -1
}
