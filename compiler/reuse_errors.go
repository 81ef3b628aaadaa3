package compiler

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"time"
)

// Reuse for a text with errors, the usual state of a file being typed in. A whole compile
// of it fails, and error recovery (recover.go) compiles the file again with the broken
// items blanked: the result is that second compile's, with the first one's errors. When
// the text differs from the last error-free one only inside one body, both compiles are
// cheaper to have another way:
//   - the first one's errors are those of the compile with every other body blanked
//     (reuse.go), which reads the same text up to them and has nothing else that can fail
//     (with every signature kept when an error may be for a function blanked whole);
//     recovery's choice of what to blank is made on them as on a whole compile's;
//   - the second compile depends only on the text outside the edited body (its
//     signature blanked too when an error is at its closing brace), which stays the same
//     while the programmer types inside it. It is kept, per file for the last two bodies,
//     and moved past the body's new length each time. It is started on the other core
//     when typing pauses after a body was edited without error (prepareRecovery), so
//     that the first error typed there does not wait for a compile of the whole file.
//
// When the edited function is not among the items recovery blanks, or the second compile
// has errors of its own (a function blanked whole that another calls), the file takes the
// whole path. TestReuseEqualsPruned replays half-typed statements (a macro invocation left
// open among them) to hold the results equal.

// blankedCompile is the error-free compile of a main file with the items error recovery
// blanks, among them the edited function or its body.
type blankedCompile struct {
	before, after []byte // the blanked text before the edited body and from its closing brace
	bodyLen       int
	p             *preamble
	learned       int // how many names the Cache had learned for the file: they add declarations
	res           *Result
	done          chan struct{} // closed once learned and res are set; res nil: the compile failed
}

// of reports whether b is the compile of the text before+(a blanked body)+after with the
// preamble p.
func (b *blankedCompile) of(p *preamble, before, after []byte) bool {
	return b.p == p && bytes.Equal(b.before, before) && bytes.Equal(b.after, after)
}

// maxRecovered bounds the blanked compiles kept per file: the bodies typed in last.
const maxRecovered = 2

// mayBeUndeclared: among the errors, one that a missing declaration makes.
func mayBeUndeclared(ds []Diagnostic) bool {
	for _, d := range ds {
		if d.Severity == "error" && strings.Contains(d.Message, "undefined") {
			return true
		}
	}
	return false
}

// reuseRecovered is recovery's result for u, edited inside the body of the item f: got is
// the compile with the other bodies blanked, which failed; lines are the main file's as cc
// scans it.
func (c *Cache) reuseRecovered(ctx context.Context, u *unit, f item, lines lineTable, got *Result, p *preamble) (*Result, bool) {
	for _, d := range got.Diagnostics {
		if d.Range.Start.File != u.path || d.unplaced {
			return nil, false // from the declarations this compile was given, not the file's
		}
	}
	// Recovery's first round, as recovering runs it on a whole compile's errors.
	r := newRecovery(u.path, u.src)
	text := append([]byte(nil), u.src...)
	kept, ok := r.round(got.Diagnostics, text)
	if !ok {
		return finishRecovery(got, nil), true // recovery stops: the errors are all there is
	}
	edited := false
	for i, it := range r.items {
		edited = edited || it.bodyStart == f.bodyStart && r.blanked[i] != 0
	}
	if !edited {
		return nil, false
	}
	base, ok := c.blankedFile(ctx, u, text, f, p)
	if !ok {
		return nil, false
	}
	ed := edit{path: u.path, pre: f.bodyStart, oldEnd: f.bodyStart + base.bodyLen, delta: f.bodyEnd - f.bodyStart - base.bodyLen, lines: lines}
	res, ok := ed.moved(base.res)
	if !ok {
		return nil, false
	}
	return finishRecovery(res, kept), true
}

// blankedFile is the compile of text, u's with the edited body f blanked, kept or made.
func (c *Cache) blankedFile(ctx context.Context, u *unit, text []byte, f item, p *preamble) (*blankedCompile, bool) {
	before, after := text[:f.bodyStart], text[f.bodyEnd:]
	c.mu.Lock()
	learned := len(c.learned[u.path])
	var pending []*blankedCompile
	for _, b := range c.recovered[u.path] {
		if b.of(p, before, after) {
			pending = append(pending, b)
		}
	}
	c.mu.Unlock()
	// One being made (prepareRecovery) is waited for: it is the same compile.
	for _, b := range pending {
		select {
		case <-b.done:
		case <-ctx.Done():
			return nil, false
		}
		if b.res != nil && b.learned == learned {
			return b, true
		}
	}
	b := c.startBlanked(u, text, f, p)
	select {
	case <-b.done:
	case <-ctx.Done(): // superseded: the compile goes on, kept for the next text
		return nil, false
	}
	return b, b.res != nil
}

// startBlanked starts the compile of text, u's with the body of f blanked, and keeps it
// among the file's blanked compiles.
func (c *Cache) startBlanked(u *unit, text []byte, f item, p *preamble) *blankedCompile {
	b := &blankedCompile{before: bytes.Clone(text[:f.bodyStart]), after: bytes.Clone(text[f.bodyEnd:]), bodyLen: f.bodyEnd - f.bodyStart, p: p, done: make(chan struct{})}
	c.mu.Lock()
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
	c.mu.Unlock()

	go func() {
		defer close(b.done)
		defer func() {
			// Off the edit's goroutine, nothing else would stop a bug from ending the
			// server.
			if r := recover(); r != nil {
				b.res = nil
			}
			if b.res != nil {
				return
			}
			// Not kept: recovery compiles this text itself, and takes the whole path
			// when it fails, as it would have.
			c.mu.Lock()
			defer c.mu.Unlock()
			if kept := c.recovered[u.path]; kept != nil {
				c.recovered[u.path] = slices.DeleteFunc(slices.Clone(kept), func(k *blankedCompile) bool { return k == b })
			}
		}()
		v := *u
		v.src = text
		end, preamble := preambleText(text)
		// Not the edit's context: others may wait for this compile after that edit is
		// superseded, and it ends by itself.
		res, sums, p2, err := c.compileUnit(context.Background(), &v, end, preamble, nil)
		c.mu.Lock()
		b.learned = len(c.learned[u.path]) // with what the compile learned, as the next one starts
		c.mu.Unlock()
		if err == nil && sums != nil && p2 == p && len(res.Diagnostics) == 0 {
			b.res = res
		}
	}()
	return b
}

// prepareRecovery starts, once per body, the compile recovery needs when the body of f,
// the function just edited without error, gets an error: the first half-typed statement in
// a function then costs what the next ones do, instead of a compile of the whole file. It
// starts once the file has gone idleBeforeRecovery without another compile (a pause in
// typing) and runs on the other core: started at once, it made the next keystrokes'
// compiles slower than the one error it saved.
func (c *Cache) prepareRecovery(u *unit, f item, p *preamble) {
	// Blanking the body leaves the text around it as it is.
	before, after := u.src[:f.bodyStart], u.src[f.bodyEnd:]
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range c.recovered[u.path] {
		if b.of(p, before, after) {
			return
		}
	}
	n := c.compiles[u.path]
	time.AfterFunc(idleBeforeRecovery, func() {
		c.mu.Lock()
		idle := c.compiles[u.path] == n
		c.mu.Unlock()
		if idle {
			text := append([]byte(nil), u.src...)
			blank(text, f.bodyStart, f.bodyEnd)
			c.startBlanked(u, text, f, p)
		}
	})
}

// idleBeforeRecovery: a pause in typing longer than the compile of an edit.
const idleBeforeRecovery = 40 * time.Millisecond
