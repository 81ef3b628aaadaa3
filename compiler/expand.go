package compiler

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// The expansion memo: why an edit does not re-expand libbpf's CO-RE macros.
//
// cc/v4 expands a macro through hide sets kept as maps, copied at every level: a
// BPF_CORE_READ of nine members goes through ___core_read, ___apply, ___concat, ___rd_p9 ...
// and costs milliseconds, every keystroke, although the same invocation text under the same
// macro table always expands the same way. So each function-like macro invocation of the
// main file is expanded once, with placeholders for its arguments, and remembered with the
// preamble; a pruned compile then renames the invocation to a macro of the same length
// whose replacement list is that expansion. cc expands it in one step: its tokens still get
// the position of the name, the arguments' tokens still point into the main file's buffer,
// and the extractor reads the original text, so records, ranges and diagnostics are those
// of the ordinary expansion (TestPrunedEqualsFull and the selftests corpus hold it).
//
// An invocation is not memoized when its expansion could depend on more than its macro
// table and the arguments' tokens: an argument stringified or pasted (the placeholder would
// show), a macro name left in the expansion (it could take tokens that follow the
// invocation), __LINE__ and friends, an empty argument, an #include or a #pragma
// push_macro/pop_macro in the main file's body.

// placeholder is the stand-in of argument i in a memoized expansion.
func placeholder(i int) string { return fmt.Sprintf("__corels_arg%d_", i) }

const placeholderPrefix = "__corels_arg"

// expansion is one memoized invocation shape: a macro, its number of arguments, and the
// directives of the main file before it that can change its expansion (memokey.go).
type expansion struct {
	text string // the expansion, arguments as placeholders
	ok   bool   // false: the invocation is compiled as written
}

// expansionMemo holds a preamble's expansions. Keys: see invocation.key.
type expansionMemo struct {
	mu sync.Mutex
	m  map[string]*expansion
}

// maxMemo bounds a preamble's memo: each distinct shape (macro, arity, the directives
// before it that it depends on) is one entry; a file being typed makes few, a hostile one
// could make many.
const maxMemo = 4096

func (m *expansionMemo) get(key string) (*expansion, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.m[key]
	return e, ok
}

func (m *expansionMemo) put(key string, e *expansion) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.m == nil || len(m.m) >= maxMemo {
		m.m = map[string]*expansion{}
	}
	m.m[key] = e
}

// invocation is a function-like macro invocation in the main file.
type invocation struct {
	name   string
	start  int    // offset of the name
	end    int    // just after the matching ')'
	args   int    // number of arguments (0 for "()")
	before int    // the number of the main file's directives before it
	key    string // in the memo (memokey.go)
	outer  int    // index of the innermost invocation whose arguments hold this one, -1
}

// call is the invocation with placeholders for its arguments.
func (inv *invocation) call() string { return withPlaceholders(inv.name, inv.args) }

// withPlaceholders is name(__corels_arg0_, ...): an invocation, or a macro's head.
func withPlaceholders(name string, n int) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteByte('(')
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(placeholder(i))
	}
	b.WriteByte(')')
	return b.String()
}

var defineName = regexp.MustCompile(`^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)(\()?`)

// localFunctionMacros names the function-like macros src defines. The expression runs on
// the lines that start with `#` only: over a whole file it was half of the memo's time.
func localFunctionMacros(src []byte) map[string]bool {
	local := map[string]bool{}
	for len(src) > 0 {
		line := src
		if i := bytes.IndexByte(src, '\n'); i >= 0 {
			line, src = src[:i], src[i+1:]
		} else {
			src = nil
		}
		if t := bytes.TrimLeft(line, " \t"); len(t) == 0 || t[0] != '#' {
			continue
		}
		if m := defineName.FindSubmatch(line); m != nil && len(m[2]) > 0 {
			local[string(m[1])] = true
		}
	}
	return local
}

// unmemoizable are the macros whose expansion depends on where it happens.
var unmemoizable = []string{"__LINE__", "__COUNTER__", "__FILE__", "__BASE_FILE__", "__FILE_NAME__", "__INCLUDE_LEVEL__", "__TIMESTAMP__", "__DATE__", "__TIME__"}

