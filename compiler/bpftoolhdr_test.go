package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"modernc.org/cc/v4"
)

// TestBpftoolIndexEqualsCC: a preamble indexed with its vmlinux.h scanned (cc parsing only
// what the other headers need) is the preamble cc indexes from the whole header.
func TestBpftoolIndexEqualsCC(t *testing.T) {
	root := goldenRoot(t)
	dirs := []string{filepath.Join(root, "testdata", "include")}
	if st := filepath.Join(root, "build", "selftests", "vmlinux"); fileExists(filepath.Join(st, "vmlinux.h")) {
		dirs = append(dirs, st)
	}
	preambles := []string{
		"#include \"vmlinux.h\"\n#include <bpf/bpf_helpers.h>\n#include <bpf/bpf_tracing.h>\n#include <bpf/bpf_core_read.h>\n",
		// stdbool.h after vmlinux.h: `bool` is a macro by the end, and the declarations
		// that use it are kept as cc's tokens.
		"#include \"vmlinux.h\"\n#include <stdbool.h>\n#include <bpf/bpf_helpers.h>\n",
		// A macro defined before vmlinux.h changes how it parses.
		"#define task_struct task_struct___mine\n#include \"vmlinux.h\"\n",
		"#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include \"vmlinux.h\"\n#include <bpf/bpf_core_read.h>\n",
		// An error in a declaration kept is reported at its line and column in the file.
		"#define pid_t +\n#include \"vmlinux.h\"\n",
	}
	for _, dir := range dirs {
		flags, err := ParseFlags([]string{"-D__TARGET_ARCH_x86", "-I", dir}, "")
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range preambles {
			t.Run(fmt.Sprintf("%s/%d", filepath.Base(filepath.Dir(dir))+"_"+filepath.Base(dir), i), func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "p.bpf.c")
				build := func(scan bool) *preamble {
					scanBpftool = scan
					defer func() { scanBpftool = true }()
					u, err := prepare(Input{Path: path, Source: []byte(text), Flags: flags})
					if err != nil {
						t.Fatal(err)
					}
					return buildPreamble(u, text, newInterner())
				}
				fast, slow := build(true), build(false)
				if fast.err != nil || slow.err != nil {
					// The scan's copy holds fewer declarations: each error it reports
					// in the header is one of the whole header's, at the same place.
					if fast.err == nil || slow.err == nil {
						t.Fatalf("errors: scanned %v, parsed %v", fast.err, slow.err)
					}
					all := strings.Split(slow.err.Error(), "\n")
					n := 0
					for _, e := range strings.Split(fast.err.Error(), "\n") {
						if e = strings.TrimSpace(e); strings.Contains(e, "vmlinux.h:") {
							n++
							if !slices.ContainsFunc(all, func(a string) bool { return strings.TrimSpace(a) == e }) {
								t.Errorf("scanned: %s; not so when parsed whole", e)
							}
						}
					}
					if n == 0 {
						t.Errorf("no error in vmlinux.h: %v", fast.err)
					}
					return
				}
				if len(fast.decls) != len(slow.decls) {
					t.Fatalf("%d declarations scanned, %d parsed", len(fast.decls), len(slow.decls))
				}
				for i := range slow.decls {
					a, b := fast.decls[i], slow.decls[i]
					if !reflect.DeepEqual(*a, *b) {
						t.Fatalf("declaration %d differs:\nscanned: %+v\nparsed:  %+v", i, *a, *b)
					}
				}
				for _, f := range []struct {
					name string
					a, b any
				}{
					{"byName", fast.byName, slow.byName},
					{"macros", fast.macros, slow.macros},
					{"defines", fast.defines, slow.defines},
					{"sorted", fast.sorted, slow.sorted},
					{"fallbacks", fast.fallbacks, slow.fallbacks},
					{"funcs", len(fast.funcs), len(slow.funcs)},
				} {
					if !reflect.DeepEqual(f.a, f.b) {
						t.Errorf("%s differ", f.name)
					}
				}
			})
		}
	}
}

