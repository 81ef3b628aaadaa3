package compiler

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cilium/ebpf/btf"
)

// TestReuseEqualsPruned replays what a programmer types into function bodies of every
// corpus program, and of the kernel selftests when present (`make selftests`; a quarter of
// the programs, all with CORELS_REUSE_ALL=1): after each keystroke, the Cache that reuses
// the last result (reuse.go) must give exactly what a whole pruned compile gives —
// records, positions, guards, facts and diagnostics.
func TestReuseEqualsPruned(t *testing.T) {
	type program struct {
		name  string
		path  string
		flags *Flags
	}
	var progs []program
	for _, path := range corpusFiles(t) {
		progs = append(progs, program{goldenName(path), path, corpusFlags(t)})
	}
	if c := selftestsMaybe(t); c != nil {
		all := os.Getenv("CORELS_REUSE_ALL") != ""
		for i, prog := range c.programs(t) {
			if !all && i%4 != 0 && !strings.Contains(prog, "profiler") {
				continue
			}
			flags, err := FindFlags(c.abs(prog))
			if err != nil || flags == nil {
				t.Fatalf("%s: no flags (%v)", prog, err)
			}
			progs = append(progs, program{prog, c.abs(prog), flags})
		}
	}
	var reused, steps, replayed int64
	// Each whole-text closure found from the last edit's is checked against the one found
	// from the whole text (wholeFor).
	var kept, wrong atomic.Int64
	verifyWhole = func(w, whole *wholeClosure) {
		kept.Add(1)
		if w.err != nil || whole.err != nil {
			return
		}
		if !slices.Equal(w.picked, whole.picked) || w.reached["__COUNTER__"] != whole.reached["__COUNTER__"] {
			if wrong.Add(1) <= 3 {
				t.Errorf("a whole-text closure found from the last edit's picks %d declarations, from the whole text %d", len(w.picked), len(whole.picked))
			}
		}
	}
	defer func() { verifyWhole = nil }()
	only := os.Getenv("CORELS_REUSE_ONLY") // a program's name: replay it alone
	for _, p := range progs {
		if only != "" && p.name != only {
			continue
		}
		src, err := os.ReadFile(p.path)
		if err != nil {
			t.Fatal(err)
		}
		texts := editStream(src)
		if len(texts) == 0 {
			continue
		}
		reusing, whole := NewCache(), NewCache()
		locals := map[btf.Type]string{}
		whole.noReuse = true
		for i, text := range texts {
			in := Input{Path: p.path, Source: text, Flags: p.flags}
			got, err := reusing.Compile(context.Background(), in)
			if err != nil {
				t.Fatalf("%s step %d: %v", p.name, i, err)
			}
			want, err := whole.Compile(context.Background(), in)
			if err != nil {
				t.Fatalf("%s step %d: %v", p.name, i, err)
			}
			if d := sameResultTypes(t, locals, want, got); d != "" {
				t.Errorf("%s, step %d: reuse differs from a whole compile:\n%s", p.name, i, d)
				if testing.Verbose() {
					t.Logf("text:\n%s", text)
				}
				break
			}
		}
		reused += reusing.Stats().Reused
		steps += int64(len(texts))
		replayed++
	}
	t.Logf("%d programs replayed, %d steps, %d compiles reused, %d whole-text closures found from the last edit's (%d wrong)", replayed, steps, reused, kept.Load(), wrong.Load())
	if wrong.Load() > 0 {
		t.Errorf("%d whole-text closures found from the last edit's differ from the whole text's", wrong.Load())
	}
	if steps > 0 && reused == 0 {
		t.Errorf("no compile reused the last result: the test checks nothing")
	}
}

