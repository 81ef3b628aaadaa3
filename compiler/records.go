package compiler

import (
	"modernc.org/cc/v4"
)

// recordInfo answers, for a struct or union type, whether clang would preserve accesses to
// it (the preserve_access_index attribute, directly, through the pragma, or inherited from
// an enclosing attributed record), and how BTF numbers its members.
type recordInfo struct {
	pragmas *pragmaRanges
	// attributed holds records carrying the attribute in the syntax, keyed by their first
	// member's declarator: cc/v4 clones types (typedefs, qualifiers) but shares declarators.
	attributed map[*cc.Declarator]bool
	// slims are the header records a compile was given cut down (slim.go), by tag.
	slims map[string]*slimPlan
}

func newRecordInfo(ast *cc.AST, pragmas *pragmaRanges) *recordInfo {
	ri := &recordInfo{pragmas: pragmas, attributed: map[*cc.Declarator]bool{}}
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		switch ed.Case {
		case cc.ExternalDeclarationDecl:
			if d := ed.Declaration; d != nil {
				ri.scanDeclSpecs(d.DeclarationSpecifiers, hasPreserveAttr(d.AttributeSpecifierList))
			}
		case cc.ExternalDeclarationFuncDef:
			// Records declared inside function bodies are rare in BPF programs; the
			// function's own specifiers may define one.
			ri.scanDeclSpecs(ed.FunctionDefinition.DeclarationSpecifiers, false)
		}
	}
	return ri
}

func (ri *recordInfo) scanDeclSpecs(ds *cc.DeclarationSpecifiers, attr bool) {
	for l := ds; l != nil; l = l.DeclarationSpecifiers {
		if hasPreserveAttr(l.AttributeSpecifierList) {
			attr = true
		}
	}
	for l := ds; l != nil; l = l.DeclarationSpecifiers {
		ri.scanTypeSpec(l.TypeSpecifier, attr)
	}
}

// scanSpecifier records a struct/union definition and the records nested in it.
func (ri *recordInfo) scanSpecifier(s *cc.StructOrUnionSpecifier, inherited bool) {
	if s == nil || s.Case != cc.StructOrUnionSpecifierDef {
		return
	}
	attr := inherited || hasPreserveAttr(s.AttributeSpecifierList) || hasPreserveAttr(s.AttributeSpecifierList2)
	if attr {
		if k := recordKey(s.Type()); k != nil {
			ri.attributed[k] = true
		}
	}
	for l := s.StructDeclarationList; l != nil; l = l.StructDeclarationList {
		sd := l.StructDeclaration
		if sd == nil {
			continue
		}
		for q := sd.SpecifierQualifierList; q != nil; q = q.SpecifierQualifierList {
			ri.scanTypeSpec(q.TypeSpecifier, attr)
		}
	}
}

func (ri *recordInfo) scanTypeSpec(ts *cc.TypeSpecifier, attr bool) {
	if ts != nil && ts.Case == cc.TypeSpecifierStructOrUnion {
		ri.scanSpecifier(ts.StructOrUnionSpecifier, attr)
	}
}

func hasPreserveAttr(l *cc.AttributeSpecifierList) bool {
	for ; l != nil; l = l.AttributeSpecifierList {
		if l.AttributeSpecifier == nil {
			continue
		}
		for v := l.AttributeSpecifier.AttributeValueList; v != nil; v = v.AttributeValueList {
			if v.AttributeValue == nil {
				continue
			}
			switch v.AttributeValue.Token.SrcStr() {
			case "preserve_access_index", "__preserve_access_index__":
				return true
			}
		}
	}
	return false
}

// recordKey identifies a record definition across cc/v4's type clones: the declarator of
// its first named member, found through anonymous members.
func recordKey(t cc.Type) *cc.Declarator {
	for i := 0; i < numFields(t); i++ {
		f := fieldByIndex(t, i)
		if d := f.Declarator(); d != nil {
			return d
		}
		if f.Name() == "" && isRecord(f.Type()) {
			if d := recordKey(f.Type()); d != nil {
				return d
			}
		}
	}
	return nil
}

