package compiler

import (
	"fmt"
	"os"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"unsafe"

	"modernc.org/cc/v4"
)

// The preamble is the run of preprocessor directives and comments at the top of a file: its
// #includes pull in vmlinux.h (2–3 MB) and libbpf's headers, which do not change between
// keystrokes. A preamble is parsed once and indexed: every top-level declaration with what
// it declares and which names it needs. Each edit then type-checks the main file with only
// the declarations it reaches, rendered into one synthetic source with #line markers so
// positions in headers keep their file and line.

// preambleEnd returns the byte offset where the preamble of src ends: the start of the
// first line that holds anything but directives, comments and white space.
func preambleEnd(src []byte) int {
	i, lineStart := 0, 0
	for i < len(src) {
		c := src[i]
		switch {
		case c == '\n':
			i++
			lineStart = i
		case c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '/' && i+1 < len(src) && src[i+1] == '/':
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			end := blockCommentEnd(src, i)
			if end < 0 {
				return lineStart
			}
			i = end
		case c == '#' && onlySpaceBefore(src, lineStart, i):
			// A directive, with its continuation lines and comments.
			for i < len(src) && src[i] != '\n' {
				switch {
				case src[i] == '\\' && i+1 < len(src) && src[i+1] == '\n':
					i += 2
				case src[i] == '/' && i+1 < len(src) && src[i+1] == '*':
					end := blockCommentEnd(src, i)
					if end < 0 {
						return lineStart
					}
					i = end
				default:
					i++
				}
			}
		default:
			return lineStart
		}
	}
	return len(src)
}

