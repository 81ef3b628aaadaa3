package compiler

import (
	"strings"
)

// Tags and ordinary names. The closure over names does not tell `struct key` from a
// variable or member named key: every BPF map's `__type(key, u32)` reached struct key,
// and through its members keyring_index_key, key_type, assoc_array and more. A compile
// of one function (slim) tells them apart for the names its main file writes: one the file
// never writes after struct, union or enum, outside its own macros, does not reach a
// declaration that declares it only as a tag. Macros can still make a tag of a bare name
// (`#define S(x) struct x`): when one the compile reaches or defines could, every name
// counts as before. A tag missed anyway is a record missing: when cc's error names it,
// the compile is redone with every record whole and every name as before (compilePruned);
// only pointed to, it is a record incomplete, whose relocations reuse refuses
// (wholeLocals).

// tagKeywords are the keywords a tag follows.
var tagKeywords = map[string]bool{"struct": true, "union": true, "enum": true}

// bareNames are the identifiers of the main file's text src that it writes only as
// ordinary identifiers: never after struct, union or enum, nor in a directive. ok is false
// when a macro of src could make a tag of an identifier.
func bareNames(src []byte) (bare map[string]bool, ok bool) {
	text := string(src)
	spans := directiveSpans(text)
	for _, d := range spans {
		if makesTags(text[d.start:d.end]) {
			return nil, false
		}
	}
	bare = map[string]bool{}
	tagged := scanTags(text, spans, func(id string) { bare[id] = true })
	for id := range tagged {
		delete(bare, id)
	}
	return bare, true
}

// tagUses are the identifiers text writes as tags: after struct, union or enum (and an
// attribute before the tag: struct __attribute__((preserve_access_index)) task_struct),
// and those of the directives at spans, which a macro's replacement may make anything of.
func tagUses(text string, spans []span) map[string]bool {
	return scanTags(text, spans, func(string) {})
}

// scanTags is tagUses, giving other each identifier that is not a tag keyword, in the
// same pass.
func scanTags(text string, spans []span, other func(id string)) map[string]bool {
	tagged := map[string]bool{}
	k := 0
	scanIdents(text, func(start, end int) {
		for k < len(spans) && spans[k].end <= start {
			k++
		}
		id := text[start:end]
		switch {
		case k < len(spans) && spans[k].start <= start:
			tagged[id] = true
		case tagKeywords[id]:
			if tag, _, ok := tagAfter(text, end); ok {
				tagged[tag] = true
			}
			return
		}
		other(id)
	})
	return tagged
}

// tagAfter is the identifier that text writes from i on after white space and attributes
// (`__attribute__((...))`): the tag, when a struct, union or enum keyword ends at i. ok is
// false when something else follows (`{`: an anonymous one).
func tagAfter(text string, i int) (tag string, end int, ok bool) {
	for {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r' || text[i] == '\\') {
			i++
		}
		j := i
		for j < len(text) && isIdentByte(text[j]) {
			j++
		}
		if j == i || text[i] >= '0' && text[i] <= '9' {
			return "", i, false
		}
		if id := text[i:j]; id != "__attribute__" && id != "__attribute" {
			return id, j, true
		}
		// Skip the attribute's parenthesized arguments.
		for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
			j++
		}
		depth := 0
		for ; j < len(text); j++ {
			if text[j] == '(' {
				depth++
			} else if text[j] == ')' {
				if depth--; depth == 0 {
					j++
					break
				}
			} else if depth == 0 {
				break
			}
		}
		i = j
	}
}

// declTags is tagUses of declaration i's text, memoized: declaration texts have no
// directives (their lines are blanked).
func (p *preamble) declTags(i int) map[string]bool {
	if v, ok := p.declTagUses.Load(i); ok {
		return v.(map[string]bool)
	}
	tags := tagUses(p.decls[i].text, nil)
	p.declTagUses.Store(i, tags)
	return tags
}

