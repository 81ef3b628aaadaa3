package btf

import (
	"sort"
	"strings"
	"sync"
)

// levenshtein returns the edit distance between a and b (bytes), giving up
// and returning limit+1 once it exceeds limit.
func levenshtein(a, b string, limit int) int {
	return levenshteinBuf(a, b, limit, nil)
}

// levenshteinBuf is levenshtein with a scratch buffer, to avoid allocating
// for each of the tens of thousands of names of a kernel.
func levenshteinBuf(a, b string, limit int, scratch *[]int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	var buf []int
	if scratch != nil {
		buf = *scratch
	}
	if cap(buf) < 2*(len(b)+1) {
		buf = make([]int, 2*(len(b)+1))
		if scratch != nil {
			*scratch = buf
		}
	}
	buf = buf[:2*(len(b)+1)]
	prev, cur := buf[:len(b)+1], buf[len(b)+1:]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin > limit {
			return limit + 1
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// closeNames returns up to max names from candidates that are close to name:
// a small edit distance (relative to the name's length), or equal once
// leading/trailing underscores are ignored, or one containing the other.
// Closest first.
func closeNames(name string, candidates []string, max int) []string {
	if name == "" {
		return nil
	}
	limit := 2
	if len(name) >= 9 {
		limit = len(name) / 3
	}
	bare := strings.Trim(name, "_")
	type scored struct {
		name string
		dist int
	}
	var found []scored
	seen := make(map[string]bool)
	var scratch []int
	for _, c := range candidates {
		if c == "" || c == name || seen[c] {
			continue
		}
		d := levenshteinBuf(name, c, limit, &scratch)
		if cb := strings.Trim(c, "_"); cb == bare {
			// state vs __state: the kernel's usual way to rename a
			// field whose meaning changed. Best match.
			d = 0
		} else if d > limit {
			switch {
			case len(bare) >= 4 && len(cb) >= 4 && (strings.Contains(cb, bare) || strings.Contains(bare, cb)) && abs(len(cb)-len(bare)) <= 8:
				d = limit + 1
			default:
				continue
			}
		}
		seen[c] = true
		found = append(found, scored{c, d})
	}
	sort.SliceStable(found, func(i, j int) bool {
		if found[i].dist != found[j].dist {
			return found[i].dist < found[j].dist
		}
		return found[i].name < found[j].name
	})
	var out []string
	for _, f := range found {
		if len(out) == max {
			break
		}
		out = append(out, f.name)
	}
	return out
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// quoteList formats names as "`a`, `b`".
func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "`" + n + "`"
	}
	return strings.Join(q, ", ")
}

// suggestCache memoizes type name suggestions per kernel: a language server
// asks about the same missing names on every keystroke.
type suggestCache struct {
	m sync.Map // name -> []string
}

// closeTypeNames returns up to 3 type names of k close to name.
func (k *Kernel) closeTypeNames(name string) []string {
	if k.suggest == nil {
		return closeNames(name, k.typeNames, 3)
	}
	if v, ok := k.suggest.m.Load(name); ok {
		return v.([]string)
	}
	near := closeNames(name, k.typeNames, 3)
	k.suggest.m.Store(name, near)
	return near
}