func onlySpaceBefore(src []byte, from, to int) bool {
	for _, c := range src[from:to] {
		if c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

// preamble is a parsed and indexed preamble.
type preamble struct {
	text      string              // the main file's preamble it was built from
	files     []fileStamp         // files read, to notice changes on disk
	decls     []*ppDecl           // top-level declarations of every header, in translation order
	byName    map[string][]int    // global name → indices of decls declaring it
	macros    map[string][]string // macro name → identifiers in its replacement list
	defines   map[string]string   // macro name → the #undef/#define lines that recreate it
	sorted    []string            // every macro and declared name, sorted: for token pasting
	fallbacks []string            // fallback headers the preamble includes
	funcs     []*headerFunc       // functions defined in the headers, with their relocations
	err       error               // the preamble itself does not compile
	diags     []Diagnostic

	memo         expansionMemo // see expand.go
	fnLikeOnce   sync.Once
	fnLike       map[string]bool
	baseDefsOnce sync.Once
	baseDefs     map[string][]macroDef
	ptrMembers   sync.Map // decl index → pointerMembers
	slims        sync.Map // decl index → *slimPlan, learned from compiles (slim.go)
	tagMakers    sync.Map // macro name → whether it may make tags (tags.go)
	declTagUses  sync.Map // declaration index → the names its text writes as tags (tags.go)
	enumPlans    sync.Map // declaration index → *enumPlan (enums.go)
}

type fileStamp struct {
	path    string
	size    int64
	modTime int64
}

// ppDecl is one top-level declaration of the preamble.
type ppDecl struct {
	file     string
	line     int
	text     string // source text, with directive lines blanked, or its tokens when macros made it
	declares []string
	refs     []string
	preserve bool // inside #pragma clang attribute push(preserve_access_index)
}

// buildPreamble parses the headers of a preamble once and indexes their declarations.
func buildPreamble(u *unit, text string, in *interner) *preamble {
	fsys := u.fsys.recording()
	pragmas := &pragmaRanges{}
	cfg, err := newConfig(u.flags, fsys, pragmas.handle)
	if err != nil {
		return &preamble{text: text, err: err}
	}
	sources := baseSources(cfg)
	for _, inc := range u.flags.Includes {
		sources = append(sources, cc.Source{Name: inc, FS: fsys})
	}
	sources = append(sources, cc.Source{Name: u.path, Value: []byte(text + "\n")})
	hdrs := fsys.pruneBpftool(u.flags, sources)
	ast, err := translate(cfg, sources, nil) // directives and headers only
	if err == nil && hdrs != nil && !hdrs.matches(ast) {
		// cc saw the pruned header differently from the scan: parse it whole.
		hdrs, fsys.served = nil, nil
		*pragmas = pragmaRanges{}
		ast, err = translate(cfg, sources, nil)
	}
	if err != nil {
		return &preamble{text: text, err: err, diags: parseErrors(err, u.path, []byte(text)), files: fsys.stamps()}
	}
	pragmas.finish()
	p := indexPreamble(ast, pragmas, fsys, u.path, text, in, hdrs)
	// Header functions do not change between keystrokes: their relocations are found
	// once, here, and linked into every compile that reaches them.
	x := newExtractor(ast, u.path, []byte(text+"\n"), pragmas, fsys.ReadFile)
	x.relocations(nil)
	p.funcs = x.walkedFuncs
	return p
}

// indexPreamble indexes the header declarations and macros of a translation unit whose
// main file is the preamble text (declarations of the main file itself are left out).
func indexPreamble(ast *cc.AST, pragmas *pragmaRanges, fsys *overlayFS, mainPath string, text string, in *interner, hdrs bpftoolHeaders) *preamble {
	p := &preamble{text: text, macros: map[string][]string{}, defines: map[string]string{}, files: fsys.stamps(), fallbacks: fsys.fallbacksUsed()}
	// A job is a declaration cc parsed (ed), one of a bpftool header (bpf), or both; a
	// bpftool header's declarations take the place of the first one cc parsed, in the
	// file's order. pragmas' offsets in bpftool headers are the copies' cc was given.
	type job struct {
		ed   *cc.ExternalDeclaration
		bpf  *bpftoolDecl
		file string
	}
	parsed := map[string]map[int]*cc.ExternalDeclaration{} // bpftool header → declarations cc parsed, by offset
	var all []*cc.ExternalDeclaration
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		pos := ed.Position()
		if strings.HasPrefix(pos.Filename, "<") || pos.Filename == "" || pos.Filename == mainPath {
			continue
		}
		if h, ok := hdrs[pos.Filename]; ok {
			if parsed[pos.Filename] == nil {
				parsed[pos.Filename] = map[int]*cc.ExternalDeclaration{}
			}
			parsed[pos.Filename][h.served.file(pos.Offset)] = ed
		}
		all = append(all, ed)
	}
	n := len(all)
	for _, h := range hdrs {
		n += len(h.decls)
	}
	jobs := make([]job, 0, n)
	placed := map[string]bool{}
	for _, ed := range all {
		file := ed.Position().Filename
		h, ok := hdrs[file]
		if !ok {
			jobs = append(jobs, job{ed: ed, file: file})
			continue
		}
		if placed[file] {
			continue
		}
		placed[file] = true
		for i := range h.decls {
			jobs = append(jobs, job{ed: parsed[file][h.decls[i].start], bpf: &h.decls[i], file: file})
		}
	}
	// Each header's text once per build: an unsaved or generated header (the fallback
	// vmlinux.h) has no disk stamp to share it by, and reading it per declaration copied
	// megabytes 14k times.
	texts := map[string]headerText{}
	for _, j := range jobs {
		if _, ok := texts[j.file]; !ok {
			known := ""
			if h, ok := hdrs[j.file]; ok {
				known = h.text // the scan's copy, which its names point into
			}
			src, stamp := in.content(j.file, fsys, known)
			texts[j.file] = headerText{src, stamp}
		}
	}
	// Indexing 14k declarations is a tenth of a cold start: it is spread over the CPUs
	// (everything it reads is immutable by now; the interner locks).
	decls := make([]*ppDecl, len(jobs))
	filePragmas := pragmas.inFiles(hdrs)
	workers := min(runtime.GOMAXPROCS(0), 8)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(jobs); i += workers {
				j, h := jobs[i], texts[jobs[i].file]
				switch {
				case j.bpf != nil && j.ed != nil:
					decls[i] = indexParsedBpftool(j.ed, *j.bpf, j.file, h, filePragmas, ast.Macros, in)
				case j.bpf != nil:
					decls[i] = bpftoolPreambleDecl(j.file, h.src, h.stamp, *j.bpf, filePragmas, in)
				default:
					decls[i] = indexDecl(j.ed, h, pragmas, ast.Macros, in)
				}
			}
		})
	}
	wg.Wait()
	declared := 0
	for _, d := range decls {
		declared += len(d.declares)
	}
	p.byName = make(map[string][]int, declared)
	p.decls = decls
	for i, d := range decls {
		for _, n := range d.declares {
			p.byName[n] = append(p.byName[n], i)
		}
	}
	names := make([]string, 0, len(ast.Macros))
	for n := range ast.Macros {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		m := ast.Macros[n]
		mp := m.Position()
		if strings.HasPrefix(mp.Filename, "<") || mp.Filename == "" {
			continue
		}
		params := map[string]bool{}
		for _, t := range m.Params {
			params[t.SrcStr()] = true
		}
		var ids []string
		for _, t := range m.ReplacementList() {
			if t.Ch == rune(cc.IDENTIFIER) && !params[t.SrcStr()] {
				ids = append(ids, t.SrcStr())
			}
		}
		p.macros[n] = ids
		p.defines[n] = renderMacro(m)
	}
	for n := range p.byName {
		p.sorted = append(p.sorted, n)
	}
	for n := range p.macros {
		if _, dup := p.byName[n]; !dup {
			p.sorted = append(p.sorted, n)
		}
	}
	sort.Strings(p.sorted)
	return p
}

