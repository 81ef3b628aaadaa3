package compiler

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"modernc.org/cc/v4"
)

// Headers written by `bpftool btf dump format c` (vmlinux.h): indexed without cc.
//
// A vmlinux.h is 2–6 MB of type definitions; cc/v4 parses one into ~130 MB of syntax tree
// in about a second, and a preamble needs only its index (what each declaration declares
// and refers to, and its text). bpftool writes a small regular subset of C: at column 0,
// `struct`/`union`/`enum`/`typedef` items ending in `;`, inside one include guard and one
// preserve_access_index pragma. So a preamble build scans such a header itself, and cc
// parses only the declarations the other headers need, from a copy of the header with the
// rest blanked (newlines kept, so every offset and line is the file's). Declarations that
// name a macro of any header read are parsed by cc too, since a macro could change them.
// TestBpftoolIndexEqualsCC holds the two indexes identical on real vmlinux.h files.

// scanBpftool turns the scan on; tests turn it off to compare with cc's index.
var scanBpftool = true

// bpftoolDecl is one top-level declaration of a bpftool header, by byte offsets.
type bpftoolDecl struct {
	start, end int // from its first character to just after its ';'
	line       int
	declares   []string
	refs       []string // neededNames of its text
}

// bpftoolGuard is how every bpftool header starts.
const bpftoolGuard = "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n"

// scanBpftoolHeader indexes a bpftool header. ok is false when the text strays from what
// bpftool writes (then cc parses it as any header).
func scanBpftoolHeader(src []byte) (decls []bpftoolDecl, ok bool) {
	if !bytes.HasPrefix(src, []byte(bpftoolGuard)) {
		return nil, false
	}
	line := 1
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == ' ' || c == '\t' || c == '\r':
			i++
		case c == '#':
			// A directive: only the guard's and the pragma's; no continuation lines.
			end := bytes.IndexByte(src[i:], '\n')
			if end < 0 {
				end = len(src) - i
			}
			if !bpftoolDirective.Match(src[i : i+end]) {
				return nil, false
			}
			i += end
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := blockCommentEnd(src, i)
			if end < 0 {
				return nil, false
			}
			line += bytes.Count(src[i:end], []byte("\n"))
			i = end
		case isIdentByte(c):
			end, lines, good := bpftoolItemEnd(src, i)
			if !good {
				return nil, false
			}
			names, good := bpftoolDeclares(string(src[i:end]))
			if !good {
				return nil, false
			}
			decls = append(decls, bpftoolDecl{start: i, end: end, line: line, declares: names})
			line += lines
			i = end
		default:
			return nil, false
		}
	}
	return decls, true
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
func bpftoolDeclares(text string) ([]string, bool) {
	toks := cTokens(text)
	var names []string
	i, ok := bpftoolSpecifiers(toks, 0, &names)
	if !ok {
		return nil, false
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
			return nil, false
		}
		names = append(names, name)
		if i < len(toks) && toks[i] == "," {
			i++
		}
	}
	return names, true
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

