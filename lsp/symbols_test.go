package lsp

import (
	"fmt"
	"strings"
	"testing"

	"go.lsp.dev/protocol"
)

func outlineString(src string) string {
	var b strings.Builder
	for _, it := range outline([]byte(src)) {
		kind := "program"
		if it.kind == outlineMap {
			kind = "map"
		}
		fmt.Fprintf(&b, "%s %s [%s] %q\n", kind, it.name, it.detail, src[it.nameStart:it.nameEnd])
	}
	return b.String()
}

func TestOutline(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"kprobe macros", readTestdata(t, "kprobe_macros.bpf.c"),
			"map inflight [BPF_MAP_TYPE_HASH, max_entries 1024] \"inflight\"\n" +
				"program open_enter [SEC(\"kprobe/do_sys_openat2\")] \"open_enter\"\n" +
				"program open_exit [SEC(\"kretprobe/do_sys_openat2\")] \"open_exit\"\n"},
		{"plain functions", readTestdata(t, "seed.bpf.c"),
			"program seed_prog [SEC(\"kprobe/dev_queue_xmit\")] \"seed_prog\"\n"},
		{"legacy map and attributes", `
struct bpf_map_def SEC("maps") legacy = { .type = BPF_MAP_TYPE_ARRAY, .max_entries = 8 };
static __always_inline int helper(int x) { return x; }
__attribute__((section("xdp"), used)) int xdp_prog(struct xdp_md *ctx) { if (x) { return 1; } return 2; }
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev)
{
	return 0;
}
char LICENSE[] SEC("license") = "GPL";
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 1 << 24); } rb SEC(".maps");
`, "map legacy [BPF_MAP_TYPE_ARRAY, max_entries 8] \"legacy\"\n" +
			"program xdp_prog [SEC(\"xdp\")] \"xdp_prog\"\n" +
			"program on_switch [SEC(\"tp_btf/sched_switch\")] \"on_switch\"\n" +
			"map rb [BPF_MAP_TYPE_RINGBUF, max_entries 1] \"rb\"\n"},
		{"broken file still has an outline", "SEC(\"kprobe/x\") int f(void *ctx) { if (", "program f [SEC(\"kprobe/x\")] \"f\"\n"},
	} {
		if got := outlineString(tc.src); got != tc.want {
			t.Errorf("%s:\n got: %s\nwant: %s", tc.name, got, tc.want)
		}
	}
}

func TestDocumentSymbol(t *testing.T) {
	e := newEnv(t, envOptions{})
	text := readTestdata(t, "kprobe_macros.bpf.c")
	u := e.open(testdata(t, "kprobe_macros.bpf.c"), text)
	res, err := e.server.DocumentSymbol(e.ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: u}})
	if err != nil {
		t.Fatal(err)
	}
	syms, ok := res.(protocol.DocumentSymbolSlice)
	if !ok || len(syms) != 3 {
		t.Fatalf("symbols: %#v", res)
	}
	enter := syms[1]
	if enter.Name != "open_enter" || enter.Kind != protocol.SymbolKindFunction {
		t.Errorf("second symbol: %+v", enter)
	}
	if enter.SelectionRange.Start != posOf(t, text, "open_enter", 0, 0) {
		t.Errorf("selection range %v", enter.SelectionRange)
	}
	if enter.Range.Start != posOf(t, text, `SEC("kprobe/do_sys_openat2")`, 0, 0) || enter.Range.End.Line <= enter.Range.Start.Line {
		t.Errorf("range %v", enter.Range)
	}
	if syms[0].Name != "inflight" || syms[0].Kind != protocol.SymbolKindVariable {
		t.Errorf("first symbol: %+v", syms[0])
	}
	// A file that is not open is read from disk.
	res, err = e.server.DocumentSymbol(e.ctx, &protocol.DocumentSymbolParams{TextDocument: protocol.TextDocumentIdentifier{URI: fileURI(testdata(t, "multi_prog.bpf.c"))}})
	if err != nil || len(res.(protocol.DocumentSymbolSlice)) != 3 {
		t.Errorf("multi_prog from disk: %v %v", res, err)
	}
}

func TestLex(t *testing.T) {
	src := "#define X(a, b...) \\\n  a /* c */\nint x = 1.5e+3; // c\nchar *s = \"a\\\"b\"; p->q; '\\''"
	var got []string
	for _, tk := range lex([]byte(src)) {
		got = append(got, tk.text([]byte(src)))
	}
	want := []string{"#define X(a, b...) \\\n  a /* c */", "int", "x", "=", "1.5e+3", ";", "char", "*", "s", "=", `"a\"b"`, ";", "p", "->", "q", ";", `'\''`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("lex:\n got %q\nwant %q", got, want)
	}
}