// headerText is a header's contents and its disk stamp ("" when not from disk).
type headerText struct{ src, stamp string }

// indexDecl indexes one header declaration of the header h.
func indexDecl(ed *cc.ExternalDeclaration, h headerText, pragmas *pragmaRanges, macros map[string]*cc.Macro, in *interner) *ppDecl {
	pos := ed.Position()
	src, stamp := h.src, h.stamp
	preserve := pragmas.contains(pos.Filename, pos.Offset)
	text, end := declText(ed, src, pos.Offset, macros)
	// A declaration that is plain source text is the same in every preamble that
	// includes the same file: share it (ten open programs share one vmlinux.h).
	var key declKey
	if end >= 0 && stamp != "" {
		key = declKey{pos.Filename, stamp, pos.Offset, end, preserve}
		if d := in.decl(key); d != nil {
			return d
		}
	}
	d := &ppDecl{file: pos.Filename, line: pos.Line, preserve: preserve, text: text}
	d.declares = declaredNames(ed)
	d.refs = declNeededNames(d.text)
	if key != (declKey{}) {
		d = in.share(key, d)
	}
	return d
}

// indexParsedBpftool indexes a declaration of a bpftool header that cc parsed: as the
// scan does, unless a macro changed it; then from cc's tokens, as indexDecl does. A macro
// defined when the translation ends changed it, or one that declares other names than the
// scan found: bpf_iter.h renames vmlinux.h's struct bpf_iter_meta with a macro it
// undefines after the #include.
func indexParsedBpftool(ed *cc.ExternalDeclaration, d bpftoolDecl, file string, h headerText, pragmas *pragmaRanges, macros map[string]*cc.Macro, in *interner) *ppDecl {
	declares := declaredNames(ed)
	if !namesMacro(h.src[d.start:d.end], macros) && slices.Equal(declares, d.declares) {
		return bpftoolPreambleDecl(file, h.src, h.stamp, d, pragmas, in)
	}
	text := expandedText(ed)
	return &ppDecl{file: file, line: d.line, preserve: pragmas.contains(file, d.start), text: text, declares: declares, refs: declNeededNames(text)}
}

// declText is the text of a declaration: the source between its first and last token with
// directive lines blanked, or, when a macro produced it or it uses macros, its tokens after
// expansion (the pruned source is not macro-expanded again). end is where the source text
// ends, -1 for expanded tokens.
func declText(ed *cc.ExternalDeclaration, src string, start int, macros map[string]*cc.Macro) (text string, end int) {
	end = -1
	var last cc.Token
	switch ed.Case {
	case cc.ExternalDeclarationDecl:
		last = ed.Declaration.Token
		if ed.Declaration.Case != cc.DeclarationDecl {
			last = cc.Token{}
		}
	case cc.ExternalDeclarationFuncDef:
		if cs := ed.FunctionDefinition.CompoundStatement; cs != nil {
			last = cs.Token2
		}
	}
	if lp := last.Position(); lp.Filename == ed.Position().Filename && lp.Offset >= start && lp.Offset+len(last.Src()) <= len(src) && src[lp.Offset:lp.Offset+len(last.Src())] == string(last.Src()) {
		end = lp.Offset + len(last.Src())
	}
	if end < 0 {
		return expandedText(ed), -1
	}
	rawText := src[start:end]
	if namesMacro(rawText, macros) {
		return expandedText(ed), -1
	}
	if strings.IndexByte(rawText, '#') < 0 {
		return rawText, end
	}
	lines := strings.Split(rawText, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			lines[i] = ""
		}
	}
	return strings.Join(lines, "\n"), end
}

