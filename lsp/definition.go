package lsp

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	cbtf "github.com/cilium/ebpf/btf"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"

	"github.com/corels/corels/compiler"
)

// Go to definition for the names of CO-RE accesses: a member name jumps to the member's
// declaration in the record that holds it (through anonymous structs and unions), a type
// name to the type's definition, an enumerator to its enum — in the file itself, a local
// header or vmlinux.h. The record is known exactly from the relocation (its local BTF
// type and access string); its declaration is found in the text of the file and of the
// headers it includes, read with the server's tokenizer (cached per header version).
// Without a relocation, `struct X` / `union X` / `enum X`, typedef names, enumerators and
// macros are looked up by name.

// Definition answers textDocument/definition.
func (s *Server) Definition(ctx context.Context, params *protocol.DefinitionParams) (protocol.DefinitionResult, error) {
	r, err := s.current(ctx, params.TextDocument.URI)
	if err != nil || r == nil {
		return nil, err
	}
	if tooLarge(r.text) {
		return nil, nil
	}
	m := r.mapper(s.encoding())
	off := m.offset(params.Position)
	toks := lex(r.text)
	ti := tokenAt(toks, off)
	if ti < 0 {
		return nil, nil
	}
	q := s.definitionQuery(r, toks, ti)
	if q.name == "" {
		return nil, nil
	}
	loc, ok := s.findDeclaration(r, q)
	if !ok {
		return nil, nil
	}
	return &loc, nil
}

// defQuery is what to look for.
type defQuery struct {
	name      string // the identifier
	member    bool   // a member of record
	record    string // "struct foo" / "union foo", or a typedef name of an anonymous record
	tag       string // "struct", "union", "enum" for a type name; "" for a typedef or any
	enumValue bool
}

func (s *Server) definitionQuery(r *result, toks []token, ti int) defQuery {
	t := toks[ti]
	name := t.text(r.text)
	if r.compile != nil {
		for _, rel := range r.compile.Relocations {
			if rel.Range.Start.File != "" && rel.Range.Start.File != r.path {
				continue
			}
			if rel.Range.Start.Offset > t.off || t.end > rel.Range.End.Offset || rel.Range.End.Offset == 0 {
				continue
			}
			switch {
			case rel.Kind.IsField():
				if rec, ok := memberContainer(rel.Local, rel.Access, name); ok {
					return defQuery{name: name, member: true, record: rec}
				}
			case rel.Kind.IsEnum():
				return defQuery{name: name, enumValue: true}
			case rel.Kind.IsType():
				return defQuery{name: name, tag: tagOf(rel.Local, name)}
			}
		}
	}
	if r.compile != nil {
		// Accesses whose offsets are compiled in (probe reads of unattributed records).
		for _, pr := range r.compile.ProbeReads {
			for _, fa := range pr.Unpreserved {
				if fa.Member != "" && fa.Member == name && fa.Range.Start.Offset <= t.off && t.end <= fa.Range.End.Offset {
					return defQuery{name: name, member: true, record: fa.Record}
				}
			}
		}
	}
	if ti > 0 && toks[ti-1].kind == tIdent {
		for _, kw := range []string{"struct", "union", "enum"} {
			if toks[ti-1].is(r.text, kw) {
				return defQuery{name: name, tag: kw}
			}
		}
	}
	if ti > 0 && (toks[ti-1].is(r.text, "->") || toks[ti-1].is(r.text, ".")) {
		return defQuery{} // a member whose record only the compiler knows
	}
	return defQuery{name: name}
}

// tagOf returns "struct"/"union"/"enum" when the local type named name is one.
func tagOf(t cbtf.Type, name string) string {
	switch t := t.(type) {
	case *cbtf.Struct:
		if t.Name == name {
			return "struct"
		}
	case *cbtf.Union:
		if t.Name == name {
			return "union"
		}
	case *cbtf.Enum:
		if t.Name == name {
			return "enum"
		}
	}
	return ""
}

