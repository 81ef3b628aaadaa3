package compiler

import (
	"bytes"
	"context"
	"strings"
)

// Reuse for a text with errors, the usual state of a file being typed in. A whole compile
// of it fails, and error recovery (recover.go) compiles the file again with the broken
// body blanked: the result is that second compile's, with the first one's errors. When the
// errors are all inside the one body that differs from the last error-free text, both
// compiles are cheaper to have another way:
//   - the errors are those of the compile with every other body blanked (reuse.go), which
//     reads the same text up to them and has nothing else that can fail (with every
//     signature kept: a function blanked whole may be what a macro of the body calls);
//   - the compile with the broken body blanked depends only on the text around that body,
//     which stays the same while the programmer types inside it. It is kept, per file for
//     the last two bodies, and moved past the body's new length each time.
//
// An error outside the body (at its closing brace, say, where recovery blanks the whole
// function), or anything else recovery would do in more than one round, takes the whole
// path. TestReuseEqualsPruned replays half-typed statements to hold the results equal.

// blankedCompile is the error-free compile of a main file with one function body blanked.
type blankedCompile struct {
	before, after []byte // the main file before the body and from its closing brace
	bodyLen       int
	p             *preamble
	learned       int // how many names the Cache had learned for the file: they add declarations
	res           *Result
}

// maxRecovered bounds the blanked compiles kept per file: the bodies typed in last.
const maxRecovered = 2

// reuseRecovered is recovery's result for u, whose edited body it (in src, the main file
// as cc scans it) has errors: got is the compile with the other bodies blanked.
func (c *Cache) reuseRecovered(ctx context.Context, u *unit, src []byte, it item, got *Result, p *preamble) (*Result, bool) {
	lines := newLineTable(u.src)
	var errs []Diagnostic
	syntax := false
	for _, d := range got.Diagnostics {
		if d.Severity != "error" {
			continue
		}
		if strings.HasPrefix(d.Message, "unexpected ") { // what cc says after the first is noise
			if syntax {
				continue
			}
			syntax = true
		}
		if d.Range.Start.File != u.path || d.unplaced {
			return nil, false
		}
		if off := lines.offset(d.Range.Start.Line, d.Range.Start.Col); off < it.bodyStart || off >= it.bodyEnd {
			return nil, false
		}
		errs = append(errs, d)
	}
	base, ok := c.blankedBody(ctx, u, src, it, p)
	if !ok {
		return nil, false
	}
	ed := edit{path: u.path, pre: it.bodyStart, oldEnd: it.bodyStart + base.bodyLen, delta: it.bodyEnd - it.bodyStart - base.bodyLen, lines: newLineTable(src)}
	res, ok := ed.moved(base.res)
	if !ok {
		return nil, false
	}
	return finishRecovery(res, withoutCascades(errs)), true
}

// blankedBody is the compile of u with the body it blanked, kept or made.
func (c *Cache) blankedBody(ctx context.Context, u *unit, src []byte, it item, p *preamble) (*blankedCompile, bool) {
	before, after := src[:it.bodyStart], src[it.bodyEnd:]
	c.mu.Lock()
	learned := len(c.learned[u.path])
	for _, b := range c.recovered[u.path] {
		if b.p == p && b.learned == learned && bytes.Equal(b.before, before) && bytes.Equal(b.after, after) {
			c.mu.Unlock()
			return b, true
		}
	}
	c.mu.Unlock()

	v := *u
	v.src = append([]byte(nil), u.src...)
	blank(v.src, it.bodyStart, it.bodyEnd)
	end, text := preambleText(v.src)
	res, sums, p2, err := c.compileUnit(ctx, &v, end, text, nil)
	if err != nil || sums == nil || p2 != p || len(res.Diagnostics) > 0 {
		return nil, false
	}
	b := &blankedCompile{before: bytes.Clone(before), after: bytes.Clone(after), bodyLen: it.bodyEnd - it.bodyStart, p: p, res: res}
	c.mu.Lock()
	defer c.mu.Unlock()
	b.learned = len(c.learned[u.path]) // with what the compile learned, as the next one starts
	kept := c.recovered[u.path]
	if len(kept) >= maxRecovered {
		kept = kept[1:]
	}
	if _, ok := c.recovered[u.path]; !ok && len(c.recovered) >= maxLast {
		for k := range c.recovered {
			delete(c.recovered, k)
			break
		}
	}
	c.recovered[u.path] = append(kept, b)
	return b, true
}
