package compiler

import (
	"modernc.org/cc/v4"
)

// externs lists the main file's patchable externs: `extern T NAME __kconfig;` (section
// .kconfig) and `extern T NAME __ksym;` (section .ksyms), which the loader fills in.
func (x *extractor) externs() []Extern {
	var out []Extern
	for l := x.ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		ed := l.ExternalDeclaration
		if ed.Case != cc.ExternalDeclarationDecl || ed.Declaration == nil || ed.Position().Filename != x.path {
			continue
		}
		d := ed.Declaration
		for il := d.InitDeclaratorList; il != nil; il = il.InitDeclaratorList {
			id := il.InitDeclarator
			if id == nil || id.Declarator == nil || !id.Declarator.IsExtern() {
				continue
			}
			sec := sectionOf(d.DeclarationSpecifiers, id.Declarator, id.AttributeSpecifierList, d.AttributeSpecifierList)
			var kind string
			switch sec {
			case ".kconfig":
				kind = "kconfig"
			case ".ksyms":
				kind = "ksym"
			default:
				continue
			}
			t := id.Declarator.Type()
			e := Extern{
				Name:  id.Declarator.Name(),
				Kind:  kind,
				Weak:  hasAttr(weakNames, d.DeclarationSpecifiers, id.Declarator, id.AttributeSpecifierList, d.AttributeSpecifierList),
				Local: x.btf.typeOf(t),
			}
			if t != nil {
				e.Type = t.String()
			}
			if r, ok := x.tokenRange(id.Declarator.NameTok()); ok {
				e.Range = r
			}
			out = append(out, e)
		}
	}
	return out
}

var weakNames = map[string]bool{"weak": true, "__weak__": true}

func hasAttr(names map[string]bool, nodes ...cc.Node) bool {
	found := false
	for _, n := range nodes {
		inspect(n, func(n cc.Node) bool {
			if av, ok := n.(*cc.AttributeValue); ok {
				if names[av.Token.SrcStr()] {
					found = true
				}
				return false
			}
			return !found
		})
	}
	return found
}
