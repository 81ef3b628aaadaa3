package compiler

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// Slim records: a compile of one function body (reuse.go) is given the header records it
// reaches with the members it cannot name cut out.
//
// Most of what cc parses in such a compile is the records the function reaches: a program
// that reads task_struct's pid pulls in its ~250 members, and through them sched_entity,
// thread_struct, fpu and more, some 20 KB of vmlinux.h that nothing it writes can reach. Each
// run of consecutive members none of whose names the compile names becomes padding: at most
// three integer arrays covering the same bytes with the same alignment. Runs of bit-fields
// (task_struct's flags, vmlinux.h's `long: 64;` before a cache-line aligned member) count
// as one member each. The members kept
// have the offsets, and the record the size and alignment, of the whole record, and the
// members cut no longer need their types. A member is only reached through its name (p->m,
// .m =, offsetof), and every name the compile could name — the text's, its macros', the
// header declarations' — is in the closure's name set.
//
// Member indexes (access strings) are not those of the whole record: the extractor maps a
// member kept to its index in the whole record (recordInfo.memberIndex).
//
// Offsets, sizes and alignments come from cc: a pruned compile of the whole file (which has
// every record it reaches whole) records, for each header record it completed, which
// members can be cut and what they cover (learnSlims). A record not yet seen that way is
// given whole.
//
// The local types of the compile's relocations are those of the whole file's records, not
// of the slim ones: reuse takes them from the last compile, and a relocation whose local
// type reaches a slim record is not reused (agrees). Diagnostics name records without their
// members (clangWording).

// slimPlan lists the members of a header record that can be cut, and where the members of
// the whole record are among its BTF members.
type slimPlan struct {
	file    string // the header defining the record, as cc names it
	union   bool
	members []slimMember
	index   map[string]int // a named member's BTF index in the whole record
	anon    []int          // the anonymous members' BTF indexes, in order

	mu   sync.Mutex
	last map[string]*slimmed // by which members were cut: a few shapes per file
}

// slimMember is a member declaration that can be cut: every declarator names a member
// that is not a bit-field, with a size and an alignment padding can have; or a run of
// declarations of bit-fields only (bitfieldRuns).
type slimMember struct {
	start, end int      // the declaration in the record's text, its ';' included
	names      []string // the names its declarators declare
	joins      bool     // it follows the member before it with only blanks between: one run
	lo, hi     int64    // the bytes its declarators cover
	align      int64    // the first declarator's alignment
	maxAlign   int64    // the largest alignment of its declarators
	maxAt      int64    // the offset of the first declarator with maxAlign
	bits       bool     // a run of bit-fields: kept, it keeps the members beside it
	decl       int      // its index among the record's member declarations, runs as one
}

// slimmed is a record's text with some members cut, and the names that text needs.
type slimmed struct {
	text string
	refs []string
	cut  []string // the names of the members cut, and of the padding

	tagsOnce sync.Once
	tags     map[string]bool // tagUses of text
}

// tagUses is tagUses of the text, found once.
func (s *slimmed) tagUses() map[string]bool {
	s.tagsOnce.Do(func() { s.tags = tagUses(s.text, nil) })
	return s.tags
}

// noPlan marks a record learned to have nothing to cut.
var noPlan = &slimPlan{}

// learnSlims records the plans of the header records a compile completed. ast is of a
// compile given whole (never slim) records.
func (p *preamble) learnSlims(ast *cc.AST) {
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed == nil || ed.Case != cc.ExternalDeclarationDecl || ed.Declaration.Case != cc.DeclarationDecl {
			continue
		}
		for ds := ed.Declaration.DeclarationSpecifiers; ds != nil; ds = ds.DeclarationSpecifiers {
			ts := ds.TypeSpecifier
			if ts == nil || ts.Case != cc.TypeSpecifierStructOrUnion {
				continue
			}
			s := ts.StructOrUnionSpecifier
			if s == nil || s.Case != cc.StructOrUnionSpecifierDef || s.Token.Ch != rune(cc.IDENTIFIER) {
				continue
			}
			i, ok := p.recordDecl(s.Token.SrcStr())
			if !ok || s.Position().Filename != p.decls[i].file {
				continue // the main file's own
			}
			if _, done := p.slims.Load(i); !done {
				p.slims.Store(i, p.planSlim(i, s))
			}
		}
	}
}

