package compiler

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"modernc.org/cc/v4"
)

// walkPrograms are corpus programs the walk tests go through, vmlinux.h and the libbpf
// headers included: together the expression kinds the corpus has.
var walkPrograms = []string{"lsm", "bitfield_direct", "header_helpers", "path_dot"}

// walkSnippet has a node of every cc/v4 AST type but TranslationUnit's list, which every
// file has: the corpus lacks some (_Generic, asm goto, K&R definitions, label addresses).
const walkSnippet = `typedef int T;
struct S { int a : 3; _Alignas(8) long b; union { int c; } u; int arr[4]; } __attribute__((aligned(8), packed));
enum E { E0, E1 = 2 };
enum E2 : long { X2 };
_Static_assert(sizeof(struct S) > 0, "size");
static _Atomic(int) at;
inline static int h(int x, ...);
int k(a, b) int a; int b; { return a + b; }
int h2(int (*fp)(int), int v[static 3], int (*)[3], int w[const 2]) { return fp(v[0]); }
__typeof__(int) ty;
int f(int a, int *p) {
	__label__ out;
	struct S s = { .a = 1, .arr[1] = 2 };
	int q[3] = { [1] = 2 };
	int i, j = 0;
	for (i = 0; i < 4 && j >= 0 || !a; i++) j += i << 1 >> 1 ^ 3 | 4 & 5;
	while (j) j--;
	do { j++; } while (j < 2);
	switch (a) { case 1: j = 2; break; case 2 ... 3: j = 4; default: goto out; }
	if (a == 1 && a != 2) j = a ? a : j; else j = 0;
	j = _Generic(a, int: 1, default: 2);
	j = (int){ 3 };
	j = ({ int z = 1; z; });
	j = sizeof(int) + _Alignof(long) - a * 2 / 3 % 4;
	asm volatile goto ("" ::: "memory" : out);
	__asm__ ("nop" : [o] "=r"(j) : "r"(a));
	j = s.a + (&s)->b, j++;
	void *lp = &&out;
	goto *lp;
out:
	return -~j + q[0] + (T)at;
}
`

var walkASTs sync.Map // path → *cc.AST

