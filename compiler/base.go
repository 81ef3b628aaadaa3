package compiler

import (
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// The base sources (clang's predefined macros, cc's builtin header, corels' prelude) come
// before every translation. A per-edit compile keeps them cheap: it declares only the
// builtin functions the file can reach, and its nesting guard preprocesses only the
// directives, not the declarations (preprocessing and parsing ~200 builtin declarations,
// twice, was a fifth of an edit's time).

// builtinLine is one line of cc.Builtin; fn names the function a one-line function
// declaration declares, "" for every other line.
type builtinLine struct{ text, fn string }

var builtinIndex = sync.OnceValues(func() ([]builtinLine, map[string]bool) {
	var lines []builtinLine
	keep := map[string]bool{} // names the builtin and prelude macros expand to
	directive := false
	for _, l := range strings.Split(cc.Builtin, "\n") {
		t := strings.TrimSpace(l)
		isDirective := directive || strings.HasPrefix(t, "#")
		directive = isDirective && strings.HasSuffix(t, "\\")
		if isDirective {
			lines = append(lines, builtinLine{text: l})
			continue
		}
		lines = append(lines, builtinLine{text: l, fn: declaredFunction(t)})
	}
	for _, src := range []string{directivesOnly(cc.Builtin), directivesOnly(prelude)} {
		scanIdents(src, func(s, e int) { keep[src[s:e]] = true })
	}
	return lines, keep
})

// declaredFunction returns the name a one-line function declaration `T name(...);`
// declares, or "".
func declaredFunction(line string) string {
	open := strings.IndexByte(line, '(')
	if open < 0 || !strings.HasSuffix(line, ");") || strings.HasPrefix(line, "typedef") {
		return ""
	}
	end := open
	for end > 0 && line[end-1] == ' ' {
		end--
	}
	start := end
	for start > 0 && isIdentByte(line[start-1]) {
		start--
	}
	if start == end || start == 0 || line[start] >= '0' && line[start] <= '9' {
		return ""
	}
	return line[start:end]
}

// prunedBuiltin is cc.Builtin without the function declarations no reached name names.
// Dropped lines stay as empty lines, so positions in the builtin header are unchanged.
func prunedBuiltin(reached map[string]bool) string {
	lines, keep := builtinIndex()
	var b strings.Builder
	b.Grow(len(cc.Builtin) / 4)
	for _, l := range lines {
		if l.fn == "" || reached[l.fn] || keep[l.fn] {
			b.WriteString(l.text)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// directivesOnly blanks every line of C source that is not part of a preprocessor
// directive (newlines kept): the macro state it leaves is the source's.
func directivesOnly(src string) string {
	var b strings.Builder
	directive := false
	for _, l := range strings.SplitAfter(src, "\n") {
		t := strings.TrimSpace(l)
		if directive || strings.HasPrefix(t, "#") {
			b.WriteString(l)
			directive = strings.HasSuffix(t, "\\")
			continue
		}
		if strings.HasSuffix(l, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// baseDirectives are the directives of the builtin header and the prelude, for guards.
var baseDirectives = sync.OnceValues(func() (string, string) {
	return directivesOnly(cc.Builtin), directivesOnly(prelude)
})

// prunedBaseSources are baseSources with the builtin declarations and the predefined
// macros pruned to reached.
func prunedBaseSources(cfg *cc.Config, reached map[string]bool) []cc.Source {
	return []cc.Source{
		{Name: "<predefined>", Value: prunedPredefined(cfg.Predefined, reached)},
		{Name: "<builtin>", Value: prunedBuiltin(reached)},
		{Name: preludeName, Value: prelude},
	}
}

// guardSources are what a nesting guard must preprocess for a pruned compile: every macro
// the translation defines (predefined: the translation's predefined macros), in the same
// order, and the main file. Declarations are left out: they do not change what the
// preprocessor does, and the preamble's own were guarded when it was parsed.
func guardSources(predefined, macros string, main cc.Source) []cc.Source {
	builtin, pre := baseDirectives()
	return []cc.Source{
		{Name: "<predefined>", Value: predefined},
		{Name: "<builtin>", Value: builtin},
		{Name: preludeName, Value: pre},
		{Name: "<preamble>", Value: macros},
		main,
	}
}

// predefLine is a line of the predefined macros: a #define with the macro's name, or any
// other line (name "").
type predefLine struct{ text, name string }

// predefIndex is a predefined text's lines, and the identifiers of each macro's
// replacement lists.
type predefIndex struct {
	lines []predefLine
	uses  map[string][]string
}

// predefIndexes holds the index of each predefined text (one per set of -D flags).
var predefIndexes sync.Map // string → *predefIndex

func indexPredefined(pre string) *predefIndex {
	if v, ok := predefIndexes.Load(pre); ok {
		return v.(*predefIndex)
	}
	x := &predefIndex{uses: map[string][]string{}}
	for _, l := range strings.Split(pre, "\n") {
		line := predefLine{text: l}
		if rest, ok := strings.CutPrefix(l, "#define "); ok {
			end := 0
			for end < len(rest) && isIdentByte(rest[end]) {
				end++
			}
			line.name = rest[:end]
			body := rest[end:]
			scanIdents(body, func(s, e int) { x.uses[line.name] = append(x.uses[line.name], body[s:e]) })
		}
		x.lines = append(x.lines, line)
	}
	predefIndexes.Store(pre, x)
	return x
}

// baseNames are the identifiers of cc's builtin header and of the prelude: the predefined
// macros they use are kept whatever the file reaches.
var baseNames = sync.OnceValue(func() map[string]bool {
	names := map[string]bool{}
	for _, src := range []string{cc.Builtin, prelude} {
		scanIdents(src, func(s, e int) { names[src[s:e]] = true })
	}
	return names
})

// prunedPredefined is the predefined macros (clang's, then the -D and -U flags') without
// the definitions no reached name, nor the base sources, nor a kept definition names: 330
// #define lines were parsed on every keystroke for the handful a BPF program tests.
// Dropped lines stay as empty lines.
func prunedPredefined(pre string, reached map[string]bool) string {
	x := indexPredefined(pre)
	base := baseNames()
	keep := map[string]bool{}
	var queue []string
	mark := func(n string) {
		if !keep[n] {
			keep[n] = true
			queue = append(queue, n)
		}
	}
	for _, l := range x.lines {
		if l.name != "" && (reached[l.name] || base[l.name]) {
			mark(l.name)
		}
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, u := range x.uses[n] {
			mark(u)
		}
	}
	var b strings.Builder
	for _, l := range x.lines {
		if l.name == "" || keep[l.name] {
			b.WriteString(l.text)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
