package main

import (
	"fmt"
	"strings"
)

// body is a function body of the main file: the offsets of its braces.
type body struct{ open, close int }

// site is where the edit script types: a variant v becomes before+v+after at pos.
type site struct {
	pos           int
	before, after string
}

// functionBodies finds the bodies of the file's function definitions: top-level braces
// that follow a ')' (a parameter list, BPF_PROG(...), an attribute), as opposed to those of
// records, enums and initializers.
func functionBodies(src string) []body {
	var out []body
	depth, open := 0, -1
	var last byte // the last significant byte at depth 0
	significant(src, 0, len(src), func(i int, c byte) {
		switch c {
		case '{':
			if depth == 0 && last == ')' {
				open = i
			}
			depth++
		case '}':
			depth = max(depth-1, 0)
			if depth == 0 && open >= 0 {
				out = append(out, body{open, i})
				open = -1
			}
		}
		if depth == 0 {
			last = c
		}
	})
	return out
}

// significant calls f with each byte of src[from:to] that is C code: not blank, not in a
// comment or a directive line (macro bodies have braces); of a string or character
// constant, only its opening quote.
func significant(src string, from, to int, f func(i int, c byte)) {
	lineStart := from == 0 || src[from-1] == '\n'
	for i := from; i < to; i++ {
		c := src[i]
		switch {
		case c == '\n':
			lineStart = true
			continue
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			continue
		case c == '#' && lineStart:
			for i < to && (src[i] != '\n' || src[i-1] == '\\') {
				i++
			}
			i-- // the newline starts the next line
			continue
		case strings.HasPrefix(src[i:to], "//"):
			for i < to && src[i] != '\n' {
				i++
			}
			i--
			continue
		case strings.HasPrefix(src[i:to], "/*"):
			end := strings.Index(src[i+2:to], "*/")
			if end < 0 {
				return
			}
			i += end + 3
			continue
		}
		lineStart = false
		f(i, c)
		if c == '"' || c == '\'' {
			for i++; i < to && src[i] != c && src[i] != '\n'; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		}
	}
}

// lastReturn is the site before the body's last return that starts a statement of the
// body itself (not one governed by an if, an else or a label), else before the closing
// brace.
func lastReturn(src string, b body) site {
	text := src[:b.close]
	for from := b.close; ; {
		at := strings.LastIndex(text[b.open:from], "return")
		if at < 0 {
			return endOfBody(src, b)
		}
		at += b.open
		from = at
		if !isIdentByte(src[at-1]) && !isIdentByte(src[at+len("return")]) && isCode(src, b.open, at) &&
			braceDepth(src, b.open, at) == 1 && strings.ContainsAny(prevSignificant(src, at), ";{}") {
			return siteAt(src, at)
		}
	}
}

// firstStatement is the site before whatever the body starts with.
func firstStatement(src string, b body) site {
	i := b.open + 1
	for i < b.close && strings.ContainsRune(" \t\r\n", rune(src[i])) {
		i++
	}
	return siteAt(src, i)
}

// siteAt is the site before the statement at pos, the new one indented as it is.
func siteAt(src string, pos int) site {
	ls := strings.LastIndexByte(src[:pos], '\n') + 1
	indent := src[ls:pos]
	if strings.TrimLeft(indent, " \t") != "" {
		indent = "\t"
	}
	return site{pos: pos, after: "\n" + indent}
}

// endOfBody is the site on a line of its own before the body's closing brace.
func endOfBody(src string, b body) site {
	ls := strings.LastIndexByte(src[:b.close], '\n') + 1
	if strings.TrimLeft(src[ls:b.close], " \t") != "" {
		return site{pos: b.close, before: "\n\t", after: "\n"}
	}
	return site{pos: ls, before: "\t", after: "\n"}
}

// isCode tells whether the byte at is code (not in a comment, string or directive), for
// code starting at from.
func isCode(src string, from, at int) bool {
	code := false
	significant(src, from, at+1, func(i int, _ byte) { code = code || i == at })
	return code
}

// braceDepth is the brace nesting at to of code starting at from.
func braceDepth(src string, from, to int) int {
	depth := 0
	significant(src, from, to, func(_ int, c byte) {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
		}
	})
	return depth
}

// prevSignificant is the last byte before pos that is not blank, in a comment or in a
// directive line, as a string.
func prevSignificant(src string, pos int) string {
	s := src[:pos]
	for {
		s = strings.TrimRight(s, " \t\r\n")
		line := s[strings.LastIndexByte(s, '\n')+1:]
		switch t := strings.TrimLeft(line, " \t"); {
		case strings.HasPrefix(t, "#") || strings.HasPrefix(t, "//"):
			s = s[:len(s)-len(line)]
		case strings.HasSuffix(s, "*/") && strings.Contains(s, "/*"):
			s = s[:strings.LastIndex(s, "/*")]
		case s == "":
			return ""
		default:
			return s[len(s)-1:]
		}
	}
}

func isIdentByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// editSites are the two places the script types at: before the last function's final
// return, and at the top of the function nearest the middle of the file (the only
// function's top when there is one), since real editing happens everywhere.
func editSites(src string) ([2]site, error) {
	bodies := functionBodies(src)
	if len(bodies) == 0 {
		return [2]site{}, fmt.Errorf("no function definition found")
	}
	lastBody := bodies[len(bodies)-1]
	middle := lastBody
	if len(bodies) > 1 {
		mid := len(src) / 2
		middle = bodies[0]
		for _, b := range bodies[:len(bodies)-1] {
			if abs(b.open-mid) < abs(middle.open-mid) {
				middle = b
			}
		}
	}
	return [2]site{lastReturn(src, lastBody), firstStatement(src, middle)}, nil
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editVariants are the texts typed at a site, in order; the script goes through them and
// is back to the original text after each round. The CO-RE read is BPF_CORE_READ when the
// file includes libbpf's bpf_core_read.h, else the builtin it expands to, so every variant
// but the half-typed one compiles cleanly with clang.
func editVariants(src string) []string {
	const task = "struct task_struct *t_ = (void *)bpf_get_current_task();"
	read := "BPF_CORE_READ(t_, tgid)"
	if !strings.Contains(src, "bpf_core_read.h") {
		read = "({ int v_ = 0; bpf_probe_read_kernel(&v_, sizeof(v_), __builtin_preserve_access_index(&t_->tgid)); v_; })"
	}
	return []string{
		`bpf_printk("edit");`, // a statement inserted
		"",                    // and deleted
		"{ " + task + ` bpf_printk("%d", ` + read + "); }", // a CO-RE read added
		"{ " + task + ` bpf_printk("%d", t_->tg`,           // a member access half typed
		"{ " + task + ` bpf_printk("%d", t_->tgid); }`,     // completed as a direct read
		"",
	}
}

// editScript returns the file's text after each of n successive edits: each round of
// editVariants is typed at one of editSites, alternately (the last function, then one in
// the middle of the file).
func editScript(src string, n int) ([]string, error) {
	sites, err := editSites(src)
	if err != nil {
		return nil, err
	}
	variants := editVariants(src)
	out := make([]string, n)
	for i := range out {
		s := sites[(i/len(variants))%len(sites)]
		out[i] = src
		if v := variants[i%len(variants)]; v != "" {
			out[i] = src[:s.pos] + s.before + v + s.after + src[s.pos:]
		}
	}
	return out, nil
}