// memoizedSource returns src with the main file's memoizable macro invocations renamed to
// macros whose definitions, appended to macros, are their expansions; it returns src and
// macros unchanged when nothing can be memoized. src is the main file as the pruned compile
// gives it to cc (the preamble blanked); the result has the same length, and differs only
// in the renamed names. guard asks for guardFree, which only a compile of src needs.
func (p *preamble) memoizedSource(cfg *cc.Config, src []byte, macros string, reached map[string]bool, guard bool) (m memoized) {
	same := memoized{src: src, macros: macros}
	defer func() {
		if r := recover(); r != nil {
			m = same // a bug here costs speed, never a result
		}
	}()
	for _, n := range unmemoizable {
		if reached[n] {
			return same
		}
	}
	if bytes.Contains(src, []byte("push_macro")) || bytes.Contains(src, []byte("pop_macro")) {
		return same // a definition changed by a pragma: the keys would not see it
	}
	fnLike := p.fnLikeMacros()
	local := localFunctionMacros(src)
	invs, dirs, ok := scanInvocations(src, func(n string) bool { return fnLike[n] || local[n] })
	if !ok {
		return same
	}
	// Every macro a compile can see: what may not remain in an expansion, nor be taken
	// for a synthetic name.
	table := p.macroTable(cfg, src, dirs)
	setKeys(src, dirs, invs, table)
	if len(invs) == 0 {
		same.guardFree = guard && nestingBound(src, dirs, nil, nil, table) <= maxBracketDepth
		return same
	}

	// Expand what the memo lacks, in one preprocessor run over the main file's directives
	// with one invocation of each missing key at its place. An invocation in a skipped
	// conditional block is not expanded and nothing is learned from it: when that was the
	// one of its key, a second run expands every other invocation of the key.
	exps := make([]*expansion, len(invs))
	waiting := map[string][]int{} // key → its invocations, in order, when the memo lacks it
	var missing []int
	for i := range invs {
		if e, ok := p.memo.get(invs[i].key); ok {
			exps[i] = e
			continue
		}
		if _, seen := waiting[invs[i].key]; !seen {
			missing = append(missing, i)
		}
		waiting[invs[i].key] = append(waiting[invs[i].key], i)
	}
	learned := map[string]*expansion{}
	for round := 0; round < 2 && len(missing) > 0; round++ {
		got := expandInvocations(cfg, src, macros, dirs, invs, missing)
		var again []int
		for _, i := range missing {
			k := invs[i].key
			if _, active := got[i]; !active {
				if round == 0 {
					again = append(again, waiting[k][1:]...)
				}
				continue
			}
			if learned[k] != nil {
				continue // the second run expanded another invocation of k before this one
			}
			e := &expansion{}
			if text := got[i]; text != invs[i].call() {
				e.text, e.ok = replacement(text, invs[i].args, table.has)
			}
			p.memo.put(k, e)
			learned[k] = e
		}
		slices.Sort(again) // expandInvocations takes them in order
		missing = again
	}
	for i := range invs {
		if exps[i] == nil {
			if exps[i] = learned[invs[i].key]; exps[i] == nil {
				exps[i] = &expansion{} // every invocation of its key is in a skipped block
			}
		}
	}

	// Rename: an invocation inside the arguments of one compiled as written stays as it
	// is too (that macro may stringify its arguments).
	out := src
	repl := make([]string, len(invs)) // the replacement list of each renamed invocation
	names := map[string]string{}      // key → synthetic name
	var defs strings.Builder
	used := map[string]bool{}
	expansions := map[string]string{} // synthetic name → its definition
	renamed := make([]bool, len(invs))
	serial := 0
	for i := range invs {
		inv := &invs[i]
		if !exps[i].ok || inv.outer >= 0 && !renamed[inv.outer] {
			continue
		}
		key := inv.key
		name, ok := names[key]
		if !ok {
			for {
				name, ok = syntheticName(serial, len(inv.name))
				serial++
				if !ok || !table.has(name) && !reached[name] && len(p.byName[name]) == 0 && !used[name] {
					break
				}
			}
			if !ok {
				continue
			}
			used[name] = true
			names[key] = name
			def := "#define " + withPlaceholders(name, inv.args) + " " + exps[i].text + "\n"
			defs.WriteString(def)
			expansions[name] = def
		}
		if len(out) > 0 && &out[0] == &src[0] {
			out = append([]byte(nil), src...)
		}
		copy(out[inv.start:], name)
		renamed[i] = true
		repl[i] = exps[i].text
	}
	m = memoized{src: out, macros: macros, defs: defs.String(), expansions: expansions}
	if defs.Len() > 0 {
		m.macros += "#line 1 \"<expansions>\"\n" + m.defs
	}
	m.guardFree = guard && nestingBound(src, dirs, invs, repl, table) <= maxBracketDepth
	return m
}

