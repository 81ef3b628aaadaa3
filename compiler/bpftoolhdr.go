package compiler

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// Headers written by `bpftool btf dump format c` (vmlinux.h): indexed without cc.
//
// A vmlinux.h is 2–6 MB of type definitions; cc/v4 parses one into ~130 MB of syntax tree
// in about a second, and a preamble needs only its index (what each declaration declares
// and refers to, and its text). bpftool writes a small regular subset of C: at column 0,
// `struct`/`union`/`enum`/`typedef` items ending in `;`, inside one include guard and one
// preserve_access_index pragma. So a preamble build scans such a header itself, and cc
// parses only the declarations the other headers need, from a copy of the header that
// holds them and its directives, each at its own line and column (offsetMap takes the
// copy's offsets back to the file's). Declarations that name a macro of any header read
// are parsed by cc too, since a macro could change them. TestBpftoolIndexEqualsCC holds
// the two indexes identical on real vmlinux.h files.

// scanBpftool turns the scan on; tests turn it off to compare with cc's index.
var scanBpftool = true

// bpftoolDecl is one top-level declaration of a bpftool header, by byte offsets.
type bpftoolDecl struct {
	start, end int // from its first character to just after its ';'
	line       int
	declares   []string
	refs       []string // neededNames of its text
	namesMacro bool     // an identifier of it is a macro of a header read: cc parses it
}

// bpftoolHeader is the scan of a bpftool header and, once pruned, where the declarations
// and directives cc is given stand in the file.
type bpftoolHeader struct {
	text       string // the file's, which the declarations' names point into
	decls      []bpftoolDecl
	directives []bpftoolSpan
	served     offsetMap
}

// bpftoolSpan is a directive: from its '#' to the end of its line, without the newline.
type bpftoolSpan struct{ start, end, line int }

// bpftoolGuard is how every bpftool header starts.
const bpftoolGuard = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"

// scanBpftoolHeader indexes a bpftool header. ok is false when the text strays from what
// bpftool writes (then cc parses it as any header).
func scanBpftoolHeader(src []byte) (h *bpftoolHeader, ok bool) {
	if !bytes.HasPrefix(src, []byte(bpftoolGuard)) {
		return nil, false
	}
	h = &bpftoolHeader{text: string(src), decls: make([]bpftoolDecl, 0, len(src)/200)}
	var toks []string // cTokens' buffer, reused for every declaration
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
			lineStart = i
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			// A directive: only the guard's and the pragma's, first on its line; no
			// continuation lines.
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			if !bpftoolDirective.Match(src[i:i+end]) || len(bytes.TrimLeft(src[lineStart:i], " \t\r")) > 0 {
				return nil, false
			}
			h.directives = append(h.directives, bpftoolSpan{i, i + end, line})
			i += end
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := blockCommentEnd(src, i)
			if end < 0 {
				return nil, false
			}
			if n := bytes.Count(src[i:end], []byte("\n")); n > 0 {
				line += n
				lineStart = bytes.LastIndexByte(src[:end], '\n') + 1
			}
			i = end
		case isIdentByte(c):
			end, lines, good := bpftoolItemEnd(src, i)
			if !good {
				return nil, false
			}
			var names []string
			names, toks, good = bpftoolDeclares(h.text[i:end], toks[:0])
			if !good {
				return nil, false
			}
			h.decls = append(h.decls, bpftoolDecl{start: i, end: end, line: line, declares: names})
			if lines > 0 {
				line += lines
				lineStart = bytes.LastIndexByte(src[:end], '\n') + 1
			}
			i = end
		default:
			return nil, false
		}
	}
	return h, true
}

var bpftoolDirective = regexp.MustCompile(`^#(ifndef|define|endif|pragma clang attribute (push|pop))\b[^\\]*$`)