// cTokens splits declaration text into identifiers, numbers and one-character
// punctuators (enough for bpftool's output: what matters are names and brackets).
func cTokens(text string) []string {
	var out []string
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

// bpftoolHeaders finds the bpftool headers among the files a preprocessor run read, with
// their index.
type bpftoolHeaders map[string][]bpftoolDecl

// pruneBpftoolHeaders returns, for each bpftool header, the copy cc is given: the
// declarations reached from names (closed over what declarations need), and those that
// name one of macros, kept; every other declaration blanked.
func pruneBpftoolHeaders(hdrs bpftoolHeaders, texts map[string][]byte, names map[string]bool, macros map[string]bool) map[string][]byte {
	out := map[string][]byte{}
	for path, decls := range hdrs {
		src := texts[path]
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
			if i == 0 {
				visit(i) // an anchor: where the header's declarations go in translation order
			}
			scanIdents(string(src[d.start:d.end]), func(s, e int) {
				if macros[string(src[d.start+s:d.start+e])] {
					visit(i)
				}
			})
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
		out[path] = blankBetween(src, decls, keep)
	}
	return out
}

// bpftoolStub is a bpftool header's directives alone: for the preprocessor run that finds
// which names the other headers use.
func bpftoolStub(src []byte) []byte {
	var b bytes.Buffer
	for _, l := range bytes.SplitAfter(src, []byte("\n")) {
		if bytes.HasPrefix(l, []byte("#")) {
			b.Write(l)
		}
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
	key := ""
	if stamp != "" {
		key = internKey(path, stamp, d.start, d.end, preserve)
		if old := in.decl(key); old != nil {
			return old
		}
	}
	text := src[d.start:d.end]
	pd := &ppDecl{file: path, line: d.line, preserve: preserve, text: text, declares: d.declares, refs: d.refs}
	if key != "" {
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
		data  []byte
		decls []bpftoolDecl
		ok    bool
		done  chan struct{}
	}
	scans := map[string]*scan{}
	var others [][]byte
	o.open = func(name string, data []byte) []byte {
		if !bytes.HasPrefix(data, []byte(bpftoolGuard)) {
			others = append(others, data)
			return data
		}
		// Scanned on the other core while the preprocessor reads the other headers.
		sc := &scan{data: data, done: make(chan struct{})}
		scans[name] = sc
		go func() {
			defer close(sc.done)
			sc.decls, sc.ok = scanBpftoolHeader(data)
			if sc.ok {
				for i := range sc.decls {
					d := &sc.decls[i]
					d.refs = declNeededNames(string(data[d.start:d.end]))
				}
			}
		}()
		return bpftoolStub(data)
	}
	var out strings.Builder
	func() {
		defer func() { recover() }() // the translation that follows reports what went wrong
		_ = cc.Preprocess(cfg, sources, &out)
	}()
	o.open = nil
	hdrs = bpftoolHeaders{}
	originals := map[string][]byte{}
	for name, sc := range scans {
		<-sc.done
		if sc.ok {
			hdrs[name], originals[name] = sc.decls, sc.data
		}
	}
	if len(hdrs) == 0 {
		return nil
	}
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
	o.served = pruneBpftoolHeaders(hdrs, originals, namesUsed(out.String()), macros)
	return hdrs
}

// matches reports whether every declaration cc parsed in a bpftool header starts where
// the scan found one.
func (h bpftoolHeaders) matches(ast *cc.AST) bool {
	starts := map[string]map[int]bool{}
	for file, decls := range h {
		starts[file] = map[int]bool{}
		for _, d := range decls {
			starts[file][d.start] = true
		}
	}
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		pos := l.ExternalDeclaration.Position()
		if s, ok := starts[pos.Filename]; ok && !s[pos.Offset] {
			return false
		}
	}
	return true
}

// blankBetween is src with the declarations not kept blanked, offsets unchanged. cc's
// preprocessor pays for every line, blank or not: each run of blanked declarations is
// spaces on one line, then a #line directive that puts the next line at its number.
func blankBetween(src []byte, decls []bpftoolDecl, keep []bool) []byte {
	cp := append([]byte(nil), src...)
	var newlines []int
	for k, c := range src {
		if c == '\n' {
			newlines = append(newlines, k)
		}
	}
	lineAt := func(off int) int { return 1 + sort.SearchInts(newlines, off) }
	for i := 0; i < len(decls); {
		if keep[i] {
			i++
			continue
		}
		j := i
		for j < len(decls) && !keep[j] {
			j++
		}
		// Blank from the start of decls[i] to the start of the next kept one (or the end
		// of the last blanked), keeping the directives in between.
		start, end := decls[i].start, decls[j-1].end
		if j < len(decls) {
			end = decls[j].start
		}
		blankRun(cp, src, start, end, lineAt)
		i = j
	}
	return cp
}

// blankRun blanks src[start:end] in cp, except directive lines, as spaces and one
// #line directive before each line that must keep its number.
func blankRun(cp, src []byte, start, end int, lineAt func(int) int) {
	for start < end {
		// Up to the next directive line, or end.
		next := end
		if k := bytes.Index(src[start:end], []byte("\n#")); k >= 0 {
			next = start + k + 1
		}
		seg := cp[start:next]
		for k := range seg {
			seg[k] = ' '
		}
		// The segment ends where a line starts: mark its number with a #line that fits
		// in the segment's last bytes ("\n#line N\n").
		if next < len(src) && bytes.Count(src[start:next], []byte("\n")) > 0 {
			dir := fmt.Sprintf("\n#line %d\n", lineAt(next))
			if len(dir) <= len(seg) {
				copy(seg[len(seg)-len(dir):], dir)
			} else {
				// Too short to hold the directive: keep its newlines instead.
				for k := range seg {
					if src[start+k] == '\n' {
						seg[k] = '\n'
					}
				}
			}
		}
		if next == end {
			return
		}
		// Keep the directive line.
		eol := bytes.IndexByte(src[next:end], '\n')
		if eol < 0 {
			return
		}
		start = next + eol + 1
	}
}
