package compiler

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

// The key of a memoized expansion: the invocation's macro, its number of arguments, and
// the main file's directives before it that can change what it expands to.
//
// Keyed by every directive before it, the same BPF_CORE_READ typed in another function of
// a file expanded again: the profiler of the selftests has `#ifdef UNROLL / #pragma unroll
// / #endif` in most functions, so each function had keys of its own. The expansion of an
// invocation of M depends only on the definitions in effect, where it stands, of the
// macros M can reach (R: M, and every name in a replacement list of a name in R, over
// every definition the compile can see). So a directive is kept in the key when it defines
// or undefines a name in R, or opens, continues or closes a conditional group that holds
// such a directive (at any depth); the names the conditions of those groups test join R,
// until nothing changes. Two invocations with the same kept directives, in any two texts
// of the same preamble, see the same definitions of every name their expansion reaches:
// a definition of such a name before either is kept in both (its name is in R), and so is
// whatever decides whether it is in effect (the conditions around it, and the definitions
// of what those conditions test).
//
// #include in the body is refused earlier (scanInvocations), and so is #pragma
// push_macro/pop_macro (memoizedSource), which change definitions without naming them in
// a #define.

// directive is one of the main file's directives, as the key needs it.
type directive struct {
	kind  string   // define, undef, if, ifdef, ifndef, elif, elifdef, elifndef, else, endif; "" for any other
	name  string   // the macro a define or undef is of
	tests []string // the names the condition of an if or elif tests
	group int      // the conditional group the directive opens, continues or closes, or is inside; -1: none
}

// conditional reports whether the directive opens, continues or closes its group.
func (d *directive) conditional() bool {
	switch d.kind {
	case "if", "ifdef", "ifndef", "elif", "elifdef", "elifndef", "else", "endif":
		return true
	}
	return false
}

// parseDirectives reads the main file's directives and their conditional groups (parent[g]
// is the group g is nested in, or -1).
func parseDirectives(src []byte, dirs [][2]int) (out []directive, parent []int) {
	var open []int // the groups we are in, innermost last
	for _, d := range dirs {
		text := strings.ReplaceAll(string(src[d[0]:d[1]]), "\\\n", " ")
		text = strings.TrimLeft(strings.TrimPrefix(strings.TrimLeft(text, " \t"), "#"), " \t")
		kw := text
		for i := range kw {
			if !isIdentByte(kw[i]) {
				kw = kw[:i]
				break
			}
		}
		rest := text[len(kw):]
		var names []string
		scanIdents(rest, func(s, e int) { names = append(names, rest[s:e]) })
		dir := directive{kind: kw, group: -1}
		if len(open) > 0 {
			dir.group = open[len(open)-1]
		}
		switch kw {
		case "define", "undef":
			if len(names) == 0 {
				dir.kind = ""
				break
			}
			dir.name = names[0]
		case "if", "ifdef", "ifndef":
			parent = append(parent, dir.group)
			dir.group = len(parent) - 1
			open = append(open, dir.group)
			dir.tests = names
		case "elif", "elifdef", "elifndef", "else", "endif":
			if len(open) == 0 {
				dir.kind = "" // unbalanced: a half-typed file; the compile says so
				break
			}
			if kw != "else" && kw != "endif" {
				dir.tests = names
			}
			if kw == "endif" {
				open = open[:len(open)-1]
			}
		default:
			dir.kind = ""
		}
		out = append(out, dir)
	}
	return out, parent
}

// setKeys gives each invocation its memo key.
func setKeys(src []byte, dirs [][2]int, invs []invocation, table macroTable) {
	var parsed []directive
	var parent []int
	byName := map[string][][32]byte{} // macro → the hash of its kept directives before each directive
	for i := range invs {
		inv := &invs[i]
		prefix, ok := byName[inv.name]
		if !ok {
			if parsed == nil {
				parsed, parent = parseDirectives(src, dirs)
			}
			prefix = keptPrefixes(src, dirs, parsed, parent, inv.name, table)
			byName[inv.name] = prefix
		}
		inv.key = fmt.Sprintf("%s/%d/%x", inv.name, inv.args, prefix[inv.before])
	}
}

// keptPrefixes returns, for each k in 0..len(dirs), the hash of the directives among the
// first k that an invocation of macro must keep in its key.
func keptPrefixes(src []byte, dirs [][2]int, parsed []directive, parent []int, macro string, table macroTable) [][32]byte {
	reach := map[string]bool{}
	var queue []string
	add := func(n string) {
		if !reach[n] {
			reach[n] = true
			queue = append(queue, n)
		}
	}
	closeReach := func() {
		for len(queue) > 0 {
			n := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			defs, _ := table.get(n)
			for _, d := range defs {
				scanIdents(d.repl, func(s, e int) { add(d.repl[s:e]) })
			}
		}
	}
	add(macro)
	closeReach()
	marked := make([]bool, len(parent))
	for {
		grew := false
		for _, d := range parsed {
			if d.name == "" || !reach[d.name] {
				continue
			}
			for g := d.group; g >= 0 && !marked[g]; g = parent[g] {
				marked[g] = true
				grew = true
			}
		}
		if !grew {
			break
		}
		for _, d := range parsed {
			if d.group >= 0 && marked[d.group] && d.conditional() {
				for _, n := range d.tests {
					add(n)
				}
			}
		}
		closeReach()
	}

	h := sha256.New()
	out := make([][32]byte, len(dirs)+1)
	h.Sum(out[0][:0])
	for i, d := range parsed {
		kept := d.name != "" && reach[d.name] || d.conditional() && d.group >= 0 && marked[d.group]
		if kept {
			text := src[dirs[i][0]:dirs[i][1]]
			var n [8]byte
			binary.LittleEndian.PutUint64(n[:], uint64(len(text)))
			h.Write(n[:])
			h.Write(text)
			h.Sum(out[i+1][:0])
		} else {
			out[i+1] = out[i]
		}
	}
	return out
}