// bpftoolItemEnd finds the ';' that ends the item starting at i, at brace and parenthesis
// depth 0; the text may hold no literal, comment or directive.
func bpftoolItemEnd(src []byte, i int) (end, lines int, ok bool) {
	depth := 0
	for j := i; j < len(src); j++ {
		switch src[j] {
		case '{', '(', '[':
			depth++
		case '}', ')', ']':
			depth--
			if depth < 0 {
				return 0, 0, false
			}
		case ';':
			if depth == 0 {
				return j + 1, lines, true
			}
		case '\n':
			lines++
		case '"', '\'', '#', '/', '\\':
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// bpftoolDeclares lists the names a bpftool declaration introduces, in the order
// declaredNames gives them for cc's syntax tree: the tags of definitions and their
// enumerators, depth first through members, then the declarators.
// toks is a buffer for its tokens, returned for the next call.
func bpftoolDeclares(text string, toks []string) (names, buf []string, ok bool) {
	toks = cTokens(text, toks)
	i, ok := bpftoolSpecifiers(toks, 0, &names)
	if !ok {
		return nil, toks, false
	}
	// Declarators (typedefs): the first identifier of each, at any nesting of `(` and `*`
	// before it; what follows it (arrays, parameter lists) is skipped.
	for i < len(toks) && toks[i] != ";" {
		name := ""
		depth := 0
		for ; i < len(toks); i++ {
			t := toks[i]
			if depth == 0 && (t == "," || t == ";") {
				break
			}
			switch {
			case t == "(" || t == "[" || t == "{":
				depth++
			case t == ")" || t == "]" || t == "}":
				depth--
			case name == "" && isIdentToken(t) && !declaratorKeyword[t]:
				name = t
			}
		}
		if name == "" {
			return nil, toks, false
		}
		names = append(names, name)
		if i < len(toks) && toks[i] == "," {
			i++
		}
	}
	return names, toks, true
}

var declaratorKeyword = map[string]bool{"const": true, "volatile": true, "restrict": true, "__attribute__": true}

// baseTypeWords are the keywords that make a type without naming one.
var baseTypeWords = map[string]bool{
	"void": true, "char": true, "short": true, "int": true, "long": true, "float": true, "double": true,
	"signed": true, "unsigned": true, "_Bool": true, "__int128": true,
}

// bpftoolSpecifiers reads declaration specifiers from toks[i:], appending the names their
// definitions declare; it returns where the declarators start.
func bpftoolSpecifiers(toks []string, i int, names *[]string) (int, bool) {
	typed := false
	for i < len(toks) {
		t := toks[i]
		switch {
		case t == "typedef" || t == "const" || t == "volatile" || t == "static" || t == "extern":
			i++
		case t == "__attribute__":
			i = skipGroup(toks, i+1)
		case baseTypeWords[t]:
			typed = true
			i++
		case t == "struct" || t == "union" || t == "enum":
			typed = true
			i++
			tag := ""
			if i < len(toks) && isIdentToken(toks[i]) && toks[i] != "__attribute__" {
				tag = toks[i]
				i++
			}
			for i < len(toks) && toks[i] == "__attribute__" {
				i = skipGroup(toks, i+1)
			}
			if t == "enum" && i < len(toks) && toks[i] == ":" {
				// enum X : type { ... }
				for i < len(toks) && toks[i] != "{" && toks[i] != ";" {
					i++
				}
			}
			if i >= len(toks) || toks[i] != "{" {
				continue // a mention, not a definition
			}
			if tag != "" {
				*names = append(*names, tag)
			}
			i++
			if t == "enum" {
				// Enumerators: the first token of each comma-separated item.
				expectName := true
				depth := 0
				for ; i < len(toks) && !(depth == 0 && toks[i] == "}"); i++ {
					switch tok := toks[i]; {
					case tok == "(":
						depth++
					case tok == ")":
						depth--
					case depth == 0 && tok == ",":
						expectName = true
					case expectName:
						if !isIdentToken(tok) {
							return 0, false
						}
						*names = append(*names, tok)
						expectName = false
					}
				}
				i++ // '}'
				continue
			}
			// Members: specifiers (which may define more), then declarators to ';'.
			for i < len(toks) && toks[i] != "}" {
				var ok bool
				if i, ok = bpftoolSpecifiers(toks, i, names); !ok {
					return 0, false
				}
				depth := 0
				for ; i < len(toks) && !(depth == 0 && toks[i] == ";"); i++ {
					switch toks[i] {
					case "(", "[", "{":
						depth++
					case ")", "]", "}":
						depth--
					}
					if depth < 0 {
						return 0, false
					}
				}
				i++ // ';'
			}
			i++ // '}'
		case isIdentToken(t) && !typed:
			typed = true // a typedef name
			i++
		default:
			return i, true
		}
	}
	return i, true
}

// skipGroup skips a parenthesized group starting at toks[i] ("((packed))").
func skipGroup(toks []string, i int) int {
	depth := 0
	for ; i < len(toks); i++ {
		switch toks[i] {
		case "(":
			depth++
		case ")":
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return i
}

func isIdentToken(t string) bool {
	return t != "" && (t[0] == '_' || t[0] >= 'a' && t[0] <= 'z' || t[0] >= 'A' && t[0] <= 'Z')
}

// cTokens appends to out the identifiers, numbers and one-character punctuators of
// declaration text (enough for bpftool's output: what matters are names and brackets).
func cTokens(text string, out []string) []string {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case isIdentByte(c):
			j := i + 1
			for j < len(text) && (isIdentByte(text[j]) || c >= '0' && c <= '9' && text[j] == '.') {
				j++
			}
			out = append(out, text[i:j])
			i = j
		case c == '.' && strings.HasPrefix(text[i:], "..."):
			out = append(out, "...")
			i += 3
		default:
			out = append(out, text[i:i+1])
			i++
		}
	}
	return out
}

// bpftoolHeaders are the bpftool headers among the files a preprocessor run read, by path.
type bpftoolHeaders map[string]*bpftoolHeader

// pruneBpftoolHeaders returns, for each bpftool header, the copy cc is given: the
// declarations reached from names (closed over what declarations need), and those that
// name a macro, with the header's directives; it sets each header's served map.
func pruneBpftoolHeaders(hdrs bpftoolHeaders, names map[string]bool) map[string][]byte {
	out := map[string][]byte{}
	for path, h := range hdrs {
		decls := h.decls
		byName := map[string][]int{}
		for i, d := range decls {
			for _, n := range d.declares {
				byName[n] = append(byName[n], i)
			}
		}
		keep := make([]bool, len(decls))
		var queue []int
		visit := func(i int) {
			if !keep[i] {
				keep[i] = true
				queue = append(queue, i)
			}
		}
		for i, d := range decls {
			if i == 0 || d.namesMacro {
				visit(i) // the first: an anchor, where the header's declarations go in translation order
			}
		}
		for n := range names {
			for _, i := range byName[n] {
				visit(i)
			}
		}
		for len(queue) > 0 {
			i := queue[0]
			queue = queue[1:]
			d := decls[i]
			for _, r := range d.refs {
				for _, j := range byName[r] {
					visit(j)
				}
			}
		}
		out[path], h.served = compactKept(h, keep)
	}
	return out
}

// bpftoolStub is a bpftool header's directives alone: for the preprocessor run that finds
// which names the other headers use.
func bpftoolStub(src []byte) []byte {
	var b bytes.Buffer
	for i := 0; i < len(src); {
		if src[i] == '#' {
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				b.Write(src[i:])
				break
			}
			b.Write(src[i : i+end+1])
			i += end + 1
			continue
		}
		// The next line that starts with '#': found without splitting the header into lines.
		k := bytes.Index(src[i:], []byte("\n#"))
		if k < 0 {
			break
		}
		i += k + 1
	}
	return b.Bytes()
}

// namesUsed are the identifiers of preprocessed text.
func namesUsed(text string) map[string]bool {
	names := map[string]bool{}
	scanIdents(text, func(s, e int) { names[text[s:e]] = true })
	return names
}

// macroNamesIn are the names every #define of the texts defines: a superset of the macros
// a translation can see (conditional blocks included).
func macroNamesIn(texts ...[]byte) map[string]bool {
	out := map[string]bool{}
	for _, t := range texts {
		for _, m := range macroDefLine.FindAllSubmatch(t, -1) {
			out[string(m[1])] = true
		}
	}
	return out
}

// bpftoolPreambleDecl is the index entry of a bpftool declaration not parsed by cc.
func bpftoolPreambleDecl(path string, src string, stamp string, d bpftoolDecl, pragmas *pragmaRanges, in *interner) *ppDecl {
	preserve := pragmas.contains(path, d.start)
	var key declKey
	if stamp != "" {
		key = declKey{path, stamp, d.start, d.end, preserve}
		if old := in.decl(key); old != nil {
			return old
		}
	}
	text := src[d.start:d.end]
	pd := &ppDecl{file: path, line: d.line, preserve: preserve, text: text, declares: d.declares, refs: d.refs}
	if key != (declKey{}) {
		pd = in.share(key, pd)
	}
	return pd
}

// pruneBpftool runs the preprocessor over sources with every bpftool header blanked, to
// learn which names the other headers use, and has o serve each bpftool header to cc
// pruned to what they need. It returns the headers' indexes, nil when there is none.
func (o *overlayFS) pruneBpftool(flags *Flags, sources []cc.Source) (hdrs bpftoolHeaders) {
	if !scanBpftool {
		return nil
	}
	defer func() {
		if r := recover(); r != nil {
			// A bug here costs a whole parse of the header, never a result.
			hdrs, o.served, o.open = nil, nil, nil
		}
	}()
	cfg, err := newConfig(flags, o, nil)
	if err != nil {
		return nil
	}
	type scan struct {
		h    *bpftoolHeader
		ok   bool
		done chan struct{}
	}
	scans := map[string]*scan{}
	var others [][]byte
	o.open = func(name string, data []byte) []byte {
		if !bytes.HasPrefix(data, []byte(bpftoolGuard)) {
			others = append(others, data)
			return data
		}
		// Scanned on the other core while the preprocessor reads the other headers.
		sc := &scan{done: make(chan struct{})}
		scans[name] = sc
		go func() {
			defer close(sc.done)
			sc.h, sc.ok = scanBpftoolHeader(data)
		}()
		return bpftoolStub(data)
	}
	var out strings.Builder
	func() {
		defer func() { recover() }() // the translation that follows reports what went wrong
		_ = cc.Preprocess(cfg, sources, &out)
	}()
	o.open = nil
	builtin, pre := baseDirectives()
	others = append(others, []byte(cfg.Predefined), []byte(builtin), []byte(pre))
	for _, s := range sources {
		switch v := s.Value.(type) {
		case string:
			others = append(others, []byte(v))
		case []byte:
			others = append(others, v)
		}
	}
	macros := macroNamesIn(others...)
	hdrs = bpftoolHeaders{}
	for name, sc := range scans {
		<-sc.done
		if sc.ok {
			indexBpftoolDecls(sc.h, macros)
			hdrs[name] = sc.h
		}
	}
	if len(hdrs) == 0 {
		return nil
	}
	o.served = pruneBpftoolHeaders(hdrs, namesUsed(out.String()))
	return hdrs
}

// indexBpftoolDecls finds the names each declaration of a scanned bpftool header needs,
// and which name one of macros, on every CPU: a vmlinux.h has 15k declarations, and the
// cold start waits for them.
func indexBpftoolDecls(h *bpftoolHeader, macros map[string]bool) {
	text := h.text
	workers := runtime.GOMAXPROCS(0)
	per := (len(h.decls) + workers - 1) / workers
	var wg sync.WaitGroup
	for from := 0; from < len(h.decls); from += per {
		wg.Go(func() {
			for i := from; i < min(from+per, len(h.decls)); i++ {
				d := &h.decls[i]
				t := text[d.start:d.end]
				d.refs = declNeededNames(t)
				d.namesMacro = namesMacro(t, macros)
			}
		})
	}
	wg.Wait()
}

// matches reports whether every declaration cc parsed in a bpftool header starts where
// the scan found one.
func (h bpftoolHeaders) matches(ast *cc.AST) bool {
	starts := map[string]map[int]bool{}
	for file, hdr := range h {
		starts[file] = map[int]bool{}
		for _, d := range hdr.decls {
			starts[file][d.start] = true
		}
	}
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		pos := l.ExternalDeclaration.Position()
		if s, ok := starts[pos.Filename]; ok && !s[h[pos.Filename].served.file(pos.Offset)] {
			return false
		}
	}
	return true
}

// compactKept is the copy of a bpftool header cc is given: its directives and the
// declarations kept, each where it stands in the header as cc sees it (a newline, a
// #line directive and spaces put each at its line and column), and the map from the
// copy's offsets back to the header's. cc pays for every byte it reads, blank or not: a
// vmlinux.h blanked in place cost the profiler's cold start 115 ms more.
func compactKept(h *bpftoolHeader, keep []bool) ([]byte, offsetMap) {
	src := h.text
	var b bytes.Buffer
	var m offsetMap
	line, col := 1, 0 // where the copy's next byte is, as a position of src
	put := func(start, end, atLine int) {
		atCol := start - (strings.LastIndexByte(src[:start], '\n') + 1)
		if line != atLine || col > atCol {
			if col != 0 {
				b.WriteByte('\n')
				line, col = line+1, 0
			}
			if line != atLine {
				fmt.Fprintf(&b, "#line %d\n", atLine)
				line = atLine
			}
		}
		for ; col < atCol; col++ {
			b.WriteByte(' ')
		}
		m = append(m, offsetSpan{at: b.Len(), from: start, n: end - start})
		piece := src[start:end]
		b.WriteString(piece)
		if k := strings.LastIndexByte(piece, '\n'); k >= 0 {
			line, col = atLine+strings.Count(piece, "\n"), len(piece)-k-1
		} else {
			line, col = atLine, atCol+len(piece)
		}
	}
	dirs := h.directives
	for i, d := range h.decls {
		for len(dirs) > 0 && dirs[0].start < d.start {
			put(dirs[0].start, dirs[0].end, dirs[0].line)
			dirs = dirs[1:]
		}
		if keep[i] {
			put(d.start, d.end, d.line)
		}
	}
	for _, d := range dirs {
		put(d.start, d.end, d.line)
	}
	b.WriteByte('\n')
	return b.Bytes(), m
}

// offsetMap takes offsets in a copy made of pieces of a file back to the file's.
type offsetMap []offsetSpan

// offsetSpan is a piece: n bytes copied from the file's offset from to the copy's at.
type offsetSpan struct{ at, from, n int }

// file is the file's offset of the copy's offset off; -1 between pieces.
func (m offsetMap) file(off int) int {
	i := sort.Search(len(m), func(i int) bool { return m[i].at > off }) - 1
	if i < 0 || off >= m[i].at+m[i].n {
		return -1
	}
	return m[i].from + off - m[i].at
}