// memoized is the main file as cc reads it (see memoizedSource).
type memoized struct {
	src    []byte
	macros string
	defs   string // the renamed invocations' macros: "" when none was renamed
	// expansions are defs by synthetic name: the names the renamed invocations got, which
	// name nothing else.
	expansions map[string]string
	// guardFree: the bracket nesting after expansion is known to stay within
	// maxBracketDepth (nestingBound), so the nesting guard's preprocessing can be skipped.
	guardFree bool
}

// syntheticName is the n-th name of length size for a memoized macro: "_Z" (a reserved
// identifier) and base-36 digits. ok is false when size leaves too few digits.
func syntheticName(n, size int) (string, bool) {
	if size < 3 {
		return "", false
	}
	digits := make([]byte, size-2)
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = "0123456789abcdefghijklmnopqrstuvwxyz"[n%36]
		n /= 36
	}
	if n > 0 {
		return "", false
	}
	return "_Z" + string(digits), true
}

// replacement turns an expansion into the replacement list of the macro that stands for
// the invocation; ok is false when it cannot stand for it anywhere. A placeholder pasted to
// other text (BPF_KPROBE's ____##name) is pasted again by the replacement list, so the
// argument is pasted as in the original; a placeholder inside a literal (stringified), or a
// macro name left (it could expand with tokens that follow the invocation), is refused.
func replacement(text string, arity int, isMacro func(string) bool) (string, bool) {
	if strings.Contains(text, "\n#") {
		return "", false
	}
	var b strings.Builder
	ok := true
	last := 0
	scanTokens(text, func(start, end int, ident bool) {
		tok := text[start:end]
		switch {
		case !ok:
		case ident && strings.Contains(tok, placeholderPrefix):
			parts, good := pasteParts(tok, arity)
			if !good {
				ok = false
				return
			}
			if len(parts) > 1 {
				b.WriteString(text[last:start])
				b.WriteString(strings.Join(parts, " ## "))
				last = end
			}
		case ident && isMacro(tok):
			ok = false
		case !ident && strings.Contains(tok, placeholderPrefix):
			ok = false
		}
	})
	if !ok {
		return "", false
	}
	b.WriteString(text[last:])
	return b.String(), true
}

var placeholderRE = regexp.MustCompile(`__corels_arg([0-9]+)_`)

// pasteParts splits an identifier holding placeholders into the placeholders and the
// text around them.
func pasteParts(tok string, arity int) ([]string, bool) {
	var parts []string
	last := 0
	for _, m := range placeholderRE.FindAllStringSubmatchIndex(tok, -1) {
		var i int
		if _, err := fmt.Sscan(tok[m[2]:m[3]], &i); err != nil || i >= arity || placeholder(i) != tok[m[0]:m[1]] {
			return nil, false
		}
		if m[0] > last {
			parts = append(parts, tok[last:m[0]])
		}
		parts = append(parts, tok[m[0]:m[1]])
		last = m[1]
	}
	if last < len(tok) {
		parts = append(parts, tok[last:])
	}
	for _, p := range parts {
		if !placeholderRE.MatchString(p) && strings.Contains(p, placeholderPrefix) {
			return nil, false
		}
	}
	return parts, len(parts) > 0
}

