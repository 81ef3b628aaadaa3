package btf

import (
	"sort"
	"strings"
)

// levenshtein returns the edit distance between a and b (bytes), giving up
// and returning limit+1 once it exceeds limit.
func levenshtein(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
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
	for _, c := range candidates {
		if c == "" || c == name || seen[c] {
			continue
		}
		d := levenshtein(name, c, limit)
		if d > limit {
			cb := strings.Trim(c, "_")
			switch {
			case cb == bare:
				d = limit
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
