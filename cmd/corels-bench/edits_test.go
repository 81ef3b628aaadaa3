package main

import (
	"strings"
	"testing"
)

func TestEditSites(t *testing.T) {
	typeAt := func(src string, s site) string { return src[:s.pos] + s.before + "X;" + s.after + src[s.pos:] }
	tests := []struct {
		name, src         string
		wantLast, wantMid string // the file with "X;" typed at each site
		wantErr           bool
	}{{
		name:     "one function: before its return, and at its top",
		src:      "int f(void)\n{\n\tint a = 1;\n\treturn a;\n}\n",
		wantLast: "int f(void)\n{\n\tint a = 1;\n\tX;\n\treturn a;\n}\n",
		wantMid:  "int f(void)\n{\n\tX;\n\tint a = 1;\n\treturn a;\n}\n",
	}, {
		name:     "a return governed by an if or a label is not a statement of the body",
		src:      "int f(int a)\n{\n\tif (a)\n\t\treturn 1;\nout:\n\treturn 0;\n}\n",
		wantLast: "int f(int a)\n{\n\tif (a)\n\t\treturn 1;\nout:\n\treturn 0;\n\tX;\n}\n",
		wantMid:  "int f(int a)\n{\n\tX;\n\tif (a)\n\t\treturn 1;\nout:\n\treturn 0;\n}\n",
	}, {
		name:     "a return after a directive and a comment; one in a comment or a string is not",
		src:      "int f(void)\n{\n\tg();\n#endif\n\t/* done */\n\treturn 0;\n\t// return\n\tp(\"; return\");\n}\n",
		wantLast: "int f(void)\n{\n\tg();\n#endif\n\t/* done */\n\tX;\n\treturn 0;\n\t// return\n\tp(\"; return\");\n}\n",
		wantMid:  "int f(void)\n{\n\tX;\n\tg();\n#endif\n\t/* done */\n\treturn 0;\n\t// return\n\tp(\"; return\");\n}\n",
	}, {
		name: "records, initializers, macros, strings and comments with braces are not functions",
		src: "#define M(x) { x; }\nstruct {\n\tint a;\n} m SEC(\".maps\");\nint arr[] = { 1 };\n" +
			"static int g(void) { return '{'; }\n" +
			"// int h() {\n" +
			"SEC(\"lsm/x\")\nint BPF_PROG(p, struct file *f)\n{\n\tbpf_printk(\"}\");\n\treturn 0;\n}\n",
		wantLast: "#define M(x) { x; }\nstruct {\n\tint a;\n} m SEC(\".maps\");\nint arr[] = { 1 };\n" +
			"static int g(void) { return '{'; }\n" +
			"// int h() {\n" +
			"SEC(\"lsm/x\")\nint BPF_PROG(p, struct file *f)\n{\n\tbpf_printk(\"}\");\n\tX;\n\treturn 0;\n}\n",
		wantMid: "#define M(x) { x; }\nstruct {\n\tint a;\n} m SEC(\".maps\");\nint arr[] = { 1 };\n" +
			"static int g(void) { X;\n\treturn '{'; }\n" +
			"// int h() {\n" +
			"SEC(\"lsm/x\")\nint BPF_PROG(p, struct file *f)\n{\n\tbpf_printk(\"}\");\n\treturn 0;\n}\n",
	}, {
		name:    "no function",
		src:     "struct s { int a; };\n",
		wantErr: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sites, err := editSites(tt.src)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("editSites: no error, sites %+v", sites)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := typeAt(tt.src, sites[0]); got != tt.wantLast {
				t.Errorf("last function:\n%s\nwant:\n%s", got, tt.wantLast)
			}
			if got := typeAt(tt.src, sites[1]); got != tt.wantMid {
				t.Errorf("middle function:\n%s\nwant:\n%s", got, tt.wantMid)
			}
		})
	}
}

// TestMiddleFunction: of three functions, the middle site is in the one nearest the middle
// of the file, never the last.
func TestMiddleFunction(t *testing.T) {
	fn := func(name string) string {
		return "int " + name + "(void)\n{\n" + strings.Repeat("\tg();\n", 10) + "\treturn 0;\n}\n"
	}
	src := fn("a") + fn("b") + fn("c")
	sites, err := editSites(src)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"c", "b"} {
		head := src[:sites[i].pos]
		if got := head[strings.LastIndex(head, "int ")+4 : strings.LastIndex(head, "(void)")]; got != want {
			t.Errorf("site %d is in %s(), want %s()", i, got, want)
		}
	}
}

func TestEditScript(t *testing.T) {
	src := "#include <bpf/bpf_core_read.h>\nint f(void)\n{\n\treturn 0;\n}\nint g(void)\n{\n\treturn 0;\n}\n"
	script, err := editScript(src, 14)
	if err != nil {
		t.Fatal(err)
	}
	n := len(editVariants(src))
	for i, text := range script {
		if back := i%n == 1 || i%n == n-1; back != (text == src) {
			t.Errorf("edit %d: back to the original text is %v, want %v", i, text == src, back)
		}
	}
	// The first round types in the last function, the second in the other.
	inG := func(text string) bool { return strings.Contains(text[strings.Index(text, "int g"):], "BPF_CORE_READ") }
	if !inG(script[2]) {
		t.Errorf("edit 2 is not in g():\n%s", script[2])
	}
	if inG(script[n+2]) {
		t.Errorf("edit %d is in g():\n%s", n+2, script[n+2])
	}
	// Without libbpf's bpf_core_read.h the read is written with the builtin.
	plain, err := editScript(strings.TrimPrefix(src, "#include <bpf/bpf_core_read.h>\n"), 3)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(plain[2], "BPF_CORE_READ") || !strings.Contains(plain[2], "__builtin_preserve_access_index(&t_->tgid)") {
		t.Errorf("without bpf_core_read.h:\n%s", plain[2])
	}
}
