package analysis

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// ApplyEdits returns src with the edits applied (by byte offsets). Identical edits are
// applied once; overlapping different edits are an error. Insertions at one offset keep
// their order.
func ApplyEdits(src []byte, edits []Edit) ([]byte, error) {
	type ed struct {
		start, end int
		text       string
		i          int
	}
	var list []ed
	seen := map[string]bool{}
	for i, e := range edits {
		s, t := e.Range.Start.Offset, e.Range.End.Offset
		if s < 0 || t < s || t > len(src) {
			return nil, fmt.Errorf("edit %d: range %d-%d outside the file (%d bytes)", i, s, t, len(src))
		}
		k := fmt.Sprintf("%d-%d:%s", s, t, e.NewText)
		if seen[k] {
			continue
		}
		seen[k] = true
		list = append(list, ed{s, t, e.NewText, i})
	}
	sort.SliceStable(list, func(i, j int) bool {
		if list[i].start != list[j].start {
			return list[i].start < list[j].start
		}
		return list[i].end < list[j].end
	})
	var out bytes.Buffer
	last := 0
	for i, e := range list {
		if e.start < last || i > 0 && e.start == list[i-1].start && e.end > e.start && list[i-1].end > list[i-1].start {
			return nil, fmt.Errorf("edits overlap at byte %d", e.start)
		}
		out.Write(src[last:e.start])
		out.WriteString(e.text)
		last = e.end
	}
	out.Write(src[last:])
	return out.Bytes(), nil
}

// Conflicts reports whether two edit lists touch overlapping text (identical edits do not
// conflict): quick fixes applied together must not.
func Conflicts(a, b []Edit) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Range.Start.Offset == y.Range.Start.Offset && x.Range.End.Offset == y.Range.End.Offset && x.NewText == y.NewText {
				continue
			}
			xs, xe, ys, ye := x.Range.Start.Offset, x.Range.End.Offset, y.Range.Start.Offset, y.Range.End.Offset
			if xs < ye && ys < xe || xs == ys || xs == xe && xs > ys && xs < ye || ys == ye && ys > xs && ys < xe {
				return true
			}
		}
	}
	return false
}

// helperDecls declare the probe-read helpers as bpf_helper_defs.h does, with plain C types,
// for files that do not include bpf_helpers.h (like the LLVM seed example).
var helperDecls = map[string]string{
	"bpf_probe_read_kernel":     "static long (*bpf_probe_read_kernel)(void *dst, unsigned int size, const void *unsafe_ptr) = (void *) 113;",
	"bpf_probe_read_kernel_str": "static long (*bpf_probe_read_kernel_str)(void *dst, unsigned int size, const void *unsafe_ptr) = (void *) 115;",
	"bpf_probe_read_user":       "static long (*bpf_probe_read_user)(void *dst, unsigned int size, const void *unsafe_ptr) = (void *) 112;",
	"bpf_probe_read_user_str":   "static long (*bpf_probe_read_user_str)(void *dst, unsigned int size, const void *unsafe_ptr) = (void *) 114;",
}

// macroHelpers are the helpers each macro of bpf_core_read.h calls.
var macroHelpers = map[string][]string{
	"BPF_CORE_READ":                 {"bpf_probe_read_kernel"},
	"BPF_CORE_READ_INTO":            {"bpf_probe_read_kernel"},
	"bpf_core_read":                 {"bpf_probe_read_kernel"},
	"BPF_CORE_READ_BITFIELD_PROBED": {"bpf_probe_read_kernel"},
	"BPF_CORE_READ_STR_INTO":        {"bpf_probe_read_kernel_str", "bpf_probe_read_kernel"},
	"bpf_core_read_str":             {"bpf_probe_read_kernel_str"},
	"BPF_CORE_READ_USER":            {"bpf_probe_read_user"},
	"BPF_CORE_READ_USER_INTO":       {"bpf_probe_read_user"},
	"bpf_core_read_user":            {"bpf_probe_read_user"},
	"BPF_CORE_READ_USER_STR_INTO":   {"bpf_probe_read_user_str", "bpf_probe_read_user"},
	"bpf_core_read_user_str":        {"bpf_probe_read_user_str"},
}

// headerEdits make a macro of bpf_core_read.h usable in the file: the #include when the
// file lacks it, and the helpers it calls when bpf_helpers.h is not included either. The
// second result names what was added, for the fix's title.
func (a *analyzer) headerEdits(macro string) ([]Edit, string) {
	if a.res.Defined[macro] {
		return nil, ""
	}
	var b strings.Builder
	b.WriteString("#include <bpf/bpf_core_read.h>\n")
	added := []string{"#include <bpf/bpf_core_read.h>"}
	for _, h := range macroHelpers[macro] {
		if !a.res.Defined[h] {
			b.WriteString(helperDecls[h] + "\n")
			added = append(added, h)
		}
	}
	off, afterInclude := includePoint(a.src)
	text := b.String()
	if !afterInclude {
		text += "\n"
	}
	return []Edit{{Range: a.rng(off, off), NewText: text}}, strings.Join(added, ", ")
}

// includePoint is where an #include goes: after the file's last #include in its leading
// directives and comments, else where they end. afterInclude tells which.
func includePoint(src []byte) (off int, afterInclude bool) {
	i := 0
	inComment := false
	for i < len(src) {
		lineEnd := bytes.IndexByte(src[i:], '\n')
		if lineEnd < 0 {
			lineEnd = len(src)
		} else {
			lineEnd += i + 1
		}
		line := strings.TrimSpace(string(src[i:lineEnd]))
		switch {
		case inComment:
			if strings.Contains(line, "*/") {
				inComment = false
				if rest := strings.TrimSpace(line[strings.Index(line, "*/")+2:]); rest != "" && !strings.HasPrefix(rest, "//") {
					return i, afterInclude
				}
			}
		case line == "" || strings.HasPrefix(line, "//"):
		case strings.HasPrefix(line, "/*"):
			if !strings.Contains(line[2:], "*/") {
				inComment = true
			}
		case strings.HasPrefix(line, "#"):
			// a directive, with its continuation lines
			for lineEnd < len(src) && lineEnd >= 2 && src[lineEnd-2] == '\\' {
				next := bytes.IndexByte(src[lineEnd:], '\n')
				if next < 0 {
					lineEnd = len(src)
					break
				}
				lineEnd += next + 1
			}
			if strings.HasPrefix(strings.TrimSpace(strings.TrimPrefix(line, "#")), "include") {
				off, afterInclude = lineEnd, true
			}
		default:
			if afterInclude {
				return off, true
			}
			return i, false
		}
		i = lineEnd
	}
	if afterInclude {
		return off, true
	}
	return len(src), false
}