// parseForWalk translates a corpus program the way compileFull does and returns its AST,
// once per test binary.
func parseForWalk(t testing.TB, path string) *cc.AST {
	t.Helper()
	if ast, ok := walkASTs.Load(path); ok {
		return ast.(*cc.AST)
	}
	u, err := prepare(Input{Path: path, Flags: corpusFlags(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := newConfig(u.flags, u.fsys, (&pragmaRanges{}).handle)
	if err != nil {
		t.Fatal(err)
	}
	sources := append(baseSources(cfg), cc.Source{Name: u.path, Value: mainSource(u.src)})
	ast, err := translate(cfg, sources, nil)
	if err != nil {
		t.Fatal(err)
	}
	walkASTs.Store(path, ast)
	return ast
}

// visitOf is what one node gives a walker: its direct children and its token fields.
type visitOf struct {
	children []cc.Node
	tokens   []*cc.Token
}

func genVisit(t *testing.T, n cc.Node) visitOf {
	t.Helper()
	var v visitOf
	okC := genChildren(n, func(c cc.Node) { v.children = append(v.children, c) })
	okT := genOwnTokens(n, func(tok *cc.Token) { v.tokens = append(v.tokens, tok) })
	if !okC || !okT {
		t.Fatalf("walk_gen.go does not know %T: run go generate ./compiler", n)
	}
	return v
}

func reflectVisit(n cc.Node) visitOf {
	var v visitOf
	reflectChildren(n, func(c cc.Node) { v.children = append(v.children, c) })
	reflectOwnTokens(n, func(tok *cc.Token) { v.tokens = append(v.tokens, tok) })
	return v
}

// sameVisit compares two visits exactly: the same nodes and the same token fields (by
// address), in the same order.
func sameVisit(got, want visitOf) error {
	if i := firstMismatch(got.children, want.children); i >= 0 {
		return fmt.Errorf("child %d differs: generated %s, reflective %s", i, typesOf(got.children), typesOf(want.children))
	}
	if i := firstMismatch(got.tokens, want.tokens); i >= 0 {
		return fmt.Errorf("token field %d differs: generated %d tokens, reflective %d", i, len(got.tokens), len(want.tokens))
	}
	return nil
}

// firstMismatch is the first index where a and b differ, or -1.
func firstMismatch[E comparable](a, b []E) int {
	for i := range max(len(a), len(b)) {
		if i >= len(a) || i >= len(b) || a[i] != b[i] {
			return i
		}
	}
	return -1
}

func typesOf(ns []cc.Node) []string {
	var s []string
	for _, n := range ns {
		s = append(s, fmt.Sprintf("%T", n))
	}
	return s
}

// TestWalkGeneratedMatchesReflective walks real ASTs with walk_gen.go's switches and checks
// that at every node they visit what the reflective walker visits, and that no node falls
// back to reflection. It fails when walk_gen.go is stale against cc/v4. vmlinux.h, the
// same in every program, is walked in the first one only.
func TestWalkGeneratedMatchesReflective(t *testing.T) {
	vmlinux := filepath.Join(goldenRoot(t), "testdata", "include", "vmlinux.h")
	type source struct {
		name string
		ast  func() *cc.AST
		skip func(*cc.ExternalDeclaration) bool
	}
	sources := []source{{"snippet", func() *cc.AST { return parseSnippet(t, walkSnippet) }, nil}}
	for i, name := range walkPrograms {
		path := filepath.Join(goldenRoot(t), "testdata", name+".bpf.c")
		skip := func(ed *cc.ExternalDeclaration) bool { return i > 0 && ed.Position().Filename == vmlinux }
		sources = append(sources, source{name, func() *cc.AST { return parseForWalk(t, path) }, skip})
	}
	for _, src := range sources {
		nodes := 0
		var walk func(n cc.Node)
		walk = func(n cc.Node) {
			nodes++
			v := genVisit(t, n)
			if err := sameVisit(v, reflectVisit(n)); err != nil {
				t.Fatalf("%s: %T at %v: %v", src.name, n, n.Position(), err)
			}
			for _, c := range v.children {
				if _, ok := c.(*cc.TranslationUnit); !ok { // the list is walked below, not recursively
					walk(c)
				}
			}
		}
		for l := src.ast().TranslationUnit; l != nil; l = l.TranslationUnit {
			if ed := l.ExternalDeclaration; ed != nil && src.skip != nil && src.skip(ed) {
				continue
			}
			walk(l)
		}
		t.Logf("%s: %d nodes", src.name, nodes)
	}
}

// TestWalkGeneratedAllFields builds each node type met in walkSnippet and lsm.bpf.c, and
// each one their pointer fields lead to, with all child fields set, so that a field the
// sources leave nil still has to be visited by both walkers alike.
func TestWalkGeneratedAllFields(t *testing.T) {
	var met []reflect.Type // an interface field is filled with one of these that implements it
	seen := map[reflect.Type]bool{}
	add := func(rt reflect.Type) {
		if !seen[rt] {
			seen[rt] = true
			met = append(met, rt)
		}
	}
	for _, ast := range []*cc.AST{parseSnippet(t, walkSnippet), parseForWalk(t, filepath.Join(goldenRoot(t), "testdata", "lsm.bpf.c"))} {
		inspect(ast.TranslationUnit, func(n cc.Node) bool {
			add(reflect.TypeOf(n))
			return true
		})
	}
	for i := 0; i < len(met); i++ {
		if met[i].Kind() != reflect.Pointer || met[i].Elem().Kind() != reflect.Struct {
			continue
		}
		st := met[i].Elem()
		for _, fi := range fieldsOf(st).nodes {
			if ft := st.Field(fi).Type; ft.Kind() == reflect.Pointer {
				add(ft)
			}
		}
	}
	slices.SortFunc(met, func(a, b reflect.Type) int { return strings.Compare(a.String(), b.String()) })
	for _, rt := range met {
		t.Run(rt.String(), func(t *testing.T) {
			if rt.Kind() != reflect.Pointer || rt.Elem().Kind() != reflect.Struct {
				t.Skip("not a pointer to a struct: the reflective walker visits nothing")
			}
			n := reflect.New(rt.Elem())
			st := rt.Elem()
			filled := 0
			for _, fi := range fieldsOf(st).nodes {
				f := n.Elem().Field(fi)
				if f.Kind() == reflect.Pointer {
					f.Set(reflect.New(f.Type().Elem()))
					filled++
					continue
				}
				for _, impl := range met {
					if impl.Kind() == reflect.Pointer && impl.Implements(f.Type()) {
						f.Set(reflect.New(impl.Elem()))
						filled++
						break
					}
				}
				if f.IsNil() {
					t.Errorf("no node type met implements %s (field %s)", f.Type(), st.Field(fi).Name)
				}
			}
			node := n.Interface().(cc.Node)
			v := genVisit(t, node)
			if len(v.children) != filled {
				t.Errorf("generated walker visits %d children, %d fields set", len(v.children), filled)
			}
			if err := sameVisit(v, reflectVisit(node)); err != nil {
				t.Error(err)
			}
		})
	}
}

// parseSnippet parses a C source of its own, without headers.
func parseSnippet(t testing.TB, src string) *cc.AST {
	t.Helper()
	cfg, err := newConfig(corpusFlags(t), newOverlayFS(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	// Parsed, not type-checked: the walker sees syntax, and cc/v4's checker rejects some of it.
	ast, err := cc.Parse(cfg, append(baseSources(cfg), cc.Source{Name: "snippet.c", Value: src}))
	if err != nil {
		t.Fatal(err)
	}
	return ast
}

// snippetDecls are the external declarations of snippet.c.
func snippetDecls(ast *cc.AST) []cc.Node {
	var decls []cc.Node
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		if ed := l.ExternalDeclaration; ed != nil && ed.Position().Filename == "snippet.c" {
			decls = append(decls, ed)
		}
	}
	return decls
}

// TestWalkTokens checks that tokens gives every token of a declaration once and no zero
// token (an absent optional part): in scanning order, they spell the declaration, with
// the __func__ definition cc/v4 puts at the top of a function body.
func TestWalkTokens(t *testing.T) {
	tests := []struct {
		src  string
		want string
	}{
		{"int x;", "int x ;"},
		{"struct s { int a : 3; struct s *next; } v = { .a = 1 };", "struct s { int a : 3 ; struct s * next ; } v = { . a = 1 } ;"},
		{"int f(int a, ...) { if (a) return a ? 1 : 2; else { a += 1; } return -a; }",
			`int f ( int a , ... ) { static const char __func__ [ ] = "f" ; if ( a ) return a ? 1 : 2 ; else { a += 1 ; } return - a ; }`},
		{"int g(int *p) { for (int i = 0; i < 4; i++) p[i] = sizeof(*p); return (int)p[0]; }",
			`int g ( int * p ) { static const char __func__ [ ] = "g" ; for ( int i = 0 ; i < 4 ; i ++ ) p [ i ] = sizeof ( * p ) ; return ( int ) p [ 0 ] ; }`},
	}
	for _, tc := range tests {
		t.Run(tc.src, func(t *testing.T) {
			decls := snippetDecls(parseSnippet(t, tc.src))
			if len(decls) != 1 {
				t.Fatalf("%d declarations", len(decls))
			}
			var toks []cc.Token
			tokens(decls[0], func(tok cc.Token) { toks = append(toks, tok) })
			slices.SortFunc(toks, func(a, b cc.Token) int { return int(a.Seq()) - int(b.Seq()) })
			var got []string
			for _, tok := range toks {
				got = append(got, tok.SrcStr())
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("tokens\n got %s\nwant %s", g, tc.want)
			}
		})
	}
}

// TestWalkInspect checks inspect's pre-order and that returning false skips a subtree.
func TestWalkInspect(t *testing.T) {
	decls := snippetDecls(parseSnippet(t, "int f(int a) { int b = a * 2; return b + a; }"))
	if len(decls) != 1 {
		t.Fatalf("%d declarations", len(decls))
	}
	isBody := func(n cc.Node) bool { _, ok := n.(*cc.CompoundStatement); return ok }
	tests := []struct {
		name    string
		prune   func(cc.Node) bool
		wantAny func(cc.Node) bool // some visited node satisfies it
		wantNot func(cc.Node) bool // no visited node satisfies it
	}{
		{"whole", func(cc.Node) bool { return false },
			func(n cc.Node) bool { _, ok := n.(*cc.JumpStatement); return ok }, func(cc.Node) bool { return false }},
		{"body pruned", isBody, isBody,
			func(n cc.Node) bool { _, ok := n.(*cc.BlockItem); return ok }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var order []cc.Node
			inspect(decls[0], func(n cc.Node) bool {
				order = append(order, n)
				return !tc.prune(n)
			})
			if order[0] != decls[0] {
				t.Fatalf("inspect starts at %T, not the root", order[0])
			}
			if !slices.ContainsFunc(order, tc.wantAny) {
				t.Error("a node it should reach is not visited")
			}
			if slices.ContainsFunc(order, tc.wantNot) {
				t.Error("a node under a pruned one is visited")
			}
			// Pre-order: every node after the root is a child of a node visited before it.
			before := map[cc.Node]bool{order[0]: true}
			for _, n := range order[1:] {
				found := false
				for p := range before {
					children(p, func(c cc.Node) { found = found || c == n })
				}
				if !found {
					t.Fatalf("%T visited before its parent", n)
				}
				before[n] = true
			}
		})
	}
}

// BenchmarkWalk walks the main file's declarations the way the extractor does (tokens and
// inspect), with the generated switches and with reflection alone, as walk.go did before.
func BenchmarkWalk(b *testing.B) {
	for _, name := range []string{"lsm.bpf.c", "bench/tracer.bpf.c"} {
		path := filepath.Join(goldenRoot(b), "testdata", name)
		ast := parseForWalk(b, path)
		var decls []cc.Node
		for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
			if ed := l.ExternalDeclaration; ed != nil && ed.Position().Filename == path {
				decls = append(decls, ed)
			}
		}
		b.Run(goldenName(name)+"/generated", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				count := 0
				for _, d := range decls {
					tokens(d, func(cc.Token) { count++ })
					inspect(d, func(cc.Node) bool { count++; return true })
				}
			}
		})
		b.Run(goldenName(name)+"/reflective", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				count := 0
				for _, d := range decls {
					reflectTokens(d, func(cc.Token) { count++ })
					reflectInspect(d, func(cc.Node) bool { count++; return true })
				}
			}
		})
	}
}

func reflectTokens(n cc.Node, fn func(cc.Token)) {
	reflectOwnTokens(n, func(t *cc.Token) {
		if t.Ch != 0 {
			fn(*t)
		}
	})
	reflectChildren(n, func(c cc.Node) { reflectTokens(c, fn) })
}

func reflectInspect(n cc.Node, fn func(cc.Node) bool) {
	if fn(n) {
		reflectChildren(n, func(c cc.Node) { reflectInspect(c, fn) })
	}
}
