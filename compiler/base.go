package compiler

import (
	"slices"
	"strconv"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// The base sources (clang's predefined macros, cc's builtin header, corels' prelude) come
// before every translation. A per-edit compile keeps them cheap: it defines and declares
// only the macros and functions the file can reach, and its nesting guard preprocesses
// only the directives, not the declarations (preprocessing and parsing ~200 builtin
// declarations, twice, was a fifth of an edit's time).

// baseLine is one logical line (a directive with its continuations) of cc.Builtin or of
// the prelude. name is what it defines or declares, when that is all it does: the macro
// of a #define or #undef, the function of a one-line function declaration, the object of
// an extern declaration; "" for every other line, which is always kept.
type baseLine struct {
	text  string // with its continuation lines
	lines int    // how many lines of the text it is
	name  string
	uses  []string // the identifiers it names besides name
}

// baseIndex is the lines of cc.Builtin and of the prelude.
type baseIndex struct {
	builtin, prelude []baseLine
	uses             map[string][]string // each name the lines define or declare: what they name
	always           []string            // the identifiers of the lines always kept
}

var baseLines = sync.OnceValue(func() *baseIndex {
	x := &baseIndex{uses: map[string][]string{}}
	x.builtin = splitBase(cc.Builtin)
	x.prelude = splitBase(prelude)
	for _, lines := range [][]baseLine{x.builtin, x.prelude} {
		for _, l := range lines {
			if l.name == "" {
				scanIdents(l.text, func(s, e int) { x.always = append(x.always, l.text[s:e]) })
				continue
			}
			x.uses[l.name] = append(x.uses[l.name], l.uses...) // the key is set, uses or not
		}
	}
	return x
})

func splitBase(src string) []baseLine {
	var out []baseLine
	phys := strings.Split(src, "\n")
	for i := 0; i < len(phys); i++ {
		l := baseLine{text: phys[i], lines: 1}
		t := strings.TrimSpace(l.text)
		if strings.HasPrefix(t, "#") {
			for strings.HasSuffix(strings.TrimSpace(phys[i]), "\\") && i+1 < len(phys) {
				i++
				l.text += "\n" + phys[i]
				l.lines++
			}
			if rest, ok := strings.CutPrefix(t, "#define "); ok {
				l.name = leadingIdent(rest)
			} else if rest, ok := strings.CutPrefix(t, "#undef "); ok {
				l.name = leadingIdent(rest)
			}
		} else if n := declaredFunction(t); n != "" {
			l.name = n
		} else if strings.HasPrefix(t, "extern ") && strings.HasSuffix(t, ";") && !strings.ContainsAny(t, "(,=") {
			l.name = trailingIdent(strings.TrimSuffix(t, ";"))
		}
		if l.name != "" {
			skipped := false
			scanIdents(l.text, func(s, e int) {
				if n := l.text[s:e]; n != l.name || skipped {
					l.uses = append(l.uses, n)
				} else {
					skipped = true
				}
			})
		}
		out = append(out, l)
	}
	return out
}

func leadingIdent(s string) string {
	end := 0
	for end < len(s) && isIdentByte(s[end]) {
		end++
	}
	return s[:end]
}

func trailingIdent(s string) string {
	s = strings.TrimSpace(s)
	start := len(s)
	for start > 0 && isIdentByte(s[start-1]) {
		start--
	}
	return s[start:]
}

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

// prunedBase is cc.Builtin and the prelude without the macros and declarations that no
// reached name reaches: kept are the names reached, those every other line names (its
// conditionals, typedefs, the declarations cc/v4 reads its own types from), and what a
// kept macro or declaration names, transitively. cc/v4 spends ~10 µs on each definition
// and declaration, and a BPF program reaches a handful of the ~60. Positions are unchanged
// (prunedLines).
func prunedBase(reached map[string]bool) (builtin, prelude string) {
	x := baseLines()
	seeds := slices.Clone(x.always)
	for n := range x.uses {
		if reached[n] {
			seeds = append(seeds, n)
		}
	}
	keep := reachNames(seeds, namesIn(x.uses))
	write := func(lines []baseLine) string {
		var w prunedLines
		for _, l := range lines {
			if l.name == "" || keep[l.name] {
				w.keep(l.text, l.lines)
				continue
			}
			for range l.lines {
				w.drop()
			}
		}
		return w.b.String()
	}
	return write(x.builtin), write(x.prelude)
}

// reachNames is the names seeds reach, edges giving add the names each name reaches
// directly.
func reachNames(seeds []string, edges func(n string, add func(string))) map[string]bool {
	reach := make(map[string]bool, len(seeds))
	queue := make([]string, 0, len(seeds))
	add := func(n string) {
		if !reach[n] {
			reach[n] = true
			queue = append(queue, n)
		}
	}
	for _, n := range seeds {
		add(n)
	}
	for len(queue) > 0 {
		n := queue[len(queue)-1]
		queue = queue[:len(queue)-1]
		edges(n, add)
	}
	return reach
}

// namesIn is the edges of reachNames given by a map.
func namesIn(uses map[string][]string) func(string, func(string)) {
	return func(n string, add func(string)) {
		for _, u := range uses[n] {
			add(u)
		}
	}
}

// prunedLines writes a text with some of its lines dropped, keeping the line numbers of
// the others: a run of dropped lines becomes one #line directive. cc/v4 takes ~0.4 µs
// for each empty line, and the pruned base sources had ~600 of them on every keystroke.
type prunedLines struct {
	b       strings.Builder
	next    int  // the number of the next line, from 0
	dropped int  // lines dropped since the last one kept
	cont    bool // the last line kept ends in a backslash: the next one continues it
}

// keep writes text, which is n lines.
func (w *prunedLines) keep(text string, n int) {
	if w.dropped > 1 && !w.cont {
		w.b.WriteString("#line ")
		w.b.WriteString(strconv.Itoa(w.next + 1))
		w.b.WriteByte('\n')
	} else {
		for range w.dropped {
			w.b.WriteByte('\n')
		}
	}
	w.dropped = 0
	w.b.WriteString(text)
	w.b.WriteByte('\n')
	w.next += n
	w.cont = strings.HasSuffix(text, "\\")
}

func (w *prunedLines) drop() {
	w.dropped++
	w.next++
}

// squeezeBlankLines writes each run of empty lines of src as one #line directive, keeping
// the line numbers of the rest, #line directives of its own followed. The preamble's
// declarations keep the lines of the members that slim records cut (slim.go) and of
// nearby declarations left out as empty lines, ~450 of them in a profiler edit.
func squeezeBlankLines(src string) string {
	var w prunedLines
	w.b.Grow(len(src))
	lines := strings.Split(src, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1] // src ends with a newline, as each line written does
	}
	for _, l := range lines {
		if l == "" {
			w.drop()
			continue
		}
		continued := w.cont
		w.keep(l, 1)
		if n, ok := lineDirective(l); ok && !continued {
			w.next = n - 1
		}
	}
	for range w.dropped {
		w.b.WriteByte('\n')
	}
	return w.b.String()
}

