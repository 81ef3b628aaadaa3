package compiler

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
					t.Fatalf("errors: scanned %v, parsed %v", fast.err, slow.err)
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
		decls, ok := scanBpftoolHeader([]byte(src))
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