// recordDecl is the one header declaration that is exactly the definition of record tag.
func (p *preamble) recordDecl(tag string) (int, bool) {
	found := -1
	for _, i := range p.byName[tag] {
		d := p.decls[i]
		if len(d.declares) != 1 || !d.hasBody() {
			continue
		}
		if !strings.HasPrefix(d.text, "struct "+tag) && !strings.HasPrefix(d.text, "union "+tag) {
			continue
		}
		if found >= 0 {
			return 0, false // defined twice (#ifdef'd variants): not worth telling apart
		}
		found = i
	}
	return found, found >= 0
}

// slimElem are the integer types of each alignment, for the bpf target.
var slimElem = map[int64]string{1: "char", 2: "short", 4: "int", 8: "long long"}

// planSlim finds the members of record declaration i that can be cut, from s, its
// definition as cc parsed it at the declaration's place (renderDecls writes a declaration's
// text from the first column of its line, so cc's line and column locate its bytes).
func (p *preamble) planSlim(i int, s *cc.StructOrUnionSpecifier) *slimPlan {
	d := p.decls[i]
	if pos := s.Position(); pos.Filename != d.file || pos.Line != d.line || pos.Column != 1 {
		return noPlan
	}
	t := s.Type()
	// A packed record's members need not sit where their alignment puts them.
	if !isRecord(t) || numFields(t) == 0 || strings.Contains(d.text, "packed") {
		return noPlan
	}
	plan := &slimPlan{file: d.file, union: t.Kind() == cc.Union, index: map[string]int{}}
	n := 0
	for j := range numFields(t) {
		f := fieldByIndex(t, j)
		if !isBTFMember(f) {
			continue
		}
		if f.Name() == "" {
			plan.anon = append(plan.anon, n)
		} else {
			plan.index[f.Name()] = n
		}
		n++
	}
	lines := newLineTable([]byte(d.text))
	offset := func(t cc.Token) int {
		pos := t.Position()
		off := lines.offset(pos.Line-d.line+1, pos.Column)
		if pos.Filename != d.file || off < 0 || off > len(d.text) || !strings.HasPrefix(d.text[off:], t.SrcStr()) {
			return -1
		}
		return off
	}
	var decls []memberDecl
	prevEnd := -1
	field := 0
	for l := s.StructDeclarationList; l != nil; l = l.StructDeclarationList {
		sd := l.StructDeclaration
		if sd == nil || sd.Case != cc.StructDeclarationDecl {
			decls = append(decls, memberDecl{field: field}) // a static assertion: a run ends there
			prevEnd = -1
			continue
		}
		var first cc.Token
		tokens(sd, func(t cc.Token) {
			if first.Ch == 0 || t.Seq() < first.Seq() {
				first = t
			}
		})
		start, semi := offset(first), offset(sd.Token)
		if start < 0 || semi < start || start < prevEnd {
			return noPlan // the text is not where cc saw it: cut nothing
		}
		dc := memberDecl{m: slimMember{start: start, end: semi + 1}, field: field, fields: 1, bitsOnly: sd.StructDeclaratorList != nil}
		dc.m.joins = prevEnd >= 0 && strings.TrimSpace(d.text[prevEnd:start]) == ""
		prevEnd = semi + 1
		dc.cut, dc.bitfield = memberSpan(sd, t, d.text[start:semi+1], &dc.m)
		if sd.StructDeclaratorList != nil {
			dc.fields = 0
			for dl := sd.StructDeclaratorList; dl != nil; dl = dl.StructDeclaratorList {
				dc.fields++
				dc.bitsOnly = dc.bitsOnly && dl.StructDeclarator != nil && dl.StructDeclarator.Case == cc.StructDeclaratorBitField
			}
		}
		field += dc.fields
		decls = append(decls, dc)
	}
	if !plan.union && field == numFields(t) {
		decls = bitfieldRuns(decls, t)
	}
	// Where cc puts a bit-field depends on the member before it, not only on where that
	// member ends: the members beside a bit-field are kept as they are (and those beside
	// a run of bit-fields that can be cut, when it is kept: slim).
	for j, dc := range decls {
		if dc.bitfield {
			if j > 0 {
				decls[j-1].cut = false
			}
			if j+1 < len(decls) {
				decls[j+1].cut = false
			}
		}
	}
	for j, dc := range decls {
		if dc.cut {
			dc.m.joins = dc.m.joins && j > 0 && decls[j-1].cut
			dc.m.decl = j
			plan.members = append(plan.members, dc.m)
		}
	}
	if len(plan.members) == 0 {
		return noPlan
	}
	return plan
}