// namesMacro reports whether an identifier of text is one of macros.
func namesMacro[V any](text string, macros map[string]V) bool {
	found := false
	scanIdents(text, func(s, e int) {
		if _, ok := macros[text[s:e]]; ok {
			found = true
		}
	})
	return found
}

// expandedText is a declaration's tokens after macro expansion, as cc would parse them
// again. cc injects `static const char __func__[] = "name";` at the top of every function
// body and cc.NodeSource prints it; parsed once more, the body would define __func__ twice
// (a false error in every header function written with a macro such as __always_inline).
//
// Tokens are joined with a space, in their order in the token stream: cc.NodeSource
// keeps a token's own separator, and a token made by ## has none, so glibc's
// `sa_family_t sa_prefix##family` came out as one word (`sa_family_tsin_family`).
func expandedText(ed *cc.ExternalDeclaration) string {
	var toks []cc.Token
	tokens(ed, func(t cc.Token) { toks = append(toks, t) })
	sort.SliceStable(toks, func(i, j int) bool { return toks[i].Seq() < toks[j].Seq() })
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.Write(t.Src())
	}
	text := b.String()
	if ed.Case == cc.ExternalDeclarationFuncDef {
		injected := fmt.Sprintf(" static const char __func__ [ ] = %q ;", ed.FunctionDefinition.Declarator.Name())
		if i := strings.Index(text, "{"+injected); i >= 0 {
			text = text[:i+1] + text[i+1+len(injected):]
		}
	}
	return text
}

// declaredNames are the file-scope names a declaration introduces: declarators, tags of
// definitions, enumerators. A typed walk of the specifiers: the reflective walker made
// indexing twice as slow.
func declaredNames(ed *cc.ExternalDeclaration) []string {
	var names []string
	var typeSpec func(ts *cc.TypeSpecifier)
	declSpecs := func(ds *cc.DeclarationSpecifiers) {
		for ; ds != nil; ds = ds.DeclarationSpecifiers {
			typeSpec(ds.TypeSpecifier)
		}
	}
	typeSpec = func(ts *cc.TypeSpecifier) {
		if ts == nil {
			return
		}
		switch ts.Case {
		case cc.TypeSpecifierStructOrUnion:
			s := ts.StructOrUnionSpecifier
			// Only a definition declares a tag; `struct foo *p` merely mentions it.
			if s == nil || s.Case != cc.StructOrUnionSpecifierDef {
				return
			}
			if s.Token.Ch == rune(cc.IDENTIFIER) {
				names = append(names, s.Token.SrcStr())
			}
			for l := s.StructDeclarationList; l != nil; l = l.StructDeclarationList {
				if sd := l.StructDeclaration; sd != nil {
					for q := sd.SpecifierQualifierList; q != nil; q = q.SpecifierQualifierList {
						typeSpec(q.TypeSpecifier)
					}
				}
			}
		case cc.TypeSpecifierEnum:
			e := ts.EnumSpecifier
			if e == nil || e.Case == cc.EnumSpecifierTag {
				return
			}
			if e.Token2.Ch == rune(cc.IDENTIFIER) {
				names = append(names, e.Token2.SrcStr())
			}
			for l := e.EnumeratorList; l != nil; l = l.EnumeratorList {
				if l.Enumerator != nil {
					names = append(names, l.Enumerator.Token.SrcStr())
				}
			}
		}
	}
	switch ed.Case {
	case cc.ExternalDeclarationDecl:
		d := ed.Declaration
		declSpecs(d.DeclarationSpecifiers)
		for l := d.InitDeclaratorList; l != nil; l = l.InitDeclaratorList {
			if l.InitDeclarator != nil && l.InitDeclarator.Declarator != nil {
				names = append(names, l.InitDeclarator.Declarator.Name())
			}
		}
	case cc.ExternalDeclarationFuncDef:
		declSpecs(ed.FunctionDefinition.DeclarationSpecifiers)
		names = append(names, ed.FunctionDefinition.Declarator.Name())
	}
	return names
}

// neededNames are the identifiers of a declaration that may name another declaration,
// except tags used only through pointers (`struct X *` needs no definition of X).
func neededNames(text string) []string { return neededOf(text, false) }

// declNeededNames are the needed names of a declaration. In a type declaration (a
// record, an enum, a typedef) the names that member and typedef declarators declare are
// left out: `struct module *module;` names no declaration, but, counted as a use of the
// tag, it pulled struct module's definition and its closure into every compile.
func declNeededNames(text string) []string {
	if !typeDeclaration(text) {
		return neededNames(text)
	}
	return neededOf(text, true)
}