// scanTokens calls fn with the bounds of identifiers and of string and character literals
// of C text.
func scanTokens(text string, fn func(start, end int, ident bool)) {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '"' || c == '\'':
			j := literalEnd(text, i)
			j = min(j+1, len(text))
			fn(i, j, false)
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			fn(i, j, true)
			i = j
		case c >= '0' && c <= '9':
			for i < len(text) && (isIdentByte(text[i]) || text[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
}

// expandInvocations preprocesses the main file's directives with each missing invocation
// at its place, between sentinels, and returns the expansions found (an invocation in a
// skipped block has none).
func expandInvocations(cfg *cc.Config, src []byte, macros string, dirs [][2]int, invs []invocation, missing []int) map[int]string {
	var b strings.Builder
	d := 0
	for _, i := range missing {
		for ; d < len(dirs) && dirs[d][0] < invs[i].start; d++ {
			b.Write(src[dirs[d][0]:dirs[d][1]])
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "__corels_memo_s%d_ %s __corels_memo_e%d_\n", i, invs[i].call(), i)
	}
	for ; d < len(dirs); d++ {
		b.Write(src[dirs[d][0]:dirs[d][1]])
		b.WriteByte('\n')
	}
	builtin, pre := baseDirectives()
	sources := []cc.Source{
		{Name: "<predefined>", Value: cfg.Predefined},
		{Name: "<builtin>", Value: builtin},
		{Name: preludeName, Value: pre},
		{Name: "<preamble>", Value: macros},
		{Name: "<expand>", Value: b.String()},
	}
	var out strings.Builder
	func() {
		defer func() { recover() }() // a front-end panic: nothing memoized
		_ = cc.Preprocess(cfg, sources, &out)
	}()
	text := out.String()
	got := map[int]string{}
	for _, i := range missing {
		s := fmt.Sprintf("__corels_memo_s%d_", i)
		e := fmt.Sprintf("__corels_memo_e%d_", i)
		a := strings.Index(text, s)
		if a < 0 {
			continue
		}
		z := strings.Index(text[a:], e)
		if z < 0 {
			continue
		}
		got[i] = strings.TrimSpace(text[a+len(s) : a+z])
	}
	return got
}

// scanInvocations finds the invocations of the macros isMacro names, outside directives,
// comments and literals, in order of their names; each with the number of directives
// before it. ok is false when the body holds an #include (its macros are not in the memo's
// key) or the text is too odd to memoize (a directive inside an invocation's arguments).
func scanInvocations(src []byte, isMacro func(string) bool) (invs []invocation, dirs [][2]int, ok bool) {
	var open []int // invocations whose arguments we are in, innermost last
	atLineStart := true
	for i := 0; i < len(src); {
		c := src[i]
		if atLineStart {
			j := i
			for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
				j++
			}
			if j < len(src) && src[j] == '#' {
				if len(open) > 0 {
					return nil, nil, false
				}
				end := j
				for end < len(src) && (src[end] != '\n' || src[end-1] == '\\') {
					end++
				}
				d := src[j:end]
				if pragmaDirective.Match(d) {
					i = end
					continue
				}
				if includeDirective.Match(d) {
					return nil, nil, false
				}
				dirs = append(dirs, [2]int{j, end})
				i = end
				continue
			}
			atLineStart = false
		}
		switch {
		case c == '\n':
			atLineStart = true
			i++
		case c == '"' || c == '\'':
			j := literalEnd(src, i)
			i = j
			if j < len(src) && src[j] == c {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := blockCommentEnd(src, i)
			if j < 0 {
				return invs, dirs, true
			}
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			name := string(src[i:j])
			if isMacro(name) {
				if inv, found := invocationAt(src, i, j); found {
					inv.before = len(dirs)
					inv.outer = -1
					for len(open) > 0 && invs[open[len(open)-1]].end <= i {
						open = open[:len(open)-1]
					}
					if len(open) > 0 {
						inv.outer = open[len(open)-1]
					}
					invs = append(invs, inv)
					open = append(open, len(invs)-1)
					if len(open) > maxBracketDepth {
						// Deeper than cc will take anyway (the guard says so), and each
						// level rescans its arguments: no memo.
						return nil, nil, false
					}
				}
			}
			i = j
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentByte(src[i]) || src[i] == '.') {
				i++
			}
		default:
			i++
		}
		for len(open) > 0 && invs[open[len(open)-1]].end <= i {
			open = open[:len(open)-1]
		}
	}
	return invs, dirs, true
}

var pragmaDirective = regexp.MustCompile(`^#[ \t]*(pragma|line)\b`)

var includeDirective = regexp.MustCompile(`^#[ \t]*(include|include_next|import)\b`)

// invocationAt reads the argument list after a macro name ending at nameEnd: '(' after
// blanks and comments (no directive between), balanced parentheses, arguments split at
// the top-level commas. found is false when there is no complete list, or an argument is
// empty (a placeholder would not stand for it).
func invocationAt(src []byte, start, nameEnd int) (inv invocation, found bool) {
	i := skipBlank(src, nameEnd)
	if i >= len(src) || src[i] != '(' {
		return inv, false
	}
	inv = invocation{name: string(src[start:nameEnd]), start: start}
	depth := 0
	argStart := i + 1
	var args []string
	for ; i < len(src); i++ {
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			j := literalEnd(src, i)
			i = j
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := blockCommentEnd(src, i)
			if j < 0 {
				return inv, false
			}
			i = j - 1
		case c == '\n':
			if t := skipBlank(src, i+1); t < len(src) && src[t] == '#' && isLineStart(src, t) {
				return inv, false
			}
		case c == '(':
			depth++
		case c == ')':
			depth--
			if depth == 0 {
				args = append(args, string(src[argStart:i]))
				inv.end = i + 1
				if len(args) == 1 && strings.TrimSpace(stripComments(args[0])) == "" {
					inv.args = 0
					return inv, true
				}
				for _, a := range args {
					if strings.TrimSpace(stripComments(a)) == "" {
						return inv, false
					}
				}
				inv.args = len(args)
				return inv, true
			}
		case c == ',' && depth == 1:
			args = append(args, string(src[argStart:i]))
			argStart = i + 1
		}
	}
	return inv, false
}