func skipTypedefs(t cbtf.Type) (cbtf.Type, string) {
	alias := ""
	for i := 0; i < 64 && t != nil; i++ {
		switch tt := t.(type) {
		case *cbtf.Typedef:
			alias = tt.Name
			t = tt.Type
		case *cbtf.Const:
			t = tt.Type
		case *cbtf.Volatile:
			t = tt.Type
		case *cbtf.Restrict:
			t = tt.Type
		case *cbtf.TypeTag:
			t = tt.Type
		default:
			return t, alias
		}
	}
	return t, alias
}

// memberContainer walks access (a relocation's access string) from root and returns the
// record that declares the member called name: "struct X" / "union X" for a named record,
// else the typedef name of an anonymous one, else the nearest named record around it.
func memberContainer(root cbtf.Type, access, name string) (string, bool) {
	parts := strings.Split(access, ":")
	if root == nil || len(parts) < 2 {
		return "", false
	}
	t, alias := skipTypedefs(root)
	var named string // innermost named record on the way
	found := ""
	for _, p := range parts[1:] {
		idx, err := strconv.Atoi(p)
		if err != nil || idx < 0 {
			return "", false
		}
		var members []cbtf.Member
		recName := ""
		switch tt := t.(type) {
		case *cbtf.Struct:
			members = tt.Members
			if tt.Name != "" {
				recName = "struct " + tt.Name
			}
		case *cbtf.Union:
			members = tt.Members
			if tt.Name != "" {
				recName = "union " + tt.Name
			}
		case *cbtf.Array:
			t, alias = skipTypedefs(tt.Type)
			continue
		default:
			return "", false
		}
		if recName == "" && alias != "" {
			recName = alias
		}
		if recName != "" {
			named = recName
		}
		if idx >= len(members) {
			return "", false
		}
		if members[idx].Name == name {
			found = named
		}
		t, alias = skipTypedefs(members[idx].Type)
	}
	return found, found != ""
}

// declIndex is where a file declares things.
type declIndex struct {
	records     map[string][2]int // "struct foo" → offsets of "{" and "}"
	recordName  map[string]int    // "struct foo" → offset of the tag name
	typedefs    map[string]int    // name → offset of the name
	enumerators map[string]int
	macros      map[string]int
	anonByAlias map[string][2]int // typedef name of an anonymous record → its body
}

func buildIndex(src []byte) *declIndex {
	ix := &declIndex{
		records: map[string][2]int{}, recordName: map[string]int{}, typedefs: map[string]int{},
		enumerators: map[string]int{}, macros: map[string]int{}, anonByAlias: map[string][2]int{},
	}
	toks := lex(src)
	depth := 0
	typedefStart := -1
	lastAnonBody := [2]int{-1, -1}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch t.kind {
		case tDirective:
			d := src[t.off:t.end]
			j := 1
			for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
				j++
			}
			if len(d) >= j+6 && string(d[j:j+6]) == "define" {
				j += 6
				for j < len(d) && (d[j] == ' ' || d[j] == '\t') {
					j++
				}
				k := j
				for k < len(d) && isIdentChar(d[k]) {
					k++
				}
				if k > j {
					if _, ok := ix.macros[string(d[j:k])]; !ok {
						ix.macros[string(d[j:k])] = t.off + j
					}
				}
			}
			continue
		case tIdent:
			if depth == 0 && t.is(src, "typedef") {
				typedefStart = i
				lastAnonBody = [2]int{-1, -1}
			}
			if (t.is(src, "struct") || t.is(src, "union") || t.is(src, "enum")) && i+1 < len(toks) {
				n := toks[i+1]
				switch {
				case n.kind == tIdent && i+2 < len(toks) && punct(src, toks[i+2], '{'):
					key := t.text(src) + " " + n.text(src)
					j := matching(src, toks, i+2)
					if _, ok := ix.records[key]; !ok && j < len(toks) {
						ix.records[key] = [2]int{toks[i+2].off, toks[j].off}
						ix.recordName[key] = n.off
					}
					if t.is(src, "enum") {
						ix.addEnumerators(src, toks, i+2, j)
					}
				case punct(src, n, '{'):
					j := matching(src, toks, i+1)
					if j < len(toks) {
						if depth == 0 && typedefStart >= 0 {
							lastAnonBody = [2]int{n.off, toks[j].off}
						}
						if t.is(src, "enum") {
							ix.addEnumerators(src, toks, i+1, j)
						}
					}
				}
			}
		case tPunct:
			switch {
			case punct(src, t, '{'):
				depth++
			case punct(src, t, '}'):
				depth--
			case punct(src, t, ';') && depth == 0 && typedefStart >= 0:
				if name, at := typedefName(src, toks, typedefStart, i); name != "" {
					if _, ok := ix.typedefs[name]; !ok {
						ix.typedefs[name] = at
					}
					if lastAnonBody[0] >= 0 {
						if _, ok := ix.anonByAlias[name]; !ok {
							ix.anonByAlias[name] = lastAnonBody
						}
					}
				}
				typedefStart = -1
			}
		}
	}
	return ix
}

