package compiler

// The compile of one edited function (reuse.go) blanks the other function bodies; this
// file decides which of the main file's other top-level items — records, maps, globals,
// prototypes, the signatures of other functions — it keeps. Their results come from the
// last compile; what the edited function needs of them is what it names, directly, through
// macros, or through the items it needs. An item left out costs nothing: neither its text
// nor the header declarations only it reaches are parsed.

import (
	"strings"

	"modernc.org/cc/v4"
)

// mainItems is what a whole compile of a main file tells about its top-level items.
type mainItems struct {
	// names: the file-scope names each item that is not a function definition declares,
	// by the item's text: its declarators, the tags it defines or mentions, its
	// enumerators, as the syntax tree has them (names a macro made or pasted included).
	// An item missing here is one no declaration of the tree starts in: kept.
	names map[string][]string
	// macros: the identifiers of the replacement lists of the main file's #defines, by
	// macro name (every definition of the name); pastes: those whose replacement pastes
	// tokens (##), which can make a name no text writes.
	macros map[string][]string
	pastes map[string]bool
}

// learnItems reads the main file's items off a whole compile's tree. src is the main file
// as cc scanned it (its preamble blanked). nil: a declaration of the main file starts
// outside every item, so items cannot be told apart reliably.
func learnItems(ast *cc.AST, path string, src []byte) *mainItems {
	items := topLevelItems(src)
	found := map[int][]string{}
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed == nil {
			continue
		}
		pos := ed.Position()
		if pos.Filename != path {
			continue
		}
		i := itemAt(items, pos.Offset)
		if i < 0 {
			return nil
		}
		if items[i].bodyStart >= 0 {
			continue // a function definition: reuse knows it by its summary
		}
		found[i] = append(found[i], declaredNames(ed)...)
		if found[i] == nil {
			found[i] = []string{}
		}
	}
	m := &mainItems{names: map[string][]string{}}
	m.macros, m.pastes = mainMacros(src)
	for i, names := range found {
		text := string(src[items[i].start:items[i].end])
		names = append(names, mentionedTags(text)...)
		m.names[text] = append(m.names[text], names...)
	}
	return m
}

// mentionedTags are the tags text writes after struct, union or enum: a mention at file
// scope declares the tag there, so a function using it refers to the same type.
func mentionedTags(text string) []string {
	var out []string
	after := -1 // the end of the keyword just seen
	scanIdents(text, func(s, e int) {
		id := text[s:e]
		if after >= 0 && strings.TrimSpace(text[after:s]) == "" {
			out = append(out, id)
		}
		after = -1
		if id == "struct" || id == "union" || id == "enum" {
			after = e
		}
	})
	return out
}

// mainMacros maps each macro the text #defines to the identifiers of its replacement
// lists, parameters included, and tells those that paste tokens. A directive line inside a
// block comment counts too: a macro too many only keeps more items.
func mainMacros(src []byte) (out map[string][]string, pastes map[string]bool) {
	out, pastes = map[string][]string{}, map[string]bool{}
	for i := 0; i < len(src); {
		j := i
		for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
			j++
		}
		if j < len(src) && src[j] == '#' {
			end := directiveEnd(src, j)
			d := strings.TrimLeft(string(src[j+1:end]), " \t")
			if rest, ok := strings.CutPrefix(d, "define"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
				name := ""
				scanIdents(rest, func(s, e int) {
					if name == "" {
						name = rest[s:e]
						return
					}
					out[name] = append(out[name], rest[s:e])
				})
				if _, ok := out[name]; !ok && name != "" {
					out[name] = nil
				}
				if name != "" && strings.Contains(rest, "##") {
					pastes[name] = true
				}
			}
			i = end
		}
		for i < len(src) && src[i] != '\n' {
			i++
		}
		i++
	}
	return out, pastes
}

// itemUse is what the compile of one function does with an item.
type itemUse int

const (
	itemWhole     itemUse = iota // compiled as written
	itemSignature                // a function whose body is blanked
	itemBlank                    // blanked whole
)

// itemCandidate is an item the closure may leave out: a record, map or global whose names
// are known (declares), or a function blanked unless named (fn).
type itemCandidate struct {
	declares []string
	fn       string
}

// neededItems decides, for each of items, what the compile of the function item f needs:
// every item it keeps whole (f, the bodies other passes read, items of unknown names), the
// candidates whose names it reaches, transitively, through their texts, the main file's
// macros and the headers' (p). candidates[i] nil: the item is kept whole. pasted: a macro
// of the main file it reaches pastes tokens, so it may name what no text writes.
func neededItems(src []byte, items []item, candidates []*itemCandidate, m *mainItems, headerMacros map[string][]string) (use []itemUse, pasted bool) {
	reached := map[string]bool{}
	var stack []string
	add := func(text string) {
		scanIdents(text, func(s, e int) {
			if id := text[s:e]; !reached[id] {
				reached[id] = true
				stack = append(stack, id)
			}
		})
	}
	expand := func() {
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			pasted = pasted || m.pastes[id]
			for _, ids := range [2][]string{m.macros[id], headerMacros[id]} {
				for _, n := range ids {
					if !reached[n] {
						reached[n] = true
						stack = append(stack, n)
					}
				}
			}
		}
	}
	use = make([]itemUse, len(items))
	for i, it := range items {
		if candidates[i] == nil {
			add(string(src[it.start:it.end]))
			continue
		}
		use[i] = itemBlank
	}
	for changed := true; changed; {
		expand()
		changed = false
		for i, c := range candidates {
			if c == nil || use[i] != itemBlank {
				continue
			}
			if c.fn != "" {
				if reached[c.fn] {
					use[i] = itemSignature
					add(string(src[items[i].start:items[i].bodyStart]))
					changed = true
				}
				continue
			}
			for _, n := range c.declares {
				if reached[n] {
					use[i] = itemWhole
					add(string(src[items[i].start:items[i].end]))
					changed = true
					break
				}
			}
		}
	}
	return use, pasted
}

// mentionsAny reports whether a diagnostic's message names one of names: an error the
// items left out may have caused. Messages quote names ('struct counters'): every word
// counts, quoted or not.
func mentionsAny(ds []Diagnostic, names map[string]bool) bool {
	for _, d := range ds {
		words := strings.FieldsFunc(d.Message, func(r rune) bool { return r > 0x7f || !isIdentByte(byte(r)) })
		for _, w := range words {
			if names[w] {
				return true
			}
		}
	}
	return false
}