// sameResultTypes is sameResult with each relocation's local type compared by value: a
// reused result's types come from the compiles its parts were taken from, so equal types
// need not be the same objects (which a BTF encoding of them would show), nor share their
// parts as one compile's do (cc makes a pointer type per declaration that writes one).
func sameResultTypes(t *testing.T, memo map[btf.Type]string, a, b *Result) string {
	var diffs []string
	for _, d := range strings.Split(sameResult(t, a, b), "\n") {
		if d != "" && d != "local types of the relocations differ" {
			diffs = append(diffs, d)
		}
	}
	encode := func(typ btf.Type) string {
		if typ == nil {
			return ""
		}
		if s, ok := memo[typ]; ok {
			return s
		}
		s := canonicalType(typ)
		memo[typ] = s
		return s
	}
	var la, lb []string
	for _, rs := range [][]Relocation{a.Relocations, b.Relocations} {
		var l []string
		for _, r := range rs {
			l = append(l, encode(r.Local))
			for _, g := range r.Guards {
				l = append(l, encode(g.Check.Local))
			}
		}
		if la == nil {
			la = l
		} else {
			lb = l
		}
	}
	if !slices.Equal(la, lb) {
		diffs = append(diffs, "local types of the relocations differ")
		for i := range min(len(la), len(lb)) {
			if la[i] != lb[i] {
				at := 0
				for at < len(la[i]) && at < len(lb[i]) && la[i][at] == lb[i][at] {
					at++
				}
				from := max(at-80, 0)
				diffs = append(diffs, fmt.Sprintf("the first at relocation %d, after %q: %.80q vs %.80q", i, la[i][from:at], la[i][at:], lb[i][at:]))
				break
			}
		}
	}
	return strings.Join(diffs, "\n")
}

// canonicalType writes a type graph out in full, a named record's members at its first
// appearance only: equal for equal types however they share their parts.
func canonicalType(t btf.Type) string {
	var b strings.Builder
	done := map[string]bool{}
	var write func(t btf.Type)
	write = func(t btf.Type) {
		switch v := t.(type) {
		case nil:
			b.WriteString("nil")
		case *btf.Struct, *btf.Union:
			var members []btf.Member
			kind := "struct"
			if s, ok := v.(*btf.Struct); ok {
				members = s.Members
			} else {
				members, kind = v.(*btf.Union).Members, "union"
			}
			name := t.TypeName()
			fmt.Fprintf(&b, "%s %s", kind, name)
			key := kind + " " + name
			if name != "" && done[key] {
				return
			}
			done[key] = true
			size, _ := btf.Sizeof(t)
			fmt.Fprintf(&b, "<%d>{", size)
			for _, m := range members {
				fmt.Fprintf(&b, "%s@%d:%d ", m.Name, m.Offset, m.BitfieldSize)
				write(m.Type)
				b.WriteString("; ")
			}
			b.WriteString("}")
		case *btf.Pointer:
			b.WriteString("*")
			write(v.Target)
		case *btf.Typedef:
			fmt.Fprintf(&b, "typedef %s=", v.Name)
			write(v.Type)
		case *btf.Array:
			fmt.Fprintf(&b, "[%d]", v.Nelems)
			write(v.Type)
		case *btf.Const:
			b.WriteString("const ")
			write(v.Type)
		case *btf.Volatile:
			b.WriteString("volatile ")
			write(v.Type)
		case *btf.Restrict:
			b.WriteString("restrict ")
			write(v.Type)
		case *btf.TypeTag:
			fmt.Fprintf(&b, "tag(%s) ", v.Value)
			write(v.Type)
		case *btf.FuncProto:
			b.WriteString("fn(")
			for _, p := range v.Params {
				b.WriteString(p.Name + " ")
				write(p.Type)
				b.WriteString(", ")
			}
			b.WriteString(")")
			write(v.Return)
		case *btf.Func:
			fmt.Fprintf(&b, "func %s %v ", v.Name, v.Linkage)
			write(v.Type)
		case *btf.Enum:
			fmt.Fprintf(&b, "enum %s<%d,%v>%v", v.Name, v.Size, v.Signed, v.Values)
		default:
			fmt.Fprintf(&b, "%v", t)
		}
	}
	write(t)
	return b.String()
}

// selftestsMaybe is the selftests corpus, or nil when it is not there.
func selftestsMaybe(t *testing.T) (c *selftestsCorpus) {
	ok := t.Run("selftests", func(t *testing.T) { c = selftestsFind(t) })
	if !ok || c == nil {
		return nil
	}
	return c
}

var localDecl = regexp.MustCompile(`(?m)^\s*(?:const\s+)?(?:int|long|char|bool|__u8|__u16|__u32|__u64|__s32|__s64|u8|u16|u32|u64|s32|s64|pid_t|(?:struct|union)\s+\w+\s*\*)\s*\**\s*([A-Za-z_]\w*)\s*[=;\[]`)

