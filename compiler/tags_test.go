package compiler

import (
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestMakesTags(t *testing.T) {
	for _, tc := range []struct {
		define string
		want   bool
	}{
		{"#define AS(tag, p) ((struct tag *)(p))", true},
		{"#define S struct", true},
		{"#define U(x) union x", true},
		{"#define E(...) enum __VA_ARGS__", true},
		{"#define PASTE(x) struct x ## _event", true},
		{"#define PASTE2(x) struct prefix_ ## x", true},
		{"#define ATTR(x) struct __attribute__((packed)) x", true},
		{"#define ATTR2(x) struct __attribute__((x)) foo", false}, // x is the attribute's
		{"#define GLUE(x) struct ## x", true},
		{"#define ANON(x) struct { int x; }", false},
		{"#define KPROBE(name) int name(struct pt_regs *ctx)", false},
		{"#define READ(p, f) BPF_CORE_READ(p, f)", false},
		{"#define N 8", false},
		{"#undef X\n#line 3 \"h.h\"\n#define T(x) typeof(struct task_struct) x\n", false},
		{"int x;", false},
	} {
		if got := makesTags(tc.define); got != tc.want {
			t.Errorf("makesTags(%q) = %v, want %v", tc.define, got, tc.want)
		}
	}
}

func TestBareNames(t *testing.T) {
	src := `#include "vmlinux.h"
#define KEY_OF(p) (p)->key
struct { __type(key, u32); } m;
struct __attribute__((preserve_access_index)) task_struct___x { int pid; };
int f(struct file *file, int pid) {
	enum pid_type t = PIDTYPE_TGID; /* struct comment */
	return file ? pid : KEY_OF(file);
}
`
	bare, ok := bareNames([]byte(src))
	if !ok {
		t.Fatal("no bare names")
	}
	var got []string
	for n := range bare {
		got = append(got, n)
	}
	slices.Sort(got)
	// Not the tags (file, pid_type, task_struct___x after its attribute), nor the
	// directives' names (vmlinux, KEY_OF, p, key): a macro may make anything of them.
	want := "PIDTYPE_TGID __attribute__ __type f int m pid preserve_access_index return t u32"
	if strings.Join(got, " ") != want {
		t.Errorf("bare names %q, want %q", strings.Join(got, " "), want)
	}
	if _, ok := bareNames([]byte("#define AS(t, p) ((struct t *)(p))\nint x;\n")); ok {
		t.Errorf("a macro making tags: bare names found")
	}
}

func TestDeclaresTagOnly(t *testing.T) {
	p := &preamble{decls: []*ppDecl{
		{text: "struct key {\n\tint serial;\n}", declares: []string{"key"}},
		{text: "typedef struct foo {\n\tint a;\n} foo", declares: []string{"foo", "foo"}},
		{text: "typedef struct bar {\n\tint a;\n} bar_t", declares: []string{"bar", "bar_t"}},
		{text: "enum pid_type {\n\tPIDTYPE_PID = 0,\n}", declares: []string{"pid_type", "PIDTYPE_PID"}},
		{text: "struct keyring *key", declares: []string{"key"}},
	}}
	for _, tc := range []struct {
		i    int
		name string
		want bool
	}{
		{0, "key", true},
		{1, "foo", false}, // the typedef name is an ordinary one
		{2, "bar", false}, // a typedef: not looked into
		{3, "pid_type", true},
		{3, "PIDTYPE_PID", false},
		{4, "key", false}, // a variable
	} {
		if got := p.declaresTagOnly(tc.i, tc.name); got != tc.want {
			t.Errorf("declaresTagOnly(%q, %s) = %v, want %v", p.decls[tc.i].text, tc.name, got, tc.want)
		}
	}
}

const tagsHeader = `struct key { int serial; struct key_type *type; };
struct key_type { int flags; };
struct holder { struct key k; };
typedef struct foo { int a; } foo;
long lookup(void *map, const void *key);
enum pid_type { PIDTYPE_PID, PIDTYPE_TGID };
enum big {
	B0 = 0,
	B1 = 1,
	B2 = 2,
	B3 = 3,
	B4 = 4,
	B5 = 5,
	B6 = 6,
	B7 = 7,
};
struct uses_big { enum big b; };
`

// TestTagsLeftOut: a name reached only as an ordinary one does not reach a declaration
// of it as a tag; reached as a tag, or from a declaration writing it as one, it does.
func TestTagsLeftOut(t *testing.T) {
	p := headerPreamble(t, tagsHeader, "int f(void) { return 0; }\n")
	for _, tc := range []struct {
		names, bare string
		want        string // the tags of the declarations picked
		dropped     string
	}{
		{"key", "key", "", "key"},
		{"key", "", "key", ""},
		{"lookup key", "key", "", "key"},        // lookup's parameter is an ordinary name
		{"key holder", "key", "key holder", ""}, // holder writes struct key
		{"foo", "foo", "foo", ""},               // a typedef's name is an ordinary one
		{"PIDTYPE_TGID pid_type", "pid_type", "pid_type", ""},
		{"pid_type", "pid_type", "", "pid_type"},
	} {
		bare := map[string]bool{}
		for _, n := range strings.Fields(tc.bare) {
			bare[n] = true
		}
		picked, _, _, dropped := p.slimClosure(strings.Fields(tc.names), false, bare)
		var tags []string
		for _, i := range picked {
			if d := p.decls[i]; !strings.HasPrefix(d.text, "long") && !strings.HasPrefix(d.text, "typedef") || strings.Contains(d.text, "foo") {
				tags = append(tags, d.declares[0])
			}
		}
		if got := strings.Join(tags, " "); got != tc.want {
			t.Errorf("names %q, bare %q: picked %q, want %q", tc.names, tc.bare, got, tc.want)
		}
		if got := strings.Join(slices.Sorted(maps.Keys(dropped)), " "); got != tc.dropped {
			t.Errorf("names %q, bare %q: dropped %q, want %q", tc.names, tc.bare, got, tc.dropped)
		}
	}
}

// TestEnumsCut: an enum reached through its constants alone is cut to them (and its
// least and greatest); reached as a tag, it is whole.
func TestEnumsCut(t *testing.T) {
	p := headerPreamble(t, tagsHeader, "int f(void) { return 0; }\n")
	for _, tc := range []struct {
		names, bare string
		want        string // the enum's constants; "": whole
	}{
		{"B3", "B3", "B0 B3 B7"},
		{"B3 B5", "B3 B5", "B0 B3 B5 B7"},
		{"B3 big", "B3", ""},      // written as a tag
		{"B3 uses_big", "B3", ""}, // a record holds one
		{"B3", "", ""},            // not telling tags apart
	} {
		bare := map[string]bool{}
		for _, n := range strings.Fields(tc.bare) {
			bare[n] = true
		}
		if tc.bare == "" {
			bare = nil
		}
		picked, _, cut, _ := p.slimClosure(strings.Fields(tc.names), true, bare)
		for _, i := range picked {
			if !strings.HasPrefix(p.decls[i].text, "enum big") {
				continue
			}
			got := ""
			if s := cut[i]; s != nil {
				var kept []string
				scanIdents(s.text, func(b, e int) {
					if id := s.text[b:e]; strings.HasPrefix(id, "B") {
						kept = append(kept, id)
					}
				})
				got = strings.Join(kept, " ")
			}
			if got != tc.want {
				t.Errorf("names %q, bare %q: enum cut to %q, want %q", tc.names, tc.bare, got, tc.want)
			}
		}
	}
}