// memberDecl is one member declaration of a record being planned.
type memberDecl struct {
	m             slimMember
	cut, bitfield bool
	bitsOnly      bool // every declarator is a bit-field
	field, fields int  // its first field's index in the record, and how many it declares
}

// bitfieldRuns makes each run of declarations of bit-fields only (named or not: vmlinux.h
// pads with `long: 64;`) one member that can be cut, when char padding can stand for it:
// from where the field before it ends to where the field after it starts (or the record
// ends), cc places the fields around it where it did. Its fields must not be what aligns
// the record: the other fields' alignment must be at least theirs.
func bitfieldRuns(decls []memberDecl, t cc.Type) []memberDecl {
	n := numFields(t)
	var align int64 // the non-bit-fields'
	for j := range n {
		if f := fieldByIndex(t, j); !f.IsBitfield() {
			align = max(align, int64(f.Type().Align()))
		}
	}
	out := decls[:0:0]
	for j := 0; j < len(decls); {
		k := j
		for k < len(decls) && decls[k].bitsOnly {
			k++
		}
		if k == j {
			out = append(out, decls[j])
			j++
			continue
		}
		if run, ok := bitfieldRun(decls[j:k], t, n, align); ok {
			out = append(out, run)
		} else {
			out = append(out, decls[j:k]...)
		}
		j = k
	}
	return out
}

// bitfieldRun is the member standing for the declarations run, all of bit-fields.
func bitfieldRun(run []memberDecl, t cc.Type, n int, align int64) (memberDecl, bool) {
	first, last := run[0].field, run[len(run)-1].field+run[len(run)-1].fields-1
	m := slimMember{start: run[0].m.start, end: run[len(run)-1].m.end, joins: run[0].m.joins, align: 1, maxAlign: 1, bits: true}
	if first > 0 {
		f := fieldByIndex(t, first-1)
		if f.IsBitfield() || f.Type().Size() < 0 {
			return memberDecl{}, false
		}
		m.lo = f.Offset() + f.Type().Size()
	}
	m.hi = t.Size()
	if last+1 < n {
		f := fieldByIndex(t, last+1)
		if f.IsBitfield() {
			return memberDecl{}, false
		}
		m.hi = f.Offset()
	}
	if m.hi <= m.lo {
		return memberDecl{}, false
	}
	m.maxAt = m.lo
	for j := first; j <= last; j++ {
		f := fieldByIndex(t, j)
		if !f.IsBitfield() || int64(f.Type().Align()) > align {
			return memberDecl{}, false
		}
		if name := f.Name(); name != "" {
			m.names = append(m.names, name)
		}
	}
	return memberDecl{m: m, cut: true}, true
}