func (ix *declIndex) addEnumerators(src []byte, toks []token, open, close int) {
	expect := true
	depth := 0
	for k := open + 1; k < close && k < len(toks); k++ {
		t := toks[k]
		switch {
		case punct(src, t, '(') || punct(src, t, '{') || punct(src, t, '['):
			depth++
		case punct(src, t, ')') || punct(src, t, '}') || punct(src, t, ']'):
			depth--
		case depth == 0 && punct(src, t, ','):
			expect = true
		case depth == 0 && expect && t.kind == tIdent:
			if _, ok := ix.enumerators[t.text(src)]; !ok {
				ix.enumerators[t.text(src)] = t.off
			}
			expect = false
		}
	}
}

// typedefName finds the name a typedef statement toks[a..b] declares: the identifier in
// "(*name)" for function pointers, else the last identifier at depth 0 outside braces and
// brackets.
func typedefName(src []byte, toks []token, a, b int) (string, int) {
	name, at := "", -1
	depth := 0
	for k := a + 1; k < b; k++ {
		t := toks[k]
		switch {
		case punct(src, t, '{'):
			k = matching(src, toks, k)
			continue
		case punct(src, t, '['):
			k = matching(src, toks, k)
			continue
		case punct(src, t, '('):
			if k+2 < b && punct(src, toks[k+1], '*') && toks[k+2].kind == tIdent {
				return toks[k+2].text(src), toks[k+2].off
			}
			depth++
		case punct(src, t, ')'):
			depth--
		case t.kind == tIdent && depth == 0 && !t.is(src, "__attribute__"):
			name, at = t.text(src), t.off
		}
	}
	return name, at
}

// memberIn finds the declaration of member name in the record body src[open:close].
func memberIn(src []byte, open, close int, name string) (int, bool) {
	body := src[open:close]
	toks := lex(body)
	for k, t := range toks {
		if t.kind != tIdent || !t.is(body, name) {
			continue
		}
		if k > 0 && (toks[k-1].is(body, ".") || toks[k-1].is(body, "->")) {
			continue
		}
		if k+1 < len(toks) {
			n := toks[k+1]
			if punct(body, n, ';') || punct(body, n, '[') || punct(body, n, ':') || punct(body, n, ',') || punct(body, n, ')') {
				return open + t.off, true
			}
		}
	}
	return 0, false
}

// indexedFile is a header's text and declaration index, valid for one version.
type indexedFile struct {
	mod  time.Time
	size int64
	src  []byte
	ix   *declIndex
}

var (
	indexMu sync.Mutex
	indexes = map[string]*indexedFile{}
)