// skipBlank skips spaces, newlines and comments.
func skipBlank(src []byte, i int) int {
	for i < len(src) {
		switch {
		case src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r':
			i++
		case src[i] == '/' && i+1 < len(src) && src[i+1] == '*':
			j := blockCommentEnd(src, i)
			if j < 0 {
				return len(src)
			}
			i = j
		case src[i] == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		default:
			return i
		}
	}
	return i
}

func isLineStart(src []byte, i int) bool {
	for j := i - 1; j >= 0 && src[j] != '\n'; j-- {
		if src[j] != ' ' && src[j] != '\t' {
			return false
		}
	}
	return true
}

// stripComments removes /* */ and // comments from an argument's text.
func stripComments(s string) string {
	if !strings.Contains(s, "/") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '/' && i+1 < len(s) && s[i+1] == '*':
			j := blockCommentEnd(s, i)
			if j < 0 {
				return b.String()
			}
			i = j - 1
		case s[i] == '/' && i+1 < len(s) && s[i+1] == '/':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// fnLikeMacros are the function-like macros of the preamble.
func (p *preamble) fnLikeMacros() map[string]bool {
	p.fnLikeOnce.Do(func() {
		p.fnLike = map[string]bool{}
		for n, d := range p.defines {
			if strings.Contains(d, "#define "+n+"(") {
				p.fnLike[n] = true
			}
		}
	})
	return p.fnLike
}

// macroDef is one definition of a macro: function-like or not, and its replacement list.
type macroDef struct {
	fn   bool
	repl string
}

var macroDefLine = regexp.MustCompile(`(?m)^[ \t]*#[ \t]*define[ \t]+([A-Za-z_][A-Za-z0-9_]*)(\()?(.*)$`)

// macroTable is every definition a compile's preprocessor can see: the synthetic sources'
// and the preamble's (base, built once per preamble) and the main file's own (local).
type macroTable struct{ base, local map[string][]macroDef }

func (t macroTable) get(name string) ([]macroDef, bool) {
	l, ok1 := t.local[name]
	b, ok2 := t.base[name]
	if ok1 && ok2 {
		return append(append([]macroDef(nil), l...), b...), true
	}
	if ok1 {
		return l, true
	}
	return b, ok2
}

func (t macroTable) has(name string) bool {
	_, ok := t.get(name)
	return ok
}

// anyName reports whether some macro's name satisfies f.
func (t macroTable) anyName(f func(string) bool) bool {
	for _, m := range []map[string][]macroDef{t.local, t.base} {
		for n := range m {
			if f(n) {
				return true
			}
		}
	}
	return false
}

// addDefines parses #define lines into defs.
func addDefines(defs map[string][]macroDef, text string) {
	for _, m := range macroDefLine.FindAllStringSubmatch(text, -1) {
		repl := m[3]
		if m[2] != "" {
			// The parameter list is not part of the replacement.
			if i := strings.IndexByte(repl, ')'); i >= 0 {
				repl = repl[i+1:]
			}
		}
		defs[m[1]] = append(defs[m[1]], macroDef{fn: m[2] != "", repl: repl})
	}
}

// macroTable returns the table of a compile of the main file src (directives at dirs).
func (p *preamble) macroTable(cfg *cc.Config, src []byte, dirs [][2]int) macroTable {
	p.baseDefsOnce.Do(func() {
		p.baseDefs = map[string][]macroDef{}
		builtin, pre := baseDirectivesJoined()
		addDefines(p.baseDefs, cfg.Predefined)
		addDefines(p.baseDefs, builtin)
		addDefines(p.baseDefs, pre)
		for _, d := range p.defines {
			addDefines(p.baseDefs, d)
		}
	})
	local := map[string][]macroDef{}
	for _, d := range dirs {
		addDefines(local, strings.ReplaceAll(string(src[d[0]:d[1]]), "\\\n", " "))
	}
	return macroTable{base: p.baseDefs, local: local}
}

// baseDirectivesJoined are baseDirectives with continuation lines joined.
var baseDirectivesJoined = sync.OnceValues(func() (string, string) {
	b, p := baseDirectives()
	return strings.ReplaceAll(b, "\\\n", " "), strings.ReplaceAll(p, "\\\n", " ")
})

// nestingBound is an upper bound of the bracket nesting cc's parser meets in the main
// file once macros are expanded: the nesting of the text, plus, inside each renamed
// invocation, the nesting of its replacement list, plus that of a flat object-like macro
// (one whose replacement names no macro). It is unbounded (1<<30) when a token could
// expand into anything else: an invocation compiled as written, a macro expanding to
// macros, a paste that could make a macro's name.
func nestingBound(src []byte, dirs [][2]int, invs []invocation, repl []string, defs macroTable) int {
	const unbounded = 1 << 30
	starts := map[int]int{} // offset of a renamed invocation's name → its index
	for i := range invs {
		if repl[i] != "" {
			starts[invs[i].start] = i
		}
	}
	type open struct{ end, depth int }
	var stack []open
	extra := 0 // the replacement depths of the invocations we are in
	depth, bound := 0, 0
	d := 0 // into dirs
	for i := 0; i < len(src); {
		for len(stack) > 0 && stack[len(stack)-1].end <= i {
			extra -= stack[len(stack)-1].depth
			stack = stack[:len(stack)-1]
		}
		if d < len(dirs) && i >= dirs[d][0] {
			i = max(i, dirs[d][1])
			d++
			continue
		}
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			j := literalEnd(src, i)
			i = j + 1
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			j := blockCommentEnd(src, i)
			if j < 0 {
				return bound
			}
			i = j
		case c == '(' || c == '[' || c == '{':
			depth++
			bound = max(bound, depth+extra)
			i++
		case c == ')' || c == ']' || c == '}':
			if depth > 0 {
				depth--
			}
			i++
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(src) && isIdentByte(src[j]) {
				j++
			}
			name := string(src[i:j])
			if k, ok := starts[i]; ok {
				rd, ok := replacementDepth("", repl[k], defs)
				if !ok {
					return unbounded
				}
				stack = append(stack, open{invs[k].end, rd})
				extra += rd
				bound = max(bound, depth+extra)
			} else if ds, isMacro := defs.get(name); isMacro {
				called := false
				if t := skipBlank(src, j); t < len(src) && src[t] == '(' {
					called = true
				}
				for _, def := range ds {
					if def.fn && !called {
						continue // a function-like macro's name alone is not expanded
					}
					if def.fn {
						return unbounded
					}
					rd, ok := replacementDepth(name, def.repl, defs)
					if !ok {
						return unbounded
					}
					bound = max(bound, depth+extra+rd)
				}
			}
			i = j
		case c >= '0' && c <= '9':
			for i < len(src) && (isIdentByte(src[i]) || src[i] == '.') {
				i++
			}
		default:
			i++
		}
	}
	return bound
}

