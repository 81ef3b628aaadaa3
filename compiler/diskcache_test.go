package compiler

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf/btf"
)

// onlyPreamble returns the one preamble a Cache holds.
func onlyPreamble(t *testing.T, c *Cache) *preamble {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.preambles) != 1 {
		t.Fatalf("%d preambles, want 1", len(c.preambles))
	}
	for _, s := range c.preambles {
		return s.p
	}
	return nil
}

// localTypes is the BTF of the local types of relocations, in order: identical bytes mean
// identical type graphs, sharing included.
func localTypes(t *testing.T, relocs []Relocation) []byte {
	t.Helper()
	b, _ := btf.NewBuilder(nil, nil)
	var add func(rs []Relocation)
	add = func(rs []Relocation) {
		for _, r := range rs {
			if r.Local != nil {
				if _, err := b.Add(r.Local); err != nil {
					t.Fatal(err)
				}
			}
			for _, g := range r.Guards {
				add([]Relocation{g.Check})
			}
		}
	}
	add(relocs)
	data, err := b.Marshal(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withoutLocals is relocs with their local types (compared apart) cleared.
func withoutLocals(relocs []Relocation) []Relocation {
	out := make([]Relocation, len(relocs))
	for i, r := range relocs {
		r.Local = nil
		var gs []Guard
		for _, g := range r.Guards {
			g.Check.Local = nil
			gs = append(gs, g)
		}
		r.Guards = gs
		out[i] = r
	}
	return out
}

// sameResult reports how two results differ: records, ranges, diagnostics, facts.
func sameResult(t *testing.T, a, b *Result) string {
	t.Helper()
	var diffs []string
	if !reflect.DeepEqual(withoutLocals(a.Relocations), withoutLocals(b.Relocations)) {
		diffs = append(diffs, fmt.Sprintf("relocations:\n%s\nvs\n%s", summary(a), summary(b)))
	}
	if string(localTypes(t, a.Relocations)) != string(localTypes(t, b.Relocations)) {
		diffs = append(diffs, "local types of the relocations differ")
	}
	externs := func(r *Result) ([]Extern, []btf.Type) {
		var out []Extern
		var types []btf.Type
		for _, e := range r.Externs {
			types = append(types, e.Local)
			e.Local = nil
			out = append(out, e)
		}
		return out, types
	}
	ea, ta := externs(a)
	eb, tb := externs(b)
	if !reflect.DeepEqual(ea, eb) || len(ta) != len(tb) {
		diffs = append(diffs, fmt.Sprintf("externs: %v vs %v", ea, eb))
	}
	if !reflect.DeepEqual(a.Diagnostics, b.Diagnostics) {
		diffs = append(diffs, fmt.Sprintf("diagnostics: %v vs %v", a.Diagnostics, b.Diagnostics))
	}
	if !reflect.DeepEqual(a.Facts, b.Facts) {
		diffs = append(diffs, fmt.Sprintf("facts:\n%+v\nvs\n%+v", a.Facts, b.Facts))
	}
	if !reflect.DeepEqual(a.FallbacksUsed, b.FallbacksUsed) {
		diffs = append(diffs, fmt.Sprintf("fallbacks: %v vs %v", a.FallbacksUsed, b.FallbacksUsed))
	}
	return strings.Join(diffs, "\n")
}

// dumpPreamble writes out everything a preamble's index holds.
func dumpPreamble(t *testing.T, p *preamble) string {
	var b strings.Builder
	fmt.Fprintf(&b, "text %q\nerr %v\nfallbacks %q\ndiags %v\n", p.text, p.err, p.fallbacks, p.diags)
	files := append([]fileStamp(nil), p.files...)
	sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
	for _, f := range files {
		fmt.Fprintf(&b, "file %s %s\n", f.path, f.stampString())
	}
	for i, d := range p.decls {
		fmt.Fprintf(&b, "decl %d %s:%d preserve=%v declares=%q refs=%q\n%s\n", i, d.file, d.line, d.preserve, d.declares, d.refs, d.text)
	}
	keys := func(m any) []string {
		var out []string
		for _, k := range reflect.ValueOf(m).MapKeys() {
			out = append(out, k.String())
		}
		sort.Strings(out)
		return out
	}
	for _, n := range keys(p.byName) {
		fmt.Fprintf(&b, "byName %s %v\n", n, p.byName[n])
	}
	for _, n := range keys(p.macros) {
		fmt.Fprintf(&b, "macro %s %q\n%s", n, p.macros[n], p.defines[n])
	}
	if len(p.defines) != len(p.macros) {
		fmt.Fprintf(&b, "%d defines for %d macros\n", len(p.defines), len(p.macros))
	}
	fmt.Fprintf(&b, "sorted %q\n", p.sorted)
	var relocs []Relocation
	for _, h := range p.funcs {
		fmt.Fprintf(&b, "func %s %s root=%v sec=%q calls=%q\n", h.name, h.file, h.root, h.section, h.calls)
		for _, r := range withoutLocals(h.relocs) {
			fmt.Fprintf(&b, "  %+v\n", r)
		}
		relocs = append(relocs, h.relocs...)
	}
	fmt.Fprintf(&b, "local types %x\n", localTypes(t, relocs))
	return b.String()
}

// firstDiff shows where two long texts part.
func firstDiff(a, b string) string {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := 0; i < len(la) && i < len(lb); i++ {
		if la[i] != lb[i] {
			return fmt.Sprintf("line %d:\n%s\nvs\n%s", i+1, la[i], lb[i])
		}
	}
	return fmt.Sprintf("%d lines vs %d", len(la), len(lb))
}

// TestDiskCacheRoundTrip: a preamble written by one Cache and read by another (a restarted
// server) is the same index, and compiles give identical results.
func TestDiskCacheRoundTrip(t *testing.T) {
	root := goldenRoot(t)
	vmlinux, err := os.ReadFile(filepath.Join(root, "testdata", "include", "vmlinux.h"))
	if err != nil {
		t.Fatal("testdata/include/vmlinux.h is missing: run `make vmlinux`")
	}
	noInclude, err := ParseFlags([]string{"-D__TARGET_ARCH_x86"}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		in        Input
		withFuncs bool // header functions with relocations
	}{
		{name: "lsm", in: Input{Path: filepath.Join(root, "testdata", "lsm.bpf.c"), Flags: corpusFlags(t)}},
		{name: "header functions", in: Input{Path: filepath.Join(root, "testdata", "header_helpers.bpf.c"), Flags: corpusFlags(t)}, withFuncs: true},
		// The fallback vmlinux.h is not on disk: its declarations are stored as text.
		{name: "fallback vmlinux.h", in: Input{Path: filepath.Join(root, "testdata", "core_read.bpf.c"), Flags: noInclude,
			Fallback: map[string][]byte{"vmlinux.h": vmlinux}, FallbackKey: "test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			first := NewCacheWith(CacheOptions{Dir: dir})
			want, err := first.Compile(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			first.Flush()
			if st := first.Stats(); st.Builds != 1 || st.DiskStores != 1 || st.DiskLoads != 0 {
				t.Fatalf("first cache: %+v", st)
			}
			built := onlyPreamble(t, first)
			if tt.withFuncs {
				n := 0
				for _, h := range built.funcs {
					n += len(h.relocs)
				}
				if n == 0 {
					t.Fatal("no header function with relocations")
				}
			}
			second := NewCacheWith(CacheOptions{Dir: dir})
			got, err := second.Compile(context.Background(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			second.Flush()
			if st := second.Stats(); st.DiskLoads != 1 || st.Builds != 0 || st.DiskStores != 0 {
				t.Errorf("second cache: %+v", st)
			}
			if d := sameResult(t, want, got); d != "" {
				t.Errorf("loaded preamble compiles differently:\n%s", d)
			}
			loaded := onlyPreamble(t, second)
			if a, b := dumpPreamble(t, built), dumpPreamble(t, loaded); a != b {
				t.Errorf("loaded preamble differs from built one: %s", firstDiff(a, b))
			}
			if !loaded.fresh() {
				t.Error("loaded preamble is not fresh")
			}
			if len(tt.in.Fallback) == 0 && len(loaded.files) == 0 {
				t.Error("loaded preamble read no files: Invalidate would miss its headers")
			}
			fi, _ := os.Stat(second.disk.path(preambleKeyOf(t, tt.in)))
			t.Logf("entry %d KB, %d declarations, %d macros", fi.Size()>>10, len(loaded.decls), len(loaded.macros))
		})
	}
}

func preambleKeyOf(t testing.TB, in Input) string {
	t.Helper()
	u, err := prepare(in)
	if err != nil {
		t.Fatal(err)
	}
	src := u.src[:preambleEnd(u.src)]
	text := strings.TrimRight(string(src), " \t\r\n\f\v") + "\n"
	return preambleKey(u, text)
}

// TestDiskCacheSharing: ten files sharing vmlinux.h share one copy of its declarations,
// whether their preambles were loaded or built.
func TestDiskCacheSharing(t *testing.T) {
	root := goldenRoot(t)
	dir := t.TempDir()
	lsm := Input{Path: filepath.Join(root, "testdata", "lsm.bpf.c"), Flags: corpusFlags(t)}
	other := Input{Path: filepath.Join(root, "testdata", "core_read.bpf.c"), Flags: corpusFlags(t)}
	writer := NewCacheWith(CacheOptions{Dir: dir})
	if _, err := writer.Compile(context.Background(), lsm); err != nil {
		t.Fatal(err)
	}
	writer.Flush()

	c := NewCacheWith(CacheOptions{Dir: dir})
	t.Cleanup(c.Flush) // the second preamble is written in the background: before dir goes
	if _, err := c.Compile(context.Background(), lsm); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Compile(context.Background(), other); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.DiskLoads != 1 || st.Builds != 1 {
		t.Fatalf("stats %+v: want the first preamble loaded, the second built", st)
	}
	c.mu.Lock()
	var ps []*preamble
	for _, s := range c.preambles {
		ps = append(ps, s.p)
	}
	c.mu.Unlock()
	byDecl := func(p *preamble) map[string]*ppDecl {
		m := map[string]*ppDecl{}
		for _, d := range p.decls {
			if strings.HasSuffix(d.file, "vmlinux.h") && len(d.declares) > 0 {
				m[d.file+" "+strings.Join(d.declares, ",")] = d
			}
		}
		return m
	}
	c.intern.mu.Lock()
	interned := map[*ppDecl]bool{}
	for _, d := range c.intern.decls {
		interned[d] = true
	}
	texts := 0
	for k := range c.intern.contents {
		if strings.HasPrefix(k, filepath.Join(root, "testdata", "include", "vmlinux.h")+"\x00") {
			texts++
		}
	}
	c.intern.mu.Unlock()
	// Declarations made by macros are not shared by builds either.
	a, b := byDecl(ps[0]), byDecl(ps[1])
	shared, copied := 0, 0
	for k, d := range a {
		if e, ok := b[k]; ok && interned[d] {
			if d == e {
				shared++
			} else {
				copied++
			}
		}
	}
	if shared < 10000 || copied > 0 {
		t.Errorf("vmlinux.h declarations: %d shared, %d copied", shared, copied)
	}
	if texts != 1 {
		t.Errorf("vmlinux.h is interned %d times", texts)
	}
}

// tinyProgram writes a program whose headers parse in milliseconds: a record, a header
// function with a relocation, and a header of macros only.
func tinyProgram(t testing.TB, dir string) (Input, string) {
	t.Helper()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("local.h", "struct loc { int a; int b; } __attribute__((preserve_access_index));\n"+
		"static inline int get_b(struct loc *l) { return l->b; }\n")
	write("macros.h", "#define TWICE(x) ((x) * 2)\n")
	prog := filepath.Join(dir, "p.bpf.c")
	write("p.bpf.c", "#include \"local.h\"\n#include \"macros.h\"\nint f(struct loc *l) { return TWICE(get_b(l)) + l->a; }\n")
	flags, err := ParseFlags(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	return Input{Path: prog, Flags: flags}, filepath.Join(dir, "local.h")
}

// TestDiskCacheValidity: an entry is used while its headers have the content they had,
// touched or not; an edited header, or a corrupt, foreign or old entry, is rebuilt and the
// entry written again.
func TestDiskCacheValidity(t *testing.T) {
	later := func(t *testing.T, path string) {
		at := mustStat(t, path).ModTime().Add(3 * time.Second)
		if err := os.Chtimes(path, at, at); err != nil {
			t.Fatal(err)
		}
	}
	rewrite := func(path, old, new string) func(t *testing.T, header, entry string) {
		return func(t *testing.T, header, entry string) {
			if path == "" {
				path = header
			} else {
				path = filepath.Join(filepath.Dir(header), path)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), old) {
				t.Fatalf("%s has no %q", path, old)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			later(t, path)
		}
	}
	reencode := func(edit func(h *diskHeader)) func(t *testing.T, header, entry string) {
		return func(t *testing.T, header, entry string) {
			data, err := os.ReadFile(entry)
			if err != nil {
				t.Fatal(err)
			}
			key := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(entry), "preamble-"), ".idx")
			dp, err := decodeDiskEntry(data, key)
			if err != nil {
				t.Fatal(err)
			}
			h := diskHeader{Format: diskFormat, Identity: buildIdentity(), Key: key}
			edit(&h)
			if data, err = encodeDiskEntry(h, dp); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(entry, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	damage := func(f func([]byte) []byte) func(t *testing.T, header, entry string) {
		return func(t *testing.T, header, entry string) {
			data, err := os.ReadFile(entry)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(entry, f(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		name   string
		change func(t *testing.T, header, entry string)
		loaded bool   // the entry is used
		logged string // what the log hook hears, when not used
		relocs string // the relocations after the change
	}{
		{"unchanged", func(*testing.T, string, string) {}, true, "", "byte_off loc 0:0,byte_off loc 0:1"},
		{"touched", func(t *testing.T, header, _ string) { later(t, header) }, true, "", "byte_off loc 0:0,byte_off loc 0:1"},
		{"touched header of macros", func(t *testing.T, header, _ string) { later(t, filepath.Join(filepath.Dir(header), "macros.h")) }, true, "", "byte_off loc 0:0,byte_off loc 0:1"},
		{"edited, same size", rewrite("", "int a; int b;", "int b; int a;"), false, "local.h changed", "byte_off loc 0:1,byte_off loc 0:0"},
		{"edited, larger", rewrite("", "int a;", "int z; int a;"), false, "local.h changed", "byte_off loc 0:1,byte_off loc 0:2"},
		{"macro header edited", rewrite("macros.h", "* 2", "* 3"), false, "macros.h changed", "byte_off loc 0:0,byte_off loc 0:1"},
		{"bit flipped", damage(func(b []byte) []byte { b[len(b)/2] ^= 0x20; return b }), false, "checksum", "byte_off loc 0:0,byte_off loc 0:1"},
		{"truncated", damage(func(b []byte) []byte { return b[:len(b)*2/3] }), false, "checksum", "byte_off loc 0:0,byte_off loc 0:1"},
		{"empty", damage(func([]byte) []byte { return nil }), false, "not a corels preamble entry", "byte_off loc 0:0,byte_off loc 0:1"},
		{"foreign", damage(func([]byte) []byte { return []byte("GOBLIN\x00\x01\x02") }), false, "not a corels preamble entry", "byte_off loc 0:0,byte_off loc 0:1"},
		{"older format", reencode(func(h *diskHeader) { h.Format-- }), false, "format", "byte_off loc 0:0,byte_off loc 0:1"},
		{"another build", reencode(func(h *diskHeader) { h.Identity = "corels@v0.0.1" }), false, "another build", "byte_off loc 0:0,byte_off loc 0:1"},
		{"another preamble's", reencode(func(h *diskHeader) { h.Key = strings.Repeat("0", 64) }), false, "another preamble", "byte_off loc 0:0,byte_off loc 0:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			cacheDir := filepath.Join(dir, "cache")
			in, header := tinyProgram(t, dir)
			first := NewCacheWith(CacheOptions{Dir: cacheDir})
			if _, err := first.Compile(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			first.Flush()
			entry := first.disk.path(preambleKeyOf(t, in))
			tt.change(t, header, entry)

			var logged []string
			c := NewCacheWith(CacheOptions{Dir: cacheDir, Log: func(msg string, args ...any) { logged = append(logged, fmt.Sprint(msg, args)) }})
			res, err := c.Compile(context.Background(), in)
			if err != nil {
				t.Fatal(err)
			}
			c.Flush()
			var keys []string
			for _, r := range res.Relocations {
				keys = append(keys, r.Key())
			}
			if got := strings.Join(keys, ","); got != tt.relocs || res.HasErrors() {
				t.Errorf("relocations %s %v, want %s", got, res.Diagnostics, tt.relocs)
			}
			want := CacheStats{Pruned: 1, DiskLoads: 1}
			if !tt.loaded {
				want = CacheStats{Pruned: 1, Builds: 1, DiskStores: 1}
			}
			if st := c.Stats(); st != want {
				t.Errorf("stats %+v, want %+v", st, want)
			}
			if got := strings.Join(logged, "\n"); tt.logged == "" && got != "" || !strings.Contains(got, tt.logged) {
				t.Errorf("logged %q, want %q", got, tt.logged)
			}
			if !onlyPreamble(t, c).fresh() {
				t.Error("the preamble is not fresh")
			}
			// Rebuilt or not, the entry is good now.
			again := NewCacheWith(CacheOptions{Dir: cacheDir})
			if _, err := again.Compile(context.Background(), in); err != nil {
				t.Fatal(err)
			}
			if st := again.Stats(); st.DiskLoads != 1 || st.Builds != 0 {
				t.Errorf("after: %+v", st)
			}
		})
	}
}

// TestDiskCacheFailedPreamble: a preamble that does not compile is not stored.
func TestDiskCacheFailedPreamble(t *testing.T) {
	dir := t.TempDir()
	in, _ := tinyProgram(t, dir)
	in.Source = []byte("#include \"missing.h\"\nint x;\n")
	cacheDir := filepath.Join(dir, "cache")
	c := NewCacheWith(CacheOptions{Dir: cacheDir})
	res, err := c.Compile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	c.Flush()
	if !res.HasErrors() {
		t.Error("no error for a missing header")
	}
	if st := c.Stats(); st.DiskStores != 0 || st.Builds != 1 {
		t.Errorf("stats %+v", st)
	}
	if ents, _ := os.ReadDir(cacheDir); len(ents) != 0 {
		t.Errorf("cache directory holds %v", ents)
	}
}

// TestDiskCacheFiles: entries are 0644 in a 0755 directory, and trim keeps the most
// recently used maxDiskEntries, removing temporary files only once they are old.
func TestDiskCacheFiles(t *testing.T) {
	dir := t.TempDir()
	in, _ := tinyProgram(t, dir)
	cacheDir := filepath.Join(dir, "cache", "corels")
	c := NewCacheWith(CacheOptions{Dir: cacheDir})
	if _, err := c.Compile(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	entry := c.disk.path(preambleKeyOf(t, in))
	if m := mustStat(t, entry).Mode().Perm(); m != 0o644 {
		t.Errorf("entry mode %v", m)
	}
	if m := mustStat(t, cacheDir).Mode().Perm(); m != 0o755 {
		t.Errorf("directory mode %v", m)
	}

	now := time.Now()
	touch := func(name string, age time.Duration) string {
		p := filepath.Join(cacheDir, name)
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for i := range maxDiskEntries + 5 {
		touch(fmt.Sprintf("preamble-%03d.idx", i), time.Duration(i+1)*time.Minute)
	}
	oldTmp := touch("preamble-1.tmp", 2*time.Hour)
	newTmp := touch("preamble-2.tmp", time.Minute)
	other := touch("vmlinux.h", 100*time.Hour)
	c.disk.trim()
	for _, tt := range []struct {
		path string
		kept bool
	}{
		{entry, true},
		{filepath.Join(cacheDir, "preamble-000.idx"), true},
		{filepath.Join(cacheDir, fmt.Sprintf("preamble-%03d.idx", maxDiskEntries-2)), true},
		{filepath.Join(cacheDir, fmt.Sprintf("preamble-%03d.idx", maxDiskEntries-1)), false},
		{filepath.Join(cacheDir, fmt.Sprintf("preamble-%03d.idx", maxDiskEntries+4)), false},
		{oldTmp, false},
		{newTmp, true},
		{other, true},
	} {
		if _, err := os.Stat(tt.path); (err == nil) != tt.kept {
			t.Errorf("%s: kept=%v, want %v", filepath.Base(tt.path), err == nil, tt.kept)
		}
	}
}

// FuzzDiskCache: no entry, however damaged, makes the loader panic; one that loads gives a
// usable preamble. The checksum would stop nearly every mutation before the decoder, so
// each input is also tried with its checksum fixed.
func FuzzDiskCache(f *testing.F) {
	good, key, in := storedEntry(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(diskMagic))
	f.Add([]byte{})
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)-10] ^= 0xff
	f.Add(flipped)
	u, err := prepare(in)
	if err != nil {
		f.Fatal(err)
	}
	text := strings.TrimRight(string(u.src[:preambleEnd(u.src)]), " \t\r\n\f\v") + "\n"
	if dp, err := decodeDiskEntry(good, key); err != nil {
		f.Fatal(err)
	} else if _, err := dp.preamble(u, text, newInterner()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, entry := range [][]byte{data, withChecksum(data)} {
			dp, err := decodeDiskEntry(entry, key)
			if err != nil {
				continue
			}
			p, err := dp.preamble(u, text, newInterner())
			if err != nil {
				continue
			}
			// What a compile does with a preamble: close over names and render.
			picked, reached := p.closure(p.sorted)
			p.render(picked, reached)
		}
	})
}

// withChecksum is data with the checksum field set to match the rest.
func withChecksum(data []byte) []byte {
	if len(data) < len(diskMagic)+4 {
		return data
	}
	out := append([]byte(nil), data...)
	copy(out, diskMagic)
	rest := out[len(diskMagic)+4:]
	binary.LittleEndian.PutUint32(out[len(diskMagic):], crc32.Checksum(rest, castagnoli))
	return out
}

// TestDiskSortedChecked: an entry's sorted names are refused out of range or out of order
// (the name lookups that use them search them).
func TestDiskSortedChecked(t *testing.T) {
	data, key, _ := storedEntry(t)
	for name, spoil := range map[string]func(dp *diskPreamble){
		"out of order": func(dp *diskPreamble) { dp.Sorted[0], dp.Sorted[1] = dp.Sorted[1], dp.Sorted[0] },
		"repeated":     func(dp *diskPreamble) { dp.Sorted[1] = dp.Sorted[0] },
		"out of range": func(dp *diskPreamble) { dp.Sorted[0] = uint32(len(dp.Strings)) },
	} {
		dp, err := decodeDiskEntry(data, key)
		if err != nil {
			t.Fatal(err)
		}
		if len(dp.Sorted) < 2 {
			t.Fatalf("%d sorted names", len(dp.Sorted))
		}
		spoil(dp)
		if err := dp.check(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// storedEntry compiles a tiny program with a disk cache and returns the entry stored for
// its preamble, the entry's key and the program.
func storedEntry(t testing.TB) (data []byte, key string, in Input) {
	t.Helper()
	dir := t.TempDir()
	in, _ = tinyProgram(t, dir)
	c := NewCacheWith(CacheOptions{Dir: filepath.Join(dir, "cache")})
	if _, err := c.Compile(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	c.Flush()
	key = preambleKeyOf(t, in)
	data, err := os.ReadFile(c.disk.path(key))
	if err != nil {
		t.Fatal(err)
	}
	return data, key, in
}