// TestBpftoolRenamed: a declaration a macro renamed, undefined after the #include (as
// bpf_iter.h does), is indexed as cc parsed it, under its new name.
func TestBpftoolRenamed(t *testing.T) {
	flags, err := ParseFlags([]string{"-I", filepath.Join(goldenRoot(t), "testdata", "include")}, "")
	if err != nil {
		t.Fatal(err)
	}
	text := "#define task_struct task_struct___x\n#include \"vmlinux.h\"\n#undef task_struct\n"
	path := filepath.Join(t.TempDir(), "p.bpf.c")
	u, err := prepare(Input{Path: path, Source: []byte(text), Flags: flags})
	if err != nil {
		t.Fatal(err)
	}
	p := buildPreamble(u, text, newInterner())
	if p.err != nil {
		t.Fatal(p.err)
	}
	if len(p.byName["task_struct"]) != 0 {
		t.Errorf("task_struct declared by %s", p.decls[p.byName["task_struct"][0]].text[:40])
	}
	if ds := p.byName["task_struct___x"]; len(ds) != 1 || !strings.HasPrefix(p.decls[ds[0]].text, "struct task_struct___x {") {
		t.Errorf("task_struct___x declared by %d declarations", len(ds))
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func TestScanBpftoolHeader(t *testing.T) {
	cases := []struct {
		decl string
		want string // declared names, space-separated; "!" when the scan must refuse
	}{
		{"struct task_struct {\n\tint pid;\n\tstruct task_struct *parent;\n};", "task_struct"},
		{"struct fwd;", ""},
		{"typedef unsigned int __u32;", "__u32"},
		{"typedef struct {\n\tint counter;\n} atomic_t;", "atomic_t"},
		{"typedef void (*work_func_t)(struct work_struct *);", "work_func_t"},
		{"typedef struct cpumask cpumask_var_t[1];", "cpumask_var_t"},
		{"enum pid_type {\n\tPIDTYPE_PID = 0,\n\tPIDTYPE_MAX = 4,\n};", "pid_type PIDTYPE_PID PIDTYPE_MAX"},
		{"enum {\n\tA = -1,\n\tB = 2,\n};", "A B"},
		{"typedef enum {\n\tX = 0,\n} x_t;", "X x_t"},
		{"struct o {\n\tstruct i {\n\t\tint a;\n\t} in;\n\tunion {\n\t\tint b;\n\t\tenum {\n\t\t\tE1 = 0,\n\t\t} e;\n\t};\n} __attribute__((packed));", "o i E1"},
		{"struct a {\n\tint x: 3;\n\tlong y __attribute__((aligned(8)));\n};", "a"},
		{"typedef int (*fn)(void *, ...);", "fn"},
		{"int f(void) { return 0; }", "!"},
		{"char *s = \"x\";", "!"},
	}
	for _, tc := range cases {
		src := bpftoolGuard + "\n" + tc.decl + "\n\n#endif\n"
		h, ok := scanBpftoolHeader([]byte(src))
		var decls []bpftoolDecl
		if ok {
			decls = h.decls
		}
		switch {
		case tc.want == "!":
			if ok {
				t.Errorf("%q: scanned, want refused", tc.decl)
			}
		case !ok || len(decls) != 1:
			t.Errorf("%q: ok=%v, %d declarations", tc.decl, ok, len(decls))
		case strings.Join(decls[0].declares, " ") != tc.want:
			t.Errorf("%q declares %q, want %q", tc.decl, decls[0].declares, tc.want)
		case src[decls[0].start:decls[0].end] != tc.decl || decls[0].line != 4:
			t.Errorf("%q: text %q at line %d", tc.decl, src[decls[0].start:decls[0].end], decls[0].line)
		}
	}
}

func TestDeclNeededNames(t *testing.T) {
	cases := []struct{ text, want string }{
		// A member named like a struct does not need that struct.
		{"struct a {\n\tstruct module *module;\n\tstruct list_head tasks;\n\tpid_t pid;\n};", "a list_head pid_t"},
		{"struct b {\n\tunsigned int flags: 3;\n\tchar comm[TASK_COMM_LEN];\n\tunion {\n\t\tint x;\n\t} u;\n};", "TASK_COMM_LEN b char int unsigned"},
		{"typedef struct foo foo_t;", "foo typedef"},
		// Before `)`, a name is kept: harmless, as parameter names name no declaration.
		{"typedef int (*cb_t)(struct ctx *c, u32 n);", "cb_t int n typedef u32"},
		// Not a type declaration: every identifier counts (`return x;` names x).
		{"static inline int f(void) { return x; }", "f inline int return static void x"},
		{"enum e {\n\tA = 1,\n\tB = A,\n};", "A B e"},
	}
	for _, tc := range cases {
		if got := strings.Join(declNeededNames(tc.text), " "); got != tc.want {
			t.Errorf("declNeededNames(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// TestCompactKept translates the copy of a bpftool header cc is given: every declaration
// kept is where it is in the file, by line and column, and the copy's offsets map back to
// the file's.
func TestCompactKept(t *testing.T) {
	src := bpftoolGuard + `
#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)
#endif

typedef int a_t; typedef int b_t;

/* a comment
 */ struct s {
	int x;
};

  struct t {
	a_t y;
};

#ifndef BPF_NO_PRESERVE_ACCESS_INDEX
#pragma clang attribute pop
#endif

#endif /* __VMLINUX_H__ */
`
	h, ok := scanBpftoolHeader([]byte(src))
	if !ok || len(h.decls) != 4 || len(h.directives) != 9 {
		t.Fatalf("scan: ok %v, %d declarations, %d directives", ok, len(h.decls), len(h.directives))
	}
	for _, keep := range [][]bool{{true, true, true, true}, {true, false, false, true}, {false, true, true, false}, {false, false, false, false}} {
		if !checkCompacted(t, src, h, keep) {
			t.Fatalf("keep %v: cc refused the copy", keep)
		}
	}
	if m := (offsetMap{{at: 10, from: 100, n: 5}, {at: 20, from: 300, n: 1}}); m.file(9) != -1 || m.file(10) != 100 || m.file(14) != 104 || m.file(15) != -1 || m.file(20) != 300 || m.file(21) != -1 {
		t.Errorf("offsetMap.file: %d %d %d %d %d %d", m.file(9), m.file(10), m.file(14), m.file(15), m.file(20), m.file(21))
	}
}

// checkCompacted translates the copy of src that keeps the declarations keep says, and
// checks that each declaration cc finds maps back to the offset of src at its line and
// column, and, when each starts where the scan found one (bpftoolHeaders.matches), that
// they are the ones kept. It reports false when cc refuses the copy (a declaration kept
// may need one that is not).
func checkCompacted(t *testing.T, src string, h *bpftoolHeader, keep []bool) bool {
	t.Helper()
	served, m := compactKept(h, keep)
	cfg, err := newConfig(&Flags{}, newOverlayFS(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	ast, err := cc.Translate(cfg, append(baseSources(cfg), cc.Source{Name: "v.h", Value: served}))
	if err != nil {
		return false
	}
	starts := map[int]bool{}
	for _, d := range h.decls {
		starts[d.start] = true
	}
	var got []string
	matches := true
	for l := ast.TranslationUnit; l != nil; l = l.TranslationUnit {
		pos := l.ExternalDeclaration.Position()
		if pos.Filename != "v.h" {
			continue
		}
		off := m.file(pos.Offset)
		got = append(got, fmt.Sprintf("%d:%d@%d", pos.Line, pos.Column, off))
		if off < 0 {
			t.Errorf("keep %v: a declaration at %d:%d is at no offset of the file\n%s", keep, pos.Line, pos.Column, served)
			continue
		}
		if line, col := strings.Count(src[:off], "\n")+1, off-strings.LastIndexByte(src[:off], '\n'); line != pos.Line || col != pos.Column {
			t.Errorf("keep %v: a declaration at %d:%d maps to %d:%d of the file\n%s", keep, pos.Line, pos.Column, line, col, served)
		}
		matches = matches && starts[off]
	}
	if !matches {
		return true // the preamble build parses such a header whole
	}
	var want []string
	for i, d := range h.decls {
		if keep[i] {
			want = append(want, fmt.Sprintf("%d:%d@%d", d.line, d.start-strings.LastIndexByte(src[:d.start], '\n'), d.start))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("keep %v: declarations at %v, want %v\n%s", keep, got, want, served)
	}
	return true
}

// FuzzCompactKept: for any header the scan takes and any declarations kept, the copy cc is
// given puts each declaration at its place in the file.
func FuzzCompactKept(f *testing.F) {
	f.Add(bpftoolGuard+"\ntypedef int a_t; typedef int b_t;\n\n/* c\n */ struct s {\n\tint x;\n};\n\n  struct t {\n\tint y;\n};\n#endif\n", uint64(0b1011))
	f.Add(bpftoolGuard+"#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\nenum e {\n\tA = 1,\n};\r\nunion u { int a; };\n#pragma clang attribute pop\n#endif\n", uint64(0b10))
	f.Fuzz(func(t *testing.T, src string, mask uint64) {
		h, ok := scanBpftoolHeader([]byte(src))
		if !ok || len(src) > 4096 {
			return
		}
		keep := make([]bool, len(h.decls))
		for i := range keep {
			keep[i] = mask>>(i%64)&1 == 1
		}
		checkCompacted(t, src, h, keep)
	})
}

func TestBpftoolStub(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"", ""},
		{"#a", "#a"},
		{"#a\n", "#a\n"},
		{"x\n#a\nb\n#c", "#a\n#c"},
		{"\n\n#x\n #y\n#z\n", "#x\n#z\n"},
		{"#a\n#b\nstruct s;\n", "#a\n#b\n"},
	} {
		if got := string(bpftoolStub([]byte(tc.src))); got != tc.want {
			t.Errorf("bpftoolStub(%q) = %q, want %q", tc.src, got, tc.want)
		}
	}
}