// memberSpan fills in m for the member declaration sd of record t (text: its text) and
// reports whether it can be cut, and whether it declares a bit-field.
func memberSpan(sd *cc.StructDeclaration, t cc.Type, text string, m *slimMember) (cut, bitfield bool) {
	record, ok := t.(interface{ FieldByName(string) *cc.Field })
	if !ok {
		return false, false
	}
	// An anonymous member holds members of its own.
	cut = sd.StructDeclaratorList != nil
	// Attributes and _Alignas may align a member; a record defined inside declares its own
	// tag.
	if strings.Contains(text, "__attribute__") || strings.Contains(text, "lignas") || strings.ContainsAny(text, "{}") {
		cut = false
	}
	for dl := sd.StructDeclaratorList; dl != nil; dl = dl.StructDeclaratorList {
		x := dl.StructDeclarator
		if x == nil || x.Case != cc.StructDeclaratorDecl || x.Declarator == nil {
			bitfield = bitfield || x != nil && x.Case == cc.StructDeclaratorBitField
			cut = false
			continue
		}
		name := x.Declarator.Name()
		f := record.FieldByName(name)
		if name == "" || f == nil || f.IsBitfield() {
			bitfield = bitfield || f != nil && f.IsBitfield()
			cut = false
			continue
		}
		off, size, align := f.Offset(), f.Type().Size(), int64(f.Type().FieldAlign())
		if _, ok := slimElem[align]; !ok || size <= 0 || off%align != 0 {
			cut = false
			continue
		}
		if len(m.names) == 0 {
			m.lo, m.align = off, align
		}
		m.names = append(m.names, name)
		m.hi = max(m.hi, off+size)
		if align > m.maxAlign {
			m.maxAlign, m.maxAt = align, off
		}
	}
	return cut, bitfield
}

// padding is what replaces the run of members, the first of which is the plan's member
// at: integer arrays that cover the bytes the members covered, the first placed where the
// first member was, and with the largest alignment among them, so that the record keeps
// its layout and alignment. names are the arrays'.
func (pl *slimPlan) padding(run []slimMember, at int) (text string, names []string) {
	lo, hi, first := run[0].lo, run[0].hi, run[0].align
	align, alignAt := run[0].maxAlign, run[0].maxAt
	for _, m := range run[1:] {
		hi = max(hi, m.hi)
		if m.maxAlign > align {
			align, alignAt = m.maxAlign, m.maxAt
		}
	}
	var parts []string
	array := func(k int, elem string, n int64) {
		name := fmt.Sprintf("__corels_pad%d_%d", at, k)
		parts, names = append(parts, fmt.Sprintf("%s %s[%d];", elem, name, n)), append(names, name)
	}
	if pl.union {
		array(0, slimElem[align], (hi+align-1)/align)
		return parts[0], names
	}
	// In a struct: up to the most aligned member in elements of the first one's
	// alignment (it sits at a multiple of both), from there in elements of its alignment,
	// and what is left in chars.
	if alignAt > lo {
		array(0, slimElem[first], (alignAt-lo)/first)
	}
	if k := (hi - alignAt) / align; k > 0 {
		array(1, slimElem[align], k)
	}
	if r := (hi - alignAt) % align; r > 0 {
		array(2, "char", r)
	}
	return strings.Join(parts, " "), names
}

// wholeIndex is the index in the whole record of f, a member kept of the record parent
// cut down by pl.
func (pl *slimPlan) wholeIndex(parent cc.Type, f *cc.Field) (int, bool) {
	if f.Name() != "" {
		i, ok := pl.index[f.Name()]
		return i, ok
	}
	k := 0
	for j := range numFields(parent) {
		g := fieldByIndex(parent, j)
		if g == f {
			if k < len(pl.anon) {
				return pl.anon[k], true
			}
			return 0, false
		}
		if isBTFMember(g) && g.Name() == "" {
			k++
		}
	}
	return 0, false
}