// fileIndex returns path's text and index, from the open document if there is one.
func (s *Server) fileIndex(path string, overlay map[string][]byte) *indexedFile {
	if data, ok := overlay[path]; ok {
		return &indexedFile{src: data, ix: buildIndex(data)}
	}
	st, err := os.Stat(path)
	if err != nil || st.IsDir() || st.Size() > maxDocumentSize {
		return nil
	}
	indexMu.Lock()
	f := indexes[path]
	indexMu.Unlock()
	if f != nil && f.mod.Equal(st.ModTime()) && f.size == st.Size() {
		return f
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	f = &indexedFile{mod: st.ModTime(), size: st.Size(), src: data, ix: buildIndex(data)}
	indexMu.Lock()
	indexes[path] = f
	indexMu.Unlock()
	return f
}

// findDeclaration searches the file, then the headers it includes (depth first, in
// include order), for q.
func (s *Server) findDeclaration(r *result, q defQuery) (protocol.Location, bool) {
	overlay := s.overlay("")
	if overlay == nil {
		overlay = map[string][]byte{}
	}
	overlay[r.path] = r.text
	var flags *compiler.Flags
	if r.compile != nil {
		flags = r.compile.Flags
	}
	seen := map[string]bool{}
	var loc protocol.Location
	var visit func(path string, depth int) bool
	visit = func(path string, depth int) bool {
		if seen[path] || depth > 32 {
			return false
		}
		seen[path] = true
		f := s.fileIndex(path, overlay)
		if f == nil {
			return false
		}
		if off, ok := lookup(f, q); ok {
			m := newMapper(f.src, s.encoding())
			end := off
			for end < len(f.src) && isIdentChar(f.src[end]) {
				end++
			}
			loc = protocol.Location{URI: uri.File(path), Range: m.rangeOf(off, end)}
			return true
		}
		for _, inc := range includes(f.src) {
			p, ok := resolveInclude(path, inc, flags, overlay)
			if !ok && inc.name == "vmlinux.h" && r.vmlinux != "" {
				p, ok = r.vmlinux, true // the generated fallback
			}
			if ok && visit(p, depth+1) {
				return true
			}
		}
		return false
	}
	return loc, visit(r.path, 0)
}

func lookup(f *indexedFile, q defQuery) (int, bool) {
	ix := f.ix
	switch {
	case q.member:
		body, ok := ix.records[q.record]
		if !ok {
			body, ok = ix.anonByAlias[q.record]
		}
		if ok {
			return memberIn(f.src, body[0], body[1], q.name)
		}
		return 0, false
	case q.enumValue:
		off, ok := ix.enumerators[q.name]
		return off, ok
	case q.tag != "":
		if off, ok := ix.recordName[q.tag+" "+q.name]; ok {
			return off, true
		}
		return 0, false
	}
	for _, tag := range []string{"struct", "union", "enum"} {
		if off, ok := ix.recordName[tag+" "+q.name]; ok {
			return off, true
		}
	}
	if off, ok := ix.typedefs[q.name]; ok {
		return off, true
	}
	if off, ok := ix.enumerators[q.name]; ok {
		return off, true
	}
	if off, ok := ix.macros[q.name]; ok {
		return off, true
	}
	return 0, false
}

// resolveInclude finds the file an #include names, searching like the compiler: the
// including file's directory for "...", then -I, -isystem and the system directories.
func resolveInclude(from string, inc include, flags *compiler.Flags, overlay map[string][]byte) (string, bool) {
	if filepath.IsAbs(inc.name) {
		return inc.name, true
	}
	var dirs []string
	if !inc.system {
		dirs = append(dirs, filepath.Dir(from))
	}
	if flags != nil {
		dirs = append(dirs, flags.IncludeDirs...)
		dirs = append(dirs, flags.SysDirs...)
	}
	dirs = append(dirs, compiler.DefaultSysIncludeDirs...)
	for _, d := range dirs {
		p := filepath.Join(d, inc.name)
		if _, ok := overlay[p]; ok {
			return p, true
		}
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, true
		}
	}
	return "", false
}
