package compiler

import (
	"math/big"
	"strings"
)

// Slim enums: a program that names BPF_MAP_TYPE_HASH reaches enum bpf_map_type, and cc
// parses its thirty-odd enumerators on every edit. vmlinux.h writes every value, so the
// compile of one function (slim, telling tags from ordinary names: tags.go) can be given
// the enumerators it names alone — with the least and the greatest, which set the enum's
// type and so the type of each constant — when it never reaches the enum as a tag (a
// declaration of that type, a CO-RE enum relocation): then nothing but the constants
// named can see the others. The lines left out stay as empty lines.

// cutEnum stands for the plan of an enum cut down, among the records' (prunedText.cut).
var cutEnum = &slimPlan{}

// enumEntry is one enumerator of a declaration's text, on a line of its own.
type enumEntry struct {
	name       string
	value      *big.Int
	start, end int // its line in the text, without the newline
}

// enumPlan is an enum declaration whose enumerators can be cut; nil when it cannot.
type enumPlan struct {
	tag      string // "" for an anonymous enum
	entries  []enumEntry
	min, max int // the entries with the least and the greatest value
}

// minEnumEntries is the fewest enumerators worth cutting.
const minEnumEntries = 8

// planEnum reads declaration text as `enum [tag] {`, one `NAME = INTEGER,` per line and
// `}` (`;`); nil when it is anything else.
func planEnum(text string) *enumPlan {
	rest, ok := strings.CutPrefix(text, "enum")
	if !ok || isIdentByte(byteAt(rest, 0)) {
		return nil
	}
	open := strings.IndexByte(text, '{')
	close := strings.LastIndexByte(text, '}')
	if after := strings.TrimSpace(text[close+1:]); open < 0 || close < open || after != "" && after != ";" {
		return nil
	}
	pl := &enumPlan{tag: strings.TrimSpace(text[len("enum"):open])}
	if pl.tag != "" && !isIdent(pl.tag) {
		return nil
	}
	nl := strings.IndexByte(text[open:], '\n') + open
	if nl < open || nl > close || strings.TrimSpace(text[open+1:nl]) != "" {
		return nil // an enumerator on the line of the brace
	}
	at := nl + 1
	for at < close {
		end := strings.IndexByte(text[at:], '\n')
		if end < 0 || at+end > close {
			return nil
		}
		end += at
		line := strings.TrimSpace(text[at:end])
		if line != "" {
			name, value, ok := strings.Cut(strings.TrimSuffix(line, ","), "=")
			name, value = strings.TrimSpace(name), strings.TrimSpace(value)
			v, okv := parseIntLiteral(value)
			if !ok || !isIdent(name) || !okv || strings.Count(line, ",") > 1 {
				return nil
			}
			pl.entries = append(pl.entries, enumEntry{name: name, value: v, start: at, end: end})
		}
		at = end + 1
	}
	if strings.TrimSpace(text[at:close]) != "" || len(pl.entries) < minEnumEntries {
		return nil
	}
	for i, e := range pl.entries {
		if e.value.Cmp(pl.entries[pl.min].value) < 0 {
			pl.min = i
		}
		if e.value.Cmp(pl.entries[pl.max].value) > 0 {
			pl.max = i
		}
	}
	return pl
}

// slim is text with the enumerators none needs left out, but the least and the
// greatest; nil when it keeps them all.
func (pl *enumPlan) slim(text string, need map[string]bool) *slimmed {
	var b strings.Builder
	s := &slimmed{}
	at := 0
	for i, e := range pl.entries {
		if need[e.name] || i == pl.min || i == pl.max {
			continue
		}
		b.WriteString(text[at:e.start])
		s.cut = append(s.cut, e.name)
		at = e.end
	}
	if len(s.cut) == 0 {
		return nil
	}
	b.WriteString(text[at:])
	s.text = b.String()
	return s
}

// enumPlanOf is declaration i's enum plan, read once; nil when it has none.
func (p *preamble) enumPlanOf(i int) *enumPlan {
	if v, ok := p.enumPlans.Load(i); ok {
		return v.(*enumPlan)
	}
	pl := planEnum(p.decls[i].text)
	p.enumPlans.Store(i, pl)
	return pl
}

// parseIntLiteral reads a C integer literal, decimal or hex, with an optional minus sign
// and U/L suffixes.
func parseIntLiteral(s string) (*big.Int, bool) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimLeft(strings.TrimPrefix(s, "-"), " ")
	s = strings.TrimRight(s, "uUlL")
	base := 10
	if rest, ok := strings.CutPrefix(strings.ToLower(s), "0x"); ok {
		s, base = rest, 16
	} else if len(s) > 1 && s[0] == '0' {
		base = 8
	}
	v, ok := new(big.Int).SetString(s, base)
	if !ok {
		return nil, false
	}
	if neg {
		v.Neg(v)
	}
	return v, true
}

// isIdent reports whether s is one identifier.
func isIdent(s string) bool {
	return s != "" && !(s[0] >= '0' && s[0] <= '9') && leadingIdent(s) == s
}