// lineDirective is the line number a `#line N ...` directive gives the line after it.
func lineDirective(l string) (int, bool) {
	rest, ok := strings.CutPrefix(l, "#line ")
	if !ok {
		return 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	n, err := strconv.Atoi(rest[:end])
	return n, err == nil && (end == len(rest) || rest[end] == ' ')
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

// prunedBaseSources are baseSources pruned to reached: the predefined macros, and the
// builtin header's and the prelude's macros and declarations.
func prunedBaseSources(cfg *cc.Config, reached map[string]bool) []cc.Source {
	builtin, pre := prunedBase(reached)
	return []cc.Source{
		{Name: "<predefined>", Value: prunedPredefined(cfg.Predefined, reached)},
		{Name: "<builtin>", Value: builtin},
		{Name: preludeName, Value: pre},
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
			line.name = leadingIdent(rest)
			body := rest[len(line.name):]
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
// Positions are unchanged (prunedLines).
func prunedPredefined(pre string, reached map[string]bool) string {
	x := indexPredefined(pre)
	base := baseNames()
	var seeds []string
	for _, l := range x.lines {
		if l.name != "" && (reached[l.name] || base[l.name]) {
			seeds = append(seeds, l.name)
		}
	}
	keep := reachNames(seeds, namesIn(x.uses))
	var w prunedLines
	for _, l := range x.lines {
		if l.name == "" || keep[l.name] {
			w.keep(l.text, 1)
		} else {
			w.drop()
		}
	}
	return w.b.String()
}