// plan is declaration i's slim plan, nil when none is known or it has nothing to cut.
func (p *preamble) plan(i int) *slimPlan {
	v, ok := p.slims.Load(i)
	if !ok || v.(*slimPlan) == noPlan {
		return nil
	}
	return v.(*slimPlan)
}

// slim is record declaration i with the members none of whose names are in need cut; nil
// when it keeps them all.
func (pl *slimPlan) slim(d *ppDecl, need map[string]bool) *slimmed {
	key := make([]byte, len(pl.members))
	for j, m := range pl.members {
		key[j] = '0'
		for _, n := range m.names {
			if need[n] {
				key[j] = '1'
			}
		}
	}
	// A run of bit-fields kept keeps the members beside it (see planSlim).
	for j, m := range pl.members {
		if !m.bits || key[j] == '0' {
			continue
		}
		if j > 0 && pl.members[j-1].decl == m.decl-1 {
			key[j-1] = '1'
		}
		if j+1 < len(pl.members) && pl.members[j+1].decl == m.decl+1 {
			key[j+1] = '1'
		}
	}
	if !bytes.Contains(key, []byte{'0'}) {
		return nil
	}
	pl.mu.Lock()
	defer pl.mu.Unlock()
	if s, ok := pl.last[string(key)]; ok {
		return s
	}
	var b strings.Builder
	at := 0
	s := &slimmed{}
	for j := 0; j < len(pl.members); {
		if key[j] == '1' {
			j++
			continue
		}
		k := j + 1
		for k < len(pl.members) && key[k] == '0' && pl.members[k].joins {
			k++
		}
		run := pl.members[j:k]
		from, to := run[0].start, run[len(run)-1].end
		b.WriteString(d.text[at:from])
		pad, padNames := pl.padding(run, j)
		b.WriteString(pad)
		b.WriteString(strings.Repeat("\n", strings.Count(d.text[from:to], "\n")))
		for _, m := range run {
			s.cut = append(s.cut, m.names...)
		}
		s.cut = append(s.cut, padNames...)
		at, j = to, k
	}
	b.WriteString(d.text[at:])
	s.text = b.String()
	s.refs = declNeededNames(s.text)
	if pl.last == nil || len(pl.last) >= 8 {
		pl.last = map[string]*slimmed{}
	}
	pl.last[string(key)] = s
	return s
}

// slimHolds reports whether a compile given records cut down (cut: the names of the
// members cut) never reached a member cut. Every name the compile's text and macros spell
// was in the closure, but cc can still make one by pasting tokens (`p->x ## _field`): then
// the compile is redone with the records whole. With errors, cc gave no tree: a message
// that names a member cut, or is about a value of an integer array type or a pointer to
// one's elements (padding), may be about a member cut.
func slimHolds(ast *cc.AST, err error, mainPath string, cut map[string]bool) bool {
	if err != nil {
		msg := errorPosition.ReplaceAllString(err.Error(), "")
		holds := !cutArray.MatchString(msg)
		scanIdents(msg, func(s, e int) { holds = holds && !cut[msg[s:e]] })
		return holds
	}
	holds := true
	for l := ast.TranslationUnit; l != nil && holds; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed == nil || ed.Position().Filename != mainPath {
			continue
		}
		tokens(ed, func(t cc.Token) {
			if t.Ch == rune(cc.IDENTIFIER) && cut[t.SrcStr()] {
				holds = false
			}
		})
	}
	return holds
}

// errorPosition is where an error's line says it is.
var errorPosition = regexp.MustCompile(`(?m)^[^\n]*?:[0-9]+:[0-9]+: `)

// cutArray is how cc writes the type of a member cut, `[8]long long`, or what it decays
// to.
var cutArray = regexp.MustCompile(`(?:\[[0-9]+\]|pointer to )(?:char|short|int|long long)\b`)