// preserved reports whether member accesses to the record t are relocated by clang outside
// __builtin_preserve_access_index.
func (ri *recordInfo) preserved(t cc.Type) bool {
	k := recordKey(t)
	if k == nil {
		return false
	}
	if ri.attributed[k] {
		return true
	}
	p := k.Position()
	return ri.pragmas.contains(p.Filename, p.Offset)
}

// memberIndex is the index of f among the BTF members of its record parent as the whole
// header declares it, when the compile was given the record cut down.
func (ri *recordInfo) memberIndex(parent cc.Type, f *cc.Field) int {
	if pl := ri.slims[recordName(parent)]; pl != nil && isRecord(parent) {
		if k := recordKey(parent); k != nil && k.Position().Filename == pl.file {
			if i, ok := pl.wholeIndex(parent, f); ok {
				return i
			}
		}
	}
	return btfMemberIndex(parent, f)
}

// btfMemberIndex is the index of f among its record's BTF members: unnamed bitfields
// (padding such as `long: 64;`) are not BTF members.
func btfMemberIndex(parent cc.Type, f *cc.Field) int {
	n := 0
	for i := 0; i < numFields(parent); i++ {
		g := fieldByIndex(parent, i)
		if g == f || (g.Declarator() != nil && g.Declarator() == f.Declarator() && g.Name() == f.Name() && g.Index() == f.Index()) {
			return n
		}
		if isBTFMember(g) {
			n++
		}
	}
	return f.Index()
}

func isBTFMember(f *cc.Field) bool { return !(f.IsBitfield() && f.Name() == "") }

func numFields(t cc.Type) int {
	switch x := t.(type) {
	case *cc.StructType:
		return x.NumFields()
	case *cc.UnionType:
		return x.NumFields()
	}
	return 0
}

func fieldByIndex(t cc.Type, i int) *cc.Field {
	switch x := t.(type) {
	case *cc.StructType:
		return x.FieldByIndex(i)
	case *cc.UnionType:
		return x.FieldByIndex(i)
	}
	return nil
}

func isRecord(t cc.Type) bool {
	switch t.(type) {
	case *cc.StructType, *cc.UnionType:
		return true
	}
	return false
}

// recordName is the tag of a struct/union/enum, "" when anonymous.
func recordName(t cc.Type) string {
	switch x := t.(type) {
	case *cc.StructType:
		tok := x.Tag()
		return tok.SrcStr()
	case *cc.UnionType:
		tok := x.Tag()
		return tok.SrcStr()
	case *cc.EnumType:
		tok := x.Tag()
		return tok.SrcStr()
	}
	return ""
}

// bitOffset is the bit offset of f within its record. For bitfields cc/v4 v4.31.0 lays out
// some runs differently from clang and GCC (an unnamed `long: 28` after `unsigned int`
// bitfields starts a new unit in cc, while the SysV ABI packs it into the current long
// unit; task_struct has exactly that), so a run of bitfields is laid out here with the
// ABI's rule: a bitfield starts at the next free bit unless it would straddle a unit of
// its type's size, where it starts at that unit's end; `: 0` closes the unit.
func bitOffset(parent cc.Type, f *cc.Field) int64 {
	if !f.IsBitfield() {
		return f.Offset() * 8
	}
	a := parent.Attributes() // AttrValue, unlike IsAttrSet, accepts a nil *Attributes
	packed := a.AttrValue("packed") != nil || a.AttrValue("__packed__") != nil
	var pos int64
	for i := 0; i < numFields(parent); i++ {
		g := fieldByIndex(parent, i)
		if !g.IsBitfield() {
			pos = (g.Offset() + g.Type().Size()) * 8
			continue
		}
		unit := g.Type().Size() * 8
		w := g.ValueBits()
		switch {
		case w == 0:
			if unit > 0 {
				pos = (pos + unit - 1) / unit * unit
			}
		case !packed && unit > 0 && pos/unit != (pos+w-1)/unit:
			pos = (pos + unit - 1) / unit * unit
		}
		if g == f || (g.Index() == f.Index() && g.Name() == f.Name()) {
			return pos
		}
		pos += w
	}
	return f.Offset()*8 + int64(f.OffsetBits())
}