// replacementDepth is the bracket nesting of a replacement list once expanded: object-like
// macros it names are followed (a macro being expanded is not expanded again, as the hide
// sets do); ok is false when it names a function-like macro, or pastes text that some
// macro's name could start or end with.
func replacementDepth(name, repl string, defs macroTable) (int, bool) {
	return replDepth(repl, defs, map[string]bool{name: true})
}

func replDepth(repl string, defs macroTable, expanding map[string]bool) (int, bool) {
	if strings.Contains(repl, "##") {
		for _, part := range pastedTexts(repl) {
			if defs.anyName(func(name string) bool { return strings.HasPrefix(name, part) || strings.HasSuffix(name, part) }) {
				return 0, false
			}
		}
	}
	depth, most := 0, 0
	ok := true
	for i := 0; i < len(repl) && ok; i++ {
		switch c := repl[i]; {
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(repl) && repl[j] != c {
				if repl[j] == '\\' {
					j++
				}
				j++
			}
			i = j
		case c == '(' || c == '[' || c == '{':
			depth++
			most = max(most, depth)
		case c == ')' || c == ']' || c == '}':
			depth--
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(repl) && isIdentByte(repl[j]) {
				j++
			}
			name := repl[i:j]
			i = j - 1
			ds, isMacro := defs.get(name)
			if !isMacro || expanding[name] {
				continue
			}
			expanding[name] = true
			for _, d := range ds {
				if d.fn {
					ok = false
					break
				}
				sub, good := replDepth(d.repl, defs, expanding)
				if !good {
					ok = false
					break
				}
				most = max(most, depth+sub)
			}
			delete(expanding, name)
		case c >= '0' && c <= '9':
			for i+1 < len(repl) && (isIdentByte(repl[i+1]) || repl[i+1] == '.') {
				i++
			}
		}
	}
	return most, ok
}

var pasteOperand = regexp.MustCompile(`([A-Za-z0-9_]*)\s*##\s*([A-Za-z0-9_]*)`)

// pastedTexts are the identifier pieces on either side of ## in a replacement list, other
// than placeholders.
func pastedTexts(repl string) []string {
	var out []string
	for _, m := range pasteOperand.FindAllStringSubmatch(repl, -1) {
		for _, part := range m[1:] {
			if part != "" && !placeholderRE.MatchString(part) {
				out = append(out, part)
			}
		}
	}
	return out
}

// literalEnd is where the string or character literal opened at s[i] ends: at its closing
// quote, or at the end of its line when it has none (as the preprocessor stops there).
func literalEnd[T string | []byte](s T, i int) int {
	c := s[i]
	j := i + 1
	for j < len(s) && s[j] != c && s[j] != '\n' {
		if s[j] == '\\' {
			j++
		}
		j++
	}
	return j
}
