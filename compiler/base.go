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

// prunedBaseSources are baseSources with the builtin declarations pruned to reached.
func prunedBaseSources(cfg *cc.Config, reached map[string]bool) []cc.Source {
	return []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: prunedBuiltin(reached)},
		{Name: preludeName, Value: prelude},
	}
}

// guardSources are what a nesting guard must preprocess for a pruned compile: every macro
// the translation defines, in the same order, and the main file. Declarations are left
// out: they do not change what the preprocessor does, and the preamble's own were
// guarded when it was parsed.
func guardSources(cfg *cc.Config, macros string, main cc.Source) []cc.Source {
	builtin, pre := baseDirectives()
	return []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: builtin},
		{Name: preludeName, Value: pre},
		{Name: "<preamble>", Value: macros},
		main,
	}
}