// typeDeclaration: text declares a type and nothing with an initializer or a body.
func typeDeclaration(text string) bool {
	for _, kw := range []string{"struct", "union", "enum", "typedef"} {
		if strings.HasPrefix(text, kw) && !isIdentByte(byteAt(text, len(kw))) {
			return !strings.ContainsAny(text, "=\"'#/")
		}
	}
	return false
}

// neededOf are the identifiers of text, sorted, but those used only as `struct X *` (or
// union); with skipDeclarators, also but the names declarators declare — an identifier
// after another identifier, `*`, `)` or `}` and before `;`, `,`, `:` or `[`. A byte
// scanner and a sorted slice: regular expressions made indexing vmlinux.h ten times slower,
// and a map per declaration a third.
func neededOf(text string, skipDeclarators bool) []string {
	type use struct {
		id     string
		behind bool // behind `struct`/`union`, before `*`
	}
	var uses []use
	prevTag := false // the previous identifier was struct or union
	scanIdents(text, func(start, end int) {
		id := text[start:end]
		switch id {
		case "struct", "union":
			prevTag = true
			return
		case "enum":
			prevTag = false
			return
		}
		if skipDeclarators && !prevTag && declaratorName(text, start, end) {
			return
		}
		uses = append(uses, use{id, prevTag && pointerFollows(text, end)})
		prevTag = false
	})
	slices.SortFunc(uses, func(a, b use) int { return strings.Compare(a.id, b.id) })
	var out []string
	for i := 0; i < len(uses); {
		j, ptrOnly := i, true
		for ; j < len(uses) && uses[j].id == uses[i].id; j++ {
			ptrOnly = ptrOnly && uses[j].behind
		}
		if !ptrOnly {
			if out == nil {
				out = make([]string, 0, len(uses)-i)
			}
			out = append(out, uses[i].id)
		}
		i = j
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// declaratorName reports whether the identifier text[start:end] is the name a declarator
// declares: after a type (an identifier, `*`, `)` or `}`) and before `;`, `,`, `:` or `[`.
func declaratorName(text string, start, end int) bool {
	j := end
	for j < len(text) && (text[j] == ' ' || text[j] == '\t' || text[j] == '\n') {
		j++
	}
	if j >= len(text) || !strings.ContainsRune(";,:[", rune(text[j])) {
		return false
	}
	i := start - 1
	for i >= 0 && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n') {
		i--
	}
	return i >= 0 && (isIdentByte(text[i]) || text[i] == '*' || text[i] == ')' || text[i] == '}')
}

// pointerFollows reports whether text continues at i with `*`, after white space and
// const/volatile qualifiers.
func pointerFollows(text string, i int) bool {
	for i < len(text) {
		switch c := text[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '*':
			return true
		case strings.HasPrefix(text[i:], "const") && !isIdentByte(byteAt(text, i+5)):
			i += 5
		case strings.HasPrefix(text[i:], "volatile") && !isIdentByte(byteAt(text, i+8)):
			i += 8
		default:
			return false
		}
	}
	return false
}

func byteAt(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// scanIdents calls fn with the bounds of every identifier of C text outside string and
// character literals and comments.
func scanIdents(text string, fn func(start, end int)) {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '"' || c == '\'':
			j := literalEnd(text, i)
			i = j + 1
		case c == '/' && i+1 < len(text) && text[i+1] == '/':
			for i < len(text) && text[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(text) && text[i+1] == '*':
			j := blockCommentEnd(text, i)
			if j < 0 {
				return
			}
			i = j
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			j := i + 1
			for j < len(text) && isIdentByte(text[j]) {
				j++
			}
			fn(i, j)
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

// renderMacro writes a #define that recreates m.
func renderMacro(m *cc.Macro) string {
	var b strings.Builder
	name := m.Name.SrcStr()
	// At its own place, so that the pruned compile knows where a macro was defined as the
	// full one does (a macro of the main file is the user's: probe reads through it count).
	mp := m.Position()
	fmt.Fprintf(&b, "#undef %s\n#line %d %q\n#define %s", name, mp.Line, mp.Filename, name)
	if m.IsFnLike {
		b.WriteByte('(')
		for i, p := range m.Params {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p.SrcStr())
		}
		if m.VarArg >= 0 && !hasEllipsis(m.Params) {
			if len(m.Params) > 0 {
				b.WriteString(", ")
			}
			b.WriteString("...")
		}
		b.WriteByte(')')
	}
	for i, t := range m.ReplacementList() {
		if i == 0 || len(t.Sep()) > 0 {
			b.WriteByte(' ')
		}
		b.Write(t.Src())
	}
	b.WriteByte('\n')
	return b.String()
}

func hasEllipsis(params []cc.Token) bool {
	for _, p := range params {
		if p.SrcStr() == "..." {
			return true
		}
	}
	return false
}

// macroReach is the names that names reach through the macros alone: what closure reaches
// without following declarations.
func (p *preamble) macroReach(names []string) map[string]bool {
	return reachNames(names, p.macroNames)
}

// macroNames gives add the names the macro n reaches directly: the identifiers of its
// replacement list, and the names those can be pasted into. Token pasting makes names no
// text spells out: libbpf's ___bpf_apply(___bpf_kprobe_args, 2) becomes
// ___bpf_kprobe_args2, and BPF_FIELD_##info becomes BPF_FIELD_EXISTS.
func (p *preamble) macroNames(n string, add func(string)) {
	for _, id := range p.macros[n] {
		add(id)
		for _, pasted := range p.pastedFrom(id) {
			add(pasted)
		}
	}
}

// closure returns the indices of the declarations that declare any of the names, and of
// those their declarations need, in translation order; and every name reached, macros
// included (a macro reaches the identifiers of its replacement list).
func (p *preamble) closure(names []string) ([]int, map[string]bool) {
	picked, need, _, _ := p.slimClosure(names, false, nil)
	return picked, need
}

// slimClosure is closure; with slim, the records with a slim plan are cut down to the
// members the names reached can name (slim.go), and what only their cut members need is
// not reached. cut holds their texts.
//
// With bare (the main file's names it never writes as a tag: bareNames), tags and
// ordinary names are told apart (tags.go): a name reached only as an ordinary one — bare,
// or written in a declaration other than after struct, union or enum — does not reach
// the declarations that declare it only as a tag. dropped are the names whose tag
// declarations were left out.
func (p *preamble) slimClosure(names []string, slim bool, bare map[string]bool) (picked []int, need map[string]bool, cut map[int]*slimmed, dropped map[string]bool) {
	need = map[string]bool{}
	held := map[string]bool{} // names reached only as ordinary ones
	var queue []string
	add := func(n string) {
		if !need[n] || held[n] {
			need[n] = true
			delete(held, n)
			queue = append(queue, n)
		}
	}
	addOrdinary := func(n string) {
		if !need[n] {
			need[n], held[n] = true, true
			queue = append(queue, n)
		}
	}
	accessed := make(map[string]bool, len(names))
	for _, n := range names {
		accessed[n] = true
		if bare[n] {
			addOrdinary(n)
		} else {
			add(n)
		}
	}
	seen := map[int]bool{}
	follow := func(i int, refs []string, tags func() map[string]bool) {
		var tagged map[string]bool
		if bare != nil {
			tagged = tags()
		}
		for _, r := range refs {
			switch {
			case bare != nil && slices.Contains(p.decls[i].declares, r):
				// What it declares itself (`enum bpf_map_type {`, its constants) reaches
				// nothing more, nor needs its constants (enums.go).
			case bare != nil && !tagged[r]:
				addOrdinary(r)
			default:
				add(r)
			}
		}
		// A member the file names, declared `struct T *m`, is likely dereferenced
		// (`BPF_CORE_READ(task, nsproxy, cgroup_ns, ...)`): T must be complete. Without
		// this, each level of such a chain cost a retry on cc's error.
		for member, tags := range p.pointerMembers(i) {
			if accessed[member] {
				for _, t := range tags {
					add(t)
				}
			}
		}
	}
	// Whether a record's member is named is known once every name is: a record with a
	// plan waits until the queue is empty. A name reached later can still name a member
	// cut before (a header function's body, say): the record is cut again, with it kept.
	var waiting []int
	for {
		for len(queue) > 0 {
			n := queue[0]
			queue = queue[1:]
			p.macroNames(n, add)
			for _, i := range p.byName[n] {
				if seen[i] || held[n] && p.declaresTagOnly(i, n) {
					continue
				}
				seen[i] = true
				if slim && p.plan(i) != nil {
					waiting = append(waiting, i)
					continue
				}
				follow(i, p.decls[i].refs, func() map[string]bool { return p.declTags(i) })
			}
		}
		for _, i := range waiting {
			s := p.plan(i).slim(p.decls[i], need)
			if s == nil {
				follow(i, p.decls[i].refs, func() map[string]bool { return p.declTags(i) })
				continue
			}
			if cut == nil {
				cut = map[int]*slimmed{}
			}
			cut[i] = s
			follow(i, s.refs, s.tagUses)
		}
		waiting = waiting[:0]
		for i, s := range cut {
			if again := p.plan(i).slim(p.decls[i], need); again != s {
				if again == nil {
					delete(cut, i)
					follow(i, p.decls[i].refs, func() map[string]bool { return p.declTags(i) })
				} else {
					cut[i] = again
					follow(i, again.refs, again.tagUses)
				}
			}
		}
		if len(queue) == 0 {
			break
		}
	}
	picked = make([]int, 0, len(seen))
	for i := range seen {
		picked = append(picked, i)
	}
	sort.Ints(picked)
	if slim && bare != nil {
		// Enums reached through their constants alone (enums.go): now that every name is.
		for _, i := range picked {
			pl := p.enumPlanOf(i)
			if pl == nil || pl.tag != "" && need[pl.tag] && !held[pl.tag] {
				continue
			}
			if s := pl.slim(p.decls[i].text, need); s != nil {
				if cut == nil {
					cut = map[int]*slimmed{}
				}
				cut[i] = s
			}
		}
	}
	for n := range held {
		for _, i := range p.byName[n] {
			if !seen[i] {
				if dropped == nil {
					dropped = map[string]bool{}
				}
				dropped[n] = true
			}
		}
	}
	return picked, need, cut, dropped
}

var pointerMember = regexp.MustCompile(`\b(?:struct|union)\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:const\s*|volatile\s*)*\*[\s*]*(?:const\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[;,\[]`)

// pointerMembers maps the names of a record definition's members declared as pointers to
// records to those records' tags (cached: declarations do not change).
func (p *preamble) pointerMembers(i int) map[string][]string {
	if v, ok := p.ptrMembers.Load(i); ok {
		return v.(map[string][]string)
	}
	var out map[string][]string
	if d := p.decls[i]; d.hasBody() && typeDeclaration(d.text) {
		for _, m := range pointerMember.FindAllStringSubmatch(d.text, -1) {
			if out == nil {
				out = map[string][]string{}
			}
			out[m[2]] = append(out[m[2]], m[1])
		}
	}
	p.ptrMembers.Store(i, out)
	return out
}

// pastedFrom lists the names that are prefix followed by upper-case letters, digits and
// '_' (___core_read ## N, ___rd_p ## 3, BPF_FIELD_ ## EXISTS).
func (p *preamble) pastedFrom(prefix string) []string {
	if len(prefix) < 4 {
		return nil
	}
	var out []string
	i := sort.SearchStrings(p.sorted, prefix)
	for ; i < len(p.sorted) && strings.HasPrefix(p.sorted[i], prefix); i++ {
		rest := p.sorted[i][len(prefix):]
		if rest == "" {
			continue
		}
		upper := true
		for _, c := range rest {
			if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
				upper = false
			}
		}
		if upper {
			out = append(out, p.sorted[i])
		}
	}
	return out
}

// maxLineGap is the most newlines render writes instead of a #line directive.
const maxLineGap = 16

var newlines = strings.Repeat("\n", maxLineGap)

const pushPreserve = "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"

// render writes the pruned header source: the picked declarations in order, each at its
// file and line (after a #line marker, or newlines when it is a few lines on), records of vmlinux.h-style pragma ranges inside a pragma push/pop again;
// and, apart, the macros the file can reach (declaration texts never need one: see
// declText), which follow the declarations in the translation.
func (p *preamble) render(picked []int, names map[string]bool) (decls, macros string) {
	return p.renderDecls(picked, nil), p.renderMacros(names)
}

// renderDecls is render's declarations, the records in cut with their slim texts.
func (p *preamble) renderDecls(picked []int, cut map[int]*slimmed) string {
	var b strings.Builder
	open := false
	// Where the text written so far leaves cc: a declaration a few lines further on in the
	// same file is reached with newlines, cheaper for cc than a #line directive (most picked
	// declarations are close to the one before them).
	file, line := "", 0
	for _, i := range picked {
		d := p.decls[i]
		if d.preserve != open {
			if d.preserve {
				fmt.Fprintf(&b, "#line %d %q\n%s", d.line, d.file, pushPreserve)
			} else {
				b.WriteString("#pragma clang attribute pop\n")
			}
			open, file = d.preserve, ""
		}
		if gap := d.line - line; d.file == file && gap >= 0 && gap <= maxLineGap {
			b.WriteString(newlines[:gap])
		} else {
			fmt.Fprintf(&b, "#line %d %q\n", d.line, d.file)
		}
		text := d.text
		if s := cut[i]; s != nil {
			text = s.text
		}
		b.WriteString(text)
		b.WriteByte('\n')
		file, line = d.file, d.line+strings.Count(text, "\n")+1
	}
	if open {
		b.WriteString("#pragma clang attribute pop\n")
	}
	return b.String()
}

// renderMacros is render's macros.
func (p *preamble) renderMacros(names map[string]bool) string {
	var b strings.Builder
	b.WriteString("#line 1 \"<preamble-macros>\"\n")
	defined := make([]string, 0, len(names))
	for n := range names {
		if _, ok := p.defines[n]; ok {
			defined = append(defined, n)
		}
	}
	sort.Strings(defined)
	for _, n := range defined {
		b.WriteString(p.defines[n])
	}
	return b.String()
}

// addDefined completes Facts.Defined after a pruned compile, which kept only the macros and
// declarations the file reaches: what the file can use is what its preamble defines.
func (p *preamble) addDefined(res *Result) {
	if res.Facts.Defined == nil {
		return
	}
	_, helpers := p.defines["__BPF_HELPERS__"]
	for _, n := range DefinedNames {
		_, macro := p.defines[n]
		_, decl := p.byName[n]
		if macro || strings.HasPrefix(n, "bpf_probe_read") && (helpers || decl) {
			res.Facts.Defined[n] = true
		}
	}
}

// interner shares header texts and declarations between the preambles of a Cache.
type interner struct {
	mu       sync.Mutex
	contents map[string]string   // path + stamp → contents
	decls    map[declKey]*ppDecl // see indexPreamble
}

func newInterner() *interner {
	return &interner{contents: map[string]string{}, decls: map[declKey]*ppDecl{}}
}

// content returns a header's text, shared when the file on disk is the same, and its
// stamp ("" for a file from the overlay, which is not shared); known, when not "", is the
// text, which the caller has already.
func (in *interner) content(path string, fsys *overlayFS, known string) (string, string) {
	stamp := fsys.stamp(path)
	if stamp == "" {
		if known == "" {
			data, _ := fsys.ReadFile(path)
			known = string(data)
		}
		return known, ""
	}
	key := path + "\x00" + stamp
	in.mu.Lock()
	c, ok := in.contents[key]
	in.mu.Unlock()
	if ok {
		return c, stamp
	}
	c = known
	if c == "" {
		// Not a copy: a disk file's contents are never written after they are read
		// (the overlay caches and serves them as they are), and vmlinux.h's 2.8 MB
		// copied were a tenth of a second start's loading.
		data, _ := fsys.ReadFile(path)
		c = unsafe.String(unsafe.SliceData(data), len(data))
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if old, ok := in.contents[key]; ok {
		return old, stamp
	}
	in.contents[key] = c
	return c, stamp
}

// retain forgets the texts and declarations of file versions not in live (keys
// path + "\x00" + stamp).
func (in *interner) retain(live map[string]bool) {
	in.mu.Lock()
	defer in.mu.Unlock()
	for k := range in.contents {
		if !live[k] {
			delete(in.contents, k)
		}
	}
	for k := range in.decls {
		if !live[k.file+"\x00"+k.stamp] {
			delete(in.decls, k)
		}
	}
}

func (in *interner) decl(key declKey) *ppDecl {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.decls[key]
}

func (in *interner) share(key declKey, d *ppDecl) *ppDecl {
	in.mu.Lock()
	defer in.mu.Unlock()
	if old, ok := in.decls[key]; ok {
		return old
	}
	in.decls[key] = d
	return d
}

// fresh reports whether no file the preamble read has changed on disk.
func (p *preamble) fresh() bool {
	for _, f := range p.files {
		fi, err := os.Stat(f.path)
		if err != nil || fi.Size() != f.size || fi.ModTime().UnixNano() != f.modTime {
			return false
		}
	}
	return true
}
