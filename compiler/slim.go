package compiler

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// Slim records: a compile of one function body (reuse.go) is given the header records it
// reaches with the members it cannot name cut down to their size.
//
// Most of what cc parses in such a compile is the records the function reaches, and most
// of that is what they contain by value: a program that reads task_struct's pid pulls in
// sched_entity, sched_statistics, thread_struct, fpu and their own members, some 15 KB of
// vmlinux.h that nothing it writes can reach. A member whose type is a record (or an array
// of records) is replaced by an integer array of the same size and alignment when no name
// it declares is named by the compile: the record keeps its members in order, so member
// indexes (access strings), offsets and sizes are the same, and the replaced member's type
// is no longer needed. A member is only reached through its name (p->m, .m =, offsetof),
// and every name the compile could name — the text's, its macros', the header
// declarations' — is in the closure's name set.
//
// Sizes and alignments come from cc: a pruned compile of the whole file (which has every
// record it reaches whole) records, for each header record it completed, which members can
// be cut and to what (learnSlims). A record not yet seen that way is given whole.
//
// The local types of the compile's relocations are those of the whole file's records, not
// of the slim ones: reuse takes them from the last compile, and a relocation whose local
// type reaches a slim record is not reused (agrees). Diagnostics name records without their
// members (clangWording).

// slimPlan lists the members of a header record that can be cut: member declarations
// (`struct sched_entity se;`) whose declarators all have a record type, by value.
type slimPlan struct {
	members []slimMember

	mu   sync.Mutex
	last map[string]*slimmed // by which members were cut: a few shapes per file
}

type slimMember struct {
	start, end int      // the declaration in the record's text, its ';' included
	names      []string // the names its declarators declare
	repl       string   // integer arrays of the same sizes and alignments, newlines kept
}

// slimmed is a record's text with some members cut, and the names that text needs.
type slimmed struct {
	text string
	refs []string
	cut  []string // the names of the members cut
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
var slimElem = map[int]string{1: "char", 2: "short", 4: "int", 8: "long long"}

// planSlim finds the members of record declaration i that can be cut, from s, its
// definition as cc parsed it at the declaration's place (renderDecls writes a declaration's
// text from the first column of its line, so cc's line and column locate its bytes).
func (p *preamble) planSlim(i int, s *cc.StructOrUnionSpecifier) *slimPlan {
	d := p.decls[i]
	if pos := s.Position(); pos.Filename != d.file || pos.Line != d.line || pos.Column != 1 {
		return noPlan
	}
	type fields interface{ FieldByName(string) *cc.Field }
	record, ok := s.Type().(fields)
	if !ok {
		return noPlan
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
	plan := &slimPlan{}
	for l := s.StructDeclarationList; l != nil; l = l.StructDeclarationList {
		sd := l.StructDeclaration
		if sd == nil || sd.Case != cc.StructDeclarationDecl || sd.StructDeclaratorList == nil {
			continue
		}
		var first cc.Token
		tokens(sd, func(t cc.Token) {
			if first.Ch == 0 || t.Seq() < first.Seq() {
				first = t
			}
		})
		start, semi := offset(first), offset(sd.Token)
		if start < 0 || semi < start {
			return noPlan // the text is not where cc saw it: cut nothing
		}
		text := d.text[start : semi+1]
		// Attributes may align a member; a record defined inside declares its own tag.
		if strings.Contains(text, "__attribute__") || strings.ContainsAny(text, "{}") {
			continue
		}
		m := slimMember{start: start, end: semi + 1}
		var parts []string
		for dl := sd.StructDeclaratorList; dl != nil; dl = dl.StructDeclaratorList {
			part, name := cutMember(dl.StructDeclarator, record)
			if part == "" {
				parts = nil
				break
			}
			parts = append(parts, part)
			m.names = append(m.names, name)
		}
		if parts == nil {
			continue
		}
		m.repl = strings.Join(parts, " ") + strings.Repeat("\n", strings.Count(text, "\n"))
		plan.members = append(plan.members, m)
	}
	if len(plan.members) == 0 {
		return noPlan
	}
	return plan
}

// cutMember is the declaration that replaces a member declarator of record type, and the
// member's name; "" when it is not one to cut.
func cutMember(sd *cc.StructDeclarator, record interface{ FieldByName(string) *cc.Field }) (decl, name string) {
	if sd == nil || sd.Case != cc.StructDeclaratorDecl || sd.Declarator == nil {
		return "", ""
	}
	name = sd.Declarator.Name()
	f := record.FieldByName(name)
	if name == "" || f == nil || f.IsBitfield() {
		return "", ""
	}
	t := f.Type()
	elem := t
	for elem.Kind() == cc.Array {
		a, ok := elem.(*cc.ArrayType)
		if !ok {
			return "", ""
		}
		elem = a.Elem()
	}
	if k := elem.Kind(); k != cc.Struct && k != cc.Union {
		return "", ""
	}
	align, size := t.FieldAlign(), t.Size()
	typ, ok := slimElem[align]
	if !ok || size <= 0 || size%int64(align) != 0 {
		return "", ""
	}
	return fmt.Sprintf("%s %s[%d];", typ, name, size/int64(align)), name
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
	var key []byte
	cut := false
	for _, m := range pl.members {
		named := false
		for _, n := range m.names {
			named = named || need[n]
		}
		if named {
			key = append(key, '1')
		} else {
			key, cut = append(key, '0'), true
		}
	}
	if !cut {
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
	for j, m := range pl.members {
		if key[j] == '0' {
			b.WriteString(d.text[at:m.start])
			b.WriteString(m.repl)
			at = m.end
			s.cut = append(s.cut, m.names...)
		}
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
// about a value of an integer array type, or a pointer to one's elements, may be about a
// member cut.
func slimHolds(ast *cc.AST, err error, mainPath string, cut map[string]bool) bool {
	if err != nil {
		return !cutArray.MatchString(err.Error())
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

// cutArray is how cc writes the type of a member cut, `[8]long long`, or what it decays
// to.
var cutArray = regexp.MustCompile(`(?:\[[0-9]+\]|pointer to )(?:char|short|int|long long)\b`)