// editStream is a sequence of texts of src: for its first, middle and last function
// bodies, every prefix of typing a statement at the top of the body, the statement
// removed, a block and a macro call left open, a line deleted and restored, a local
// renamed and restored, and a statement typed before the closing brace.
func editStream(src []byte) [][]byte {
	var bodies []item
	for _, it := range topLevelItems(src) {
		if it.bodyStart >= 0 && it.bodyEnd > it.bodyStart {
			bodies = append(bodies, it)
		}
	}
	if len(bodies) < 2 {
		return nil // nothing to reuse
	}
	picks := []item{bodies[0], bodies[len(bodies)/2], bodies[len(bodies)-1]}
	out := [][]byte{src}
	with := func(start, end int, repl string) []byte {
		t := append([]byte(nil), src[:start]...)
		t = append(t, repl...)
		return append(t, src[end:]...)
	}
	for k, b := range picks {
		if k > 0 && b == picks[k-1] {
			continue
		}
		stmt := "\n\tint t_ = 1;"
		for i := 1; i <= len(stmt); i++ {
			out = append(out, with(b.bodyStart, b.bodyStart, stmt[:i]))
		}
		out = append(out, src)
		// A block, a macro invocation and a parenthesis left open, as typed without an
		// editor closing them.
		open := "\n\t{ bpf_printk(\"%d\", (1 +"
		for _, i := range []int{3, 15, len(open)} {
			out = append(out, with(b.bodyStart, b.bodyStart, open[:i]))
		}
		out = append(out, src)
		// The body's first line deleted.
		body := src[b.bodyStart:b.bodyEnd]
		if nl := bytes.IndexByte(body, '\n'); nl >= 0 {
			rest := body[nl+1:]
			if end := bytes.IndexByte(rest, '\n'); end >= 0 {
				s := b.bodyStart + nl + 1
				out = append(out, with(s, s+end+1, ""), src)
			}
		}
		// A local renamed everywhere in the body.
		if m := localDecl.FindSubmatchIndex(body); m != nil {
			name := string(body[m[2]:m[3]])
			renamed := regexp.MustCompile(`\b`+regexp.QuoteMeta(name)+`\b`).ReplaceAll(body, []byte(name+"_r"))
			out = append(out, with(b.bodyStart, b.bodyEnd, string(renamed)), src)
		}
		tail := "\tint t2_ = 2;\n"
		for _, i := range []int{1, 5, 10, len(tail)} {
			out = append(out, with(b.bodyEnd, b.bodyEnd, tail[:i]))
		}
		out = append(out, src)
	}
	return out
}

// TestBlankBody: a blanked body keeps its lines (every newline where it was) and
// directives, and nothing of its code, comments or literals; the blank between directives
// is a comment, which never runs into a directive's line.
func TestBlankBody(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"int f(void) {\n\tint a = 1; /* x\n#define NOT */\n#define M 1\n\tchar *s = \"{#\";\n#if M\n\treturn a; // y\n#endif\n}\n",
			"int f(void) {\n/*              \n            */\n#define M 1\n/*            */\n#if M\n/*           */\n#endif\n}\n"},
		{"int g(void) { return 1; }\n", "int g(void) {/*       */}\n"},
		{"int h(void) {\n\n}\n", "int h(void) {\n\n}\n"},                           // no room for a comment
		{"int k(void) {\n#if 1\n#endif\n}\n", "int k(void) {\n#if 1\n#endif\n}\n"}, // directives only
	} {
		b := []byte(c.src)
		it := topLevelItems(b)[0]
		blankBody(b, it.bodyStart, it.bodyEnd)
		if string(b) != c.want {
			t.Errorf("got\n%q\nwant\n%q", b, c.want)
		}
		for i := range b {
			if (b[i] == '\n') != (c.src[i] == '\n') {
				t.Errorf("%q: a newline moved at %d", c.src, i)
				break
			}
		}
	}
}