// directiveSpans are the spans of src's preprocessor directives, continuation lines
// included.
func directiveSpans[T string | []byte](src T) []span {
	var out []span
	lineStart := true
	for i := 0; i < len(src); i++ {
		switch c := src[i]; {
		case c == '\n':
			lineStart = true
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
		case c == '#' && lineStart:
			end := directiveEnd(src, i)
			out = append(out, span{i, end})
			i = end - 1
		default:
			lineStart = false
		}
	}
	return out
}

// makesTags reports whether the #define in text (or any macro definition text, the
// preamble's rendered ones included) may make a tag of an identifier it is given: struct,
// union or enum last in the replacement, before one of its parameters, or before a name
// pasted with ##.
func makesTags(text string) bool {
	i := strings.Index(text, "#define")
	if i < 0 {
		return false
	}
	text = text[i+len("#define"):]
	params := map[string]bool{}
	// The name, then the parameters when a '(' follows it at once.
	j := 0
	for j < len(text) && (text[j] == ' ' || text[j] == '\t') {
		j++
	}
	for j < len(text) && isIdentByte(text[j]) {
		j++
	}
	if j < len(text) && text[j] == '(' {
		end := strings.IndexByte(text[j:], ')')
		if end < 0 {
			return true
		}
		scanIdents(text[j:j+end], func(s, e int) { params[text[j+s:j+e]] = true })
		params["__VA_ARGS__"] = true
		j += end + 1
	}
	body := text[j:]
	found := false
	scanIdents(body, func(s, e int) {
		if found || !tagKeywords[body[s:e]] {
			return
		}
		tag, end, ok := tagAfter(body, e)
		rest := strings.TrimLeft(body[end:], " \t\\\n")
		switch {
		case !ok:
			// Nothing after it (`#define S struct`: S x is a tag), or not a name: an
			// anonymous record's `{` is the only one known.
			found = !strings.HasPrefix(rest, "{")
		case params[tag], strings.HasPrefix(rest, "##"):
			found = true
		}
	})
	return found
}

// declaresTagOnly reports whether declaration i declares name only as a tag: a record or
// enum definition of that tag, not a typedef, declaring it once.
func (p *preamble) declaresTagOnly(i int, name string) bool {
	d := p.decls[i]
	count := 0
	for _, n := range d.declares {
		if n == name {
			count++
		}
	}
	if count != 1 || strings.HasPrefix(d.text, "typedef") {
		return false
	}
	for kw := range tagKeywords {
		if rest, ok := strings.CutPrefix(d.text, kw); ok {
			rest = strings.TrimLeft(rest, " \t\n")
			if rest, ok = strings.CutPrefix(rest, name); ok && !isIdentByte(byteAt(rest, 0)) {
				return strings.HasPrefix(strings.TrimLeft(rest, " \t\n"), "{")
			}
		}
	}
	return false
}

// bareNames are the names of the memoized main file m that it writes only as ordinary
// identifiers, but the names learned from errors and the macros' names; nil when a macro
// of the main file or of its memoized expansions may make tags.
func (p *preamble) bareNames(m memoized, learned []string) map[string]bool {
	for _, line := range strings.SplitAfter(m.defs, "\n") {
		if makesTags(line) {
			return nil
		}
	}
	bare, ok := bareNames(m.src)
	if !ok {
		return nil
	}
	for _, n := range learned {
		delete(bare, n)
	}
	for n := range bare {
		if _, macro := p.defines[n]; macro {
			delete(bare, n)
		}
	}
	return bare
}

// reachesTagMaker reports whether a macro among the names reached may make tags.
func (p *preamble) reachesTagMaker(reached map[string]bool) bool {
	for n := range reached {
		def, ok := p.defines[n]
		if !ok {
			continue
		}
		v, ok := p.tagMakers.Load(n)
		if !ok {
			v = makesTags(def)
			p.tagMakers.Store(n, v)
		}
		if v.(bool) {
			return true
		}
	}
	return false
}

// mentionsDropped reports whether err names a tag the compile left out (a record a macro
// made of a bare name, incomplete).
func mentionsDropped(err error, dropped map[string]bool) bool {
	if len(dropped) == 0 {
		return false
	}
	msg := err.Error()
	found := false
	scanIdents(msg, func(s, e int) { found = found || dropped[msg[s:e]] })
	return found
}