// TestReuseTaken: which edits of a program reuse its last result, and that each gives a
// whole compile's result either way.
func TestReuseTaken(t *testing.T) {
	path, data, replace := editable(t, "../testdata/bench/tracer.bpf.c")
	for _, c := range []struct {
		name   string
		text   string
		reused bool
	}{
		{"statement in a program", replace("\tfill_task(e, task);\n", "\tint t_ = 1;\n\tfill_task(e, task);\n"), true},
		{"statement in a helper", replace("\te->pid = bpf_get_current_pid_tgid() >> 32;\n", "\tint t_ = 1;\n\te->pid = bpf_get_current_pid_tgid() >> 32;\n"), true},
		{"a read deleted", replace("\te->ppid = BPF_CORE_READ(task, real_parent, tgid);\n", ""), true},
		// se is a record held by value in task_struct, cut down in the last compiles of
		// one function (slim.go) while nothing named it.
		{"a read through a record held by value", replace("\tfill_task(e, task);\n", "\tfill_task(e, task);\n\te->pid = BPF_CORE_READ(task, se.vruntime);\n"), true},
		// The only use of mm: the whole compile leaves struct mm_struct incomplete, which
		// shows in the local type of every relocation rooted at task_struct.
		{"a record's last use deleted", replace("\te->total_vm = BPF_CORE_READ(task, mm, total_vm);\n", ""), false},
		{"another call of a helper", replace("\tfill_task(e, task);\n", "\tfill_task(e, task);\n\tfill_task(e, task);\n"), false},
		{"a helper given another class of pointer", replace("\tfill_task(e, task);\n", "\tfill_task(e, (struct task_struct *)bpf_get_current_task_btf());\n"), false},
		{"a helper returning another class", replace("\te = bpf_ringbuf_reserve(&events, sizeof(*e), 0);\n", "\te = (void *)bpf_get_current_task();\n"), false},
		// A macro invocation left open runs to the end of the file: its error is the
		// edited function's, the early end of file follows from it.
		{"a macro invocation left open", replace("\tfill_task(e, task);\n", "\tbpf_printk(\"%d\", e->pid\n\tfill_task(e, task);\n"), true},
		{"a directive in a body", replace("\tfill_task(e, task);\n", "#define X 1\n\tfill_task(e, task);\n"), false},
		{"a comment in a body", replace("\tfill_task(e, task);\n", "\t/* X */ fill_task(e, task);\n"), false},
		// Recovery blanks the body: reused from a compile with that body blanked.
		{"an error in a body", replace("\tfill_task(e, task);\n", "\tfill_task(e, task)\n"), true},
		{"an undefined name in a body", replace("\tfill_task(e, task);\n", "\tfill_task(e, tsk);\n"), true},
		// At the closing brace, recovery blanks the whole function: reused from the
		// compile without it.
		{"an error at a body's end", replace("\tbpf_probe_read_kernel_str(&e->path, sizeof(e->path), name);\n\tbpf_ringbuf_submit(e, 0);\n\treturn 0;\n", "\tbpf_probe_read_kernel_str(&e->path, sizeof(e->path), name);\n\tbpf_ringbuf_submit(e, 0);\n\treturn 0;\n\tint t_ =\n"), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, want, st := editOnce(t, path, data, c.text)
			if (st.Reused == 1) != c.reused {
				t.Errorf("reused %d compiles, want reuse %v", st.Reused, c.reused)
			}
			if d := sameResultTypes(t, map[btf.Type]string{}, want, got); d != "" {
				t.Errorf("differs from a whole compile:\n%s", d)
			}
		})
	}
}

// editable reads a program to edit: replace(old, new) is its text with old, which it
// must hold, replaced by new.
func editable(t *testing.T, file string) (path string, data []byte, replace func(old, new string) string) {
	path, err := filepath.Abs(file)
	if err != nil {
		t.Fatal(err)
	}
	if data, err = os.ReadFile(path); err != nil {
		t.Fatal(err)
	}
	return path, data, func(old, new string) string {
		if !bytes.Contains(data, []byte(old)) {
			t.Fatalf("%q is not in the program", old)
		}
		return strings.Replace(string(data), old, new, 1)
	}
}

// editOnce compiles original and then edited with a Cache that reuses its last result: it
// returns that result, what a whole compile gives the edited text, and the Cache's stats.
func editOnce(t *testing.T, path string, original []byte, edited string) (got, want *Result, st CacheStats) {
	t.Helper()
	reusing, whole := NewCache(), NewCache()
	whole.noReuse = true
	in := Input{Path: path, Source: original, Flags: corpusFlags(t)}
	if _, err := reusing.Compile(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	in.Source = []byte(edited)
	got, err := reusing.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if want, err = whole.Compile(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	return got, want, reusing.Stats()
}
