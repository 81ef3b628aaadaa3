package compiler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"math"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"modernc.org/cc/v4"
)

// Cache compiles files incrementally: headers are parsed once per distinct preamble and
// shared by every file that has it; each compile type-checks the main file with only the
// header declarations it reaches. Results equal Compile's (a test holds every corpus
// program to that). A Cache is safe for concurrent use.
type Cache struct {
	mu        sync.Mutex
	preambles map[string]*preambleSlot
	learned   map[string]map[string]bool   // main file → names found needed by retries
	last      map[string]*lastCompile      // main file → its last error-free compile (reuse.go)
	recovered map[string][]*blankedCompile // main file → compiles with one body blanked (reuse_errors.go)
	compiles  map[string]uint64            // main file → compiles asked for: is it idle? (prepareRecovery)
	noReuse   bool                         // tests: every compile is a whole one
	intern    *interner
	building  chan struct{} // one preamble build at a time: see preamble
	clock     atomic.Int64  // orders preamble uses, for eviction
	disk      *diskCache    // nil: preambles are not kept on disk
	stores    sync.WaitGroup

	stats struct{ full, pruned, reused, slim, trimmed, fallbacks, retries, builds, diskLoads, diskStores atomic.Int64 }
}

type preambleSlot struct {
	ready chan struct{}
	p     *preamble
	used  atomic.Int64 // Cache.clock at the last use
}

// built reports whether the slot's preamble is there (not being built).
func (s *preambleSlot) built() bool {
	select {
	case <-s.ready:
		return true
	default:
		return false
	}
}

// maxPreambles bounds the preambles a Cache keeps (least recently used go first): every
// distinct include list, e.g. each state of an #include being typed, makes one.
const maxPreambles = 12

// CacheStats counts what a Cache did.
type CacheStats struct {
	Full      int64 // compiles without a preamble worth caching (no #include), or whose preamble fails
	Pruned    int64 // compiles that used a pruned preamble
	Reused    int64 // compiles of one edited function, the rest of the last result reused (reuse.go)
	Slim      int64 // compiles of one function given header records cut down (slim.go)
	Trimmed   int64 // compiles of one function reused without some of the main file's other items (items.go)
	Fallbacks int64 // pruned compiles that could not resolve a name and were redone in full
	Retries   int64 // pruned compiles redone with more declarations
	Builds    int64 // preambles parsed and indexed
	// DiskLoads counts preambles read from the disk cache instead of built; DiskStores,
	// those written to it.
	DiskLoads, DiskStores int64
}

// CacheOptions configure a Cache.
type CacheOptions struct {
	// Dir keeps preamble indexes on disk (diskcache.go), so that another process with the
	// same headers does not parse them again; "": none.
	Dir string
	// Log, when set, hears why a disk entry was not used or could not be written.
	Log func(msg string, args ...any)
}

// NewCache returns a Cache without a disk cache.
func NewCache() *Cache { return NewCacheWith(CacheOptions{}) }

func NewCacheWith(o CacheOptions) *Cache {
	c := &Cache{preambles: map[string]*preambleSlot{}, learned: map[string]map[string]bool{}, last: map[string]*lastCompile{}, recovered: map[string][]*blankedCompile{}, intern: newInterner(),
		compiles: map[string]uint64{}, building: make(chan struct{}, 1)}
	if o.Dir != "" {
		log := o.Log
		if log == nil {
			log = func(string, ...any) {}
		}
		c.disk = &diskCache{dir: o.Dir, log: log}
	}
	return c
}

// Flush waits for the preambles being written to the disk cache.
func (c *Cache) Flush() { c.stores.Wait() }

func (c *Cache) Stats() CacheStats {
	return CacheStats{
		Full: c.stats.full.Load(), Pruned: c.stats.pruned.Load(), Reused: c.stats.reused.Load(), Slim: c.stats.slim.Load(), Trimmed: c.stats.trimmed.Load(), Fallbacks: c.stats.fallbacks.Load(),
		Retries: c.stats.retries.Load(), Builds: c.stats.builds.Load(),
		DiskLoads: c.stats.diskLoads.Load(), DiskStores: c.stats.diskStores.Load(),
	}
}

// Invalidate drops every preamble that read path (a header changed on disk or in an editor).
func (c *Cache) Invalidate(path string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, s := range c.preambles {
		if !s.built() {
			continue
		}
		for _, f := range s.p.files {
			if f.path == path {
				delete(c.preambles, k)
				break
			}
		}
	}
}

// maxRetries bounds the rounds of adding declarations a pruned compile turned out to need.
const maxRetries = 4

// Compile is Compile with the headers' work shared and pruned. It returns ctx.Err() when
// ctx is cancelled first.
func (c *Cache) Compile(ctx context.Context, in Input) (*Result, error) {
	u, err := prepare(in)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if _, ok := c.compiles[u.path]; !ok && len(c.compiles) >= maxLast {
		clear(c.compiles) // a preparation waiting for its file to be idle is dropped
	}
	c.compiles[u.path]++
	c.mu.Unlock()
	if !c.noReuse {
		if res, next, ok := c.reuse(ctx, u); ok {
			c.stats.reused.Add(1)
			if next != nil { // nil: a text with errors, which leaves the last compile in place
				c.remember(u.path, next)
			}
			return res, nil
		}
	}
	var first *lastCompile
	res, err := u.recovering(func(v *unit) (*Result, error) {
		end, text := preambleText(v.src)
		res, sums, p, err := c.compileUnit(ctx, v, end, text, nil)
		if v == u && err == nil && sums != nil {
			first = &lastCompile{src: mainSource(u.src), p: p, res: res, sums: sums.funcs, defined: sums.defined, items: sums.items}
		}
		return res, err
	})
	// A text with errors leaves the last error-free compile in place: the next text is
	// compared with that one, so typing through a half-written statement still reuses it.
	if err == nil && first != nil && first.res == res && len(res.Diagnostics) == 0 {
		first.reach, first.roots = recordReach{}.reached(res.Relocations)
		reachedExterns(res.Externs, first.reach)
		c.remember(u.path, first)
	}
	return res, err
}

// preambleText is the main file's leading directives, the preamble's identity: blank
// lines after them do not count, so that a body blanked by error recovery, or deleted
// while typing, keeps the same preamble.
func preambleText(src []byte) (end int, text string) {
	end = preambleEnd(src)
	text = string(src[:end])
	if trimmed := strings.TrimRight(text, " \t\r\n\f\v"); len(trimmed) < len(text) && strings.Contains(text[len(trimmed):], "\n") {
		text = trimmed + "\n"
	}
	return end, text
}

// hasInclude: a preamble without an #include is not worth caching.
func hasInclude(text string) bool { return strings.Contains(text, "include") }

// compileUnit is one compile of Compile's recovery rounds; in, when set, is a compile
// with all bodies but one blanked (reuse.go). A pruned compile also returns the
// functions' summaries and its preamble, what the next edit can be reused from.
func (c *Cache) compileUnit(ctx context.Context, u *unit, end int, text string, in *reuseInputs) (*Result, *summaries, *preamble, error) {
	if !hasInclude(text) {
		c.stats.full.Add(1)
		return u.compileFull(), nil, nil, nil
	}
	p, err := c.preamble(ctx, u, text)
	if err != nil {
		return nil, nil, nil, err
	}
	if p.err != nil {
		// The headers themselves do not compile (a missing include, say): the full run
		// reports it at the #include of the main file.
		c.stats.full.Add(1)
		return u.compileFull(), nil, nil, nil
	}
	body := u.src[end:]
	names := map[string]bool{}
	bodyText := string(body)
	scanIdents(bodyText, func(s, e int) { names[bodyText[s:e]] = true })
	c.mu.Lock()
	for n := range c.learned[u.path] {
		names[n] = true
	}
	c.mu.Unlock()
	for round := 0; ; round++ {
		if err := ctx.Err(); err != nil {
			return nil, nil, nil, err
		}
		res, sums, missing := c.compilePruned(u, p, end, names, in)
		if len(missing) == 0 {
			if in == nil {
				c.stats.pruned.Add(1)
			}
			return res, sums, p, nil
		}
		if in != nil {
			// What a compile of one body lacks is not what the file lacks: nothing learned.
			return nil, nil, nil, errNoReuse
		}
		if round == maxRetries {
			c.stats.fallbacks.Add(1)
			return u.compileFull(), nil, nil, nil
		}
		c.stats.retries.Add(1)
		c.mu.Lock()
		if c.learned[u.path] == nil {
			c.learned[u.path] = map[string]bool{}
		}
		for _, n := range missing {
			names[n] = true
			c.learned[u.path][n] = true
		}
		c.mu.Unlock()
	}
}

// preamble returns the indexed preamble for u, building it once for every waiter.
func (c *Cache) preamble(ctx context.Context, u *unit, text string) (*preamble, error) {
	key := preambleKey(u, text)
	for {
		c.mu.Lock()
		s, ok := c.preambles[key]
		if !ok {
			s = &preambleSlot{ready: make(chan struct{})}
			s.used.Store(c.clock.Add(1))
			c.preambles[key] = s
			c.mu.Unlock()
			// One build at a time: a build holds a whole vmlinux.h syntax tree (~250 MB
			// live at its peak), and two at once doubled the server's peak memory.
			c.building <- struct{}{}
			loaded := false
			func() {
				defer close(s.ready)
				defer func() {
					if r := recover(); r != nil {
						s.p = &preamble{err: fmt.Errorf("internal error indexing the headers: %v", r)}
					}
				}()
				if c.disk != nil {
					p, err := c.disk.load(u, key, text, c.intern)
					if err == nil {
						s.p, loaded = p, true
						return
					}
					if err != errNoEntry {
						c.disk.log("preamble cache entry not used", "file", u.path, "err", err)
					}
				}
				// The headers alone: the body, where a half-typed or hostile edit lives,
				// is only ever compiled pruned, after its nesting is checked.
				pilingGarbage(func() { s.p = buildPreamble(u, text, c.intern) })
				// The build leaves the headers' syntax trees as garbage (~100 MB for the
				// profiler's). Collected now, it costs the first compile ~10 ms; left to the
				// collector's pace, it made the next three edits' compiles ~30 ms slower
				// each (the profiler of the selftests, edited right after opening it).
				runtime.GC()
			}()
			c.evict()
			<-c.building
			if loaded {
				c.stats.diskLoads.Add(1)
				return s.p, nil
			}
			c.stats.builds.Add(1)
			if c.disk != nil && s.p.err == nil {
				// In the background: the compile waiting for this preamble does not need the entry.
				c.stores.Go(func() {
					if err := c.disk.store(key, s.p, c.intern); err != nil {
						c.disk.log("preamble cache entry not written", "file", u.path, "err", err)
						return
					}
					c.stats.diskStores.Add(1)
				})
			}
			return s.p, nil
		}
		s.used.Store(c.clock.Add(1))
		c.mu.Unlock()
		select {
		case <-s.ready:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if s.p.fresh() {
			return s.p, nil
		}
		c.mu.Lock()
		if c.preambles[key] == s {
			delete(c.preambles, key)
		}
		c.mu.Unlock()
	}
}

// evict drops the least recently used preambles past maxPreambles, and the shared header
// texts and declarations no kept preamble uses. It runs holding c.building, so no build is
// adding to the interner meanwhile.
func (c *Cache) evict() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.preambles) <= maxPreambles {
		return
	}
	for len(c.preambles) > maxPreambles {
		oldest, at := "", int64(-1)
		for k, s := range c.preambles {
			if !s.built() {
				continue // being built
			}
			if u := s.used.Load(); at < 0 || u < at {
				oldest, at = k, u
			}
		}
		if at < 0 {
			break
		}
		delete(c.preambles, oldest)
	}
	live := map[string]bool{}
	for _, s := range c.preambles {
		if !s.built() {
			continue
		}
		for _, f := range s.p.files {
			live[f.path+"\x00"+f.stampString()] = true
		}
	}
	c.intern.retain(live)
}

func preambleKey(u *unit, text string) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q\x00%q\x00%q\x00%q\x00%q\x00", u.path, text, u.flags.IncludeDirs, u.flags.SysDirs, u.flags.Includes)
	fmt.Fprintf(h, "%v %v %v\x00", u.flags.NoStdInc, u.flags.NoStdlibInc, u.flags.NoBuiltinInc)
	for _, m := range u.flags.Macros {
		fmt.Fprintf(h, "%v\x00", m)
	}
	if u.fallbackKey != "" {
		fmt.Fprintf(h, "fallback %s\x00", u.fallbackKey)
	} else {
		names := make([]string, 0, len(u.fsys.fallback))
		for n := range u.fsys.fallback {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			fmt.Fprintf(h, "fallback %s\x00", n)
			h.Write(u.fsys.fallback[n])
		}
	}
	paths := make([]string, 0, len(u.fsys.overlay))
	for p := range u.fsys.overlay {
		if p != u.path {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		fmt.Fprintf(h, "%s\x00", p)
		h.Write(u.fsys.overlay[p])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// compilePruned type-checks the main file after the declarations that names reach. When
// an error shows that a needed declaration was left out, it returns the names to add.
func (c *Cache) compilePruned(u *unit, p *preamble, end int, names map[string]bool, in *reuseInputs) (*Result, *summaries, []string) {
	list := make([]string, 0, len(names))
	for n := range names {
		list = append(list, n)
	}
	res := &Result{Path: u.path, Flags: u.flags}
	var pragmas pragmaRanges
	cfg, err := newConfig(u.flags, u.fsys, pragmas.handle)
	if err != nil {
		return u.compileFull(), nil, nil
	}
	// The preamble's own lines are blanked (newlines kept) so offsets in the main file stay.
	src := append([]byte(nil), u.src...)
	blank(src, 0, end)
	mainSrc := mainSource(src)
	pr := c.closureOf(cfg, u.path, p, mainSrc, list, true, in != nil && !in.wholeRecords)
	// The whole text's declarations are found on the other core while this compile runs,
	// once per edit: a compile redone (every signature kept, records whole) has the same
	// whole text.
	if in != nil && (in.wholeDecls == nil || in.wholeDecls.p != p) {
		in.wholeDecls = c.wholeFor(u, p, in, end, pr.m)
	}
	picked, reached, decls, macros, m := pr.picked, pr.reached, pr.decls, pr.macros, pr.m
	// Which records the header declarations complete shows in the local types of the
	// relocations. A compile of one function body (reuse.go) has the declarations its own
	// text reaches, but reuse needs the whole text's to complete the records its reused
	// relocations reach as the last compile's did.
	defined := p.definedRecords(picked)
	if m.defs != "" {
		macros += "#line 1 \"<expansions>\"\n" + m.defs
	}
	main := cc.Source{Name: u.path, Value: m.src}
	sources := append(prunedBaseSources(cfg, reached),
		cc.Source{Name: "<preamble>", Value: squeezeBlankLines(decls + macros)},
		main,
	)
	var guard []cc.Source
	if !m.guardFree {
		guard = guardSources(sources[0].Value.(string), macros, main)
	}
	ast, err := translate(cfg, sources, guard)
	if len(pr.cut) > 0 && !slimHolds(ast, err, u.path, pr.cutMembers) || err != nil && mentionsDropped(err, pr.dropped) {
		in.wholeRecords = true // and for the rest of this edit
		return c.compilePruned(u, p, end, names, in)
	}
	if in != nil {
		w := in.wholeDecls.wait()
		if w.err != nil || reached["__COUNTER__"] || w.reached["__COUNTER__"] {
			return &Result{}, nil, nil // blanking bodies would change what it counts
		}
		defined = p.definedRecords(w.picked)
		for n := range in.reach {
			if defined[n] != in.defined[n] {
				return &Result{}, nil, nil
			}
		}
		in.definedNow, in.cut = defined, pr.cut
	}
	if err != nil {
		diags := parseErrors(err, u.path, mainSrc)
		if missing := p.missingNames(diags, names); len(missing) > 0 {
			return nil, nil, missing
		}
		res.Diagnostics = append(res.Diagnostics, diags...)
		return res, nil, nil
	}
	pragmas.finish()
	var items *mainItems
	if in == nil {
		p.learnSlims(ast) // its records are whole
		items = learnItems(ast, u.path, mainSrc)
	} else if len(pr.cut) > 0 {
		c.stats.slim.Add(1)
	}
	x := newExtractor(ast, u.path, mainSrc, &pragmas, nil)
	x.reuse, x.summarize = in, true
	x.records.slims = pr.cut
	extract(res, x, p.funcs)
	res.FallbacksUsed = p.fallbacks
	p.addDefined(res)
	if items != nil && fileLevelFacts(res, u.path, x.summaries) {
		items = nil
	}
	return res, &summaries{x.summaries, defined, items}, nil
}

// wholeClosure is what the whole text of a compile of one function body reaches of the
// preamble p, found in a goroutine; wait for it.
type wholeClosure struct {
	p       *preamble
	done    chan struct{}
	picked  []int
	reached map[string]bool
	err     error

	// What it closed over, in parts, when the text was memoized: the names the edited
	// body gives (regionNames), those the rest of the text gives, and how many names the
	// Cache had learned for the file. nil: not known.
	body, rest map[string]bool
	learned    int
}

// regionNames gives add the names that the memoized main file m gives from its bytes
// from:to to a closure over it (closureOf): its identifiers, and for each renamed
// invocation among them, those of its expansion's definition, instead of its synthetic
// name.
func regionNames(m memoized, from, to int, add func(string)) {
	text := string(m.src[from:to])
	scanIdents(text, func(s, e int) {
		n := text[s:e]
		def, synthetic := m.expansions[n]
		if !synthetic {
			add(n)
			return
		}
		scanIdents(def, func(s, e int) {
			if d := def[s:e]; m.expansions[d] == "" {
				add(d)
			}
		})
	})
}

// verifyWhole, when set (tests), is given each closure wholeFor found from the last
// edit's and the one found from the whole text.
var verifyWhole func(kept, whole *wholeClosure)

// wholeFor is the whole text's closure for the compile of the edited body (in), whose
// own memoized text is one. When the last edit was in the same body (in.lastWhole), the
// rest of the text gives the closure what it gave then, so the closure is over those
// names and what the body gives now (found in one, the body's text being the same
// there); when that is the set of names the last one closed over, it is the last one.
// Otherwise the whole text is memoized and closed over on the other core.
func (c *Cache) wholeFor(u *unit, p *preamble, in *reuseInputs, end int, one memoized) *wholeClosure {
	last := in.lastWhole
	if last == nil || last.p != p || last.err != nil || last.rest == nil || one.expansions == nil {
		return c.wholeClosure(u, p, in, end)
	}
	c.mu.Lock()
	learned := slices.Collect(maps.Keys(c.learned[u.path]))
	c.mu.Unlock()
	body := map[string]bool{}
	regionNames(one, in.body.start, in.body.end, func(n string) { body[n] = true })
	w := &wholeClosure{p: p, done: make(chan struct{}), body: body, rest: last.rest, learned: len(learned)}
	same := len(learned) == last.learned // learned names are only added
	for n := range body {
		same = same && (last.body[n] || last.rest[n])
	}
	for n := range last.body {
		same = same && (body[n] || last.rest[n])
	}
	if same {
		w.picked, w.reached = last.picked, last.reached
		close(w.done)
	} else {
		names := slices.Collect(maps.Keys(last.rest))
		for n := range body {
			if !last.rest[n] {
				names = append(names, n)
			}
		}
		names = append(names, learned...)
		go func() {
			defer close(w.done)
			defer func() {
				if r := recover(); r != nil { // off the edit's goroutine: a bug must not end the server
					w.err = fmt.Errorf("internal error finding the declarations: %v", r)
				}
			}()
			w.picked, w.reached = p.closure(names)
		}()
	}
	if verifyWhole != nil {
		verifyWhole(w.wait(), c.wholeClosure(u, p, in, end).wait())
	}
	return w
}

func (w *wholeClosure) wait() *wholeClosure {
	<-w.done
	return w
}

// wholeClosure starts finding the whole text's closure, that of in. It has a cc.Config
// of its own: expanding macro invocations runs cc's preprocessor, and a Config is not
// shared between concurrent runs.
func (c *Cache) wholeClosure(u *unit, p *preamble, in *reuseInputs, end int) *wholeClosure {
	text := in.whole
	w := &wholeClosure{p: p, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		defer func() {
			if r := recover(); r != nil { // off the edit's goroutine: a bug must not end the server
				w.err = fmt.Errorf("internal error finding the declarations: %v", r)
			}
		}()
		var pragmas pragmaRanges
		cfg, err := newConfig(u.flags, u.fsys, pragmas.handle)
		if err != nil {
			w.err = err
			return
		}
		whole := append([]byte(nil), text...)
		blank(whole, 0, end)
		var names []string
		scanIdents(string(whole[end:]), func(s, e int) { names = append(names, string(whole[end+s:end+e])) })
		pr := c.closureOf(cfg, u.path, p, mainSource(whole), names, false, false)
		w.picked, w.reached = pr.picked, pr.reached
		if m := pr.m; m.expansions != nil && in.body.end <= len(whole) {
			w.body, w.rest, w.learned = map[string]bool{}, map[string]bool{}, pr.learned
			add := func(n string) { w.rest[n] = true }
			regionNames(m, 0, in.body.start, add)
			regionNames(m, in.body.end, len(m.src), add)
			regionNames(m, in.body.start, in.body.end, func(n string) { w.body[n] = true })
		}
	}()
	return w
}

// definesRecord reports whether a header of the preamble defines a record or enum named n.
func (p *preamble) definesRecord(n string) bool {
	for _, i := range p.byName[n] {
		if p.decls[i].hasBody() {
			return true
		}
	}
	return false
}

// hasBody: the declaration defines a record or enum (or a function).
func (d *ppDecl) hasBody() bool { return strings.IndexByte(d.text, '{') >= 0 }

// closureOf is what a compile of src (the main file as cc scans it, its preamble blanked)
// needs of the preamble: the declarations and macros names reach, with the names of the
// learned, and with the invocations memoized (expand.go), what the renamed text and the
// expansions reach instead, since cc sees those and not the macros they came from.
// compiled: cc will be given src (else only the names are wanted); slim: the records are
// cut down to what the names can reach (slim.go).
func (c *Cache) closureOf(cfg *cc.Config, path string, p *preamble, src []byte, names []string, compiled, slim bool) (pr prunedText) {
	c.mu.Lock()
	learned := slices.Collect(maps.Keys(c.learned[path]))
	c.mu.Unlock()
	pr.learned = len(learned)
	all := append(names, learned...)
	// Memoizing needs only the macros the names reach: declaration texts name none.
	reach := p.macroReach(all)
	pr.m = p.memoizedSource(cfg, src, p.renderMacros(reach), reach, compiled)
	var cut map[int]*slimmed
	// A compile of one function tells tags from ordinary names (tags.go).
	var bare map[string]bool
	if slim {
		bare = p.bareNames(pr.m, learned)
	}
	if m := pr.m; m.defs == "" {
		pr.picked, pr.reached = p.closure(all)
		pr.macros = p.renderMacros(pr.reached)
		if slim {
			if p.reachesTagMaker(pr.reached) {
				bare = nil
			}
			pr.picked, _, cut, pr.dropped = p.slimClosure(all, true, bare)
		}
	} else {
		seen := map[string]bool{}
		list := names[:0:0]
		add := func(n string) {
			if !seen[n] {
				seen[n] = true
				list = append(list, n)
			}
		}
		for _, n := range learned {
			add(n)
		}
		scanIdents(string(m.src), func(s, e int) { add(string(m.src[s:e])) })
		scanIdents(m.defs, func(s, e int) { add(m.defs[s:e]) })
		pr.picked, pr.reached, cut, pr.dropped = p.slimClosure(list, slim, bare)
		if len(pr.dropped) > 0 && p.reachesTagMaker(pr.reached) {
			pr.picked, pr.reached, cut, pr.dropped = p.slimClosure(list, slim, nil)
		}
		pr.macros = p.renderMacros(pr.reached)
	}
	if compiled {
		pr.decls = p.renderDecls(pr.picked, cut)
	}
	for i, s := range cut {
		if pr.cut == nil {
			pr.cut, pr.cutMembers = map[string]*slimPlan{}, map[string]bool{}
		}
		pl := p.plan(i)
		if pl == nil {
			pl = cutEnum
		}
		pr.cut[p.decls[i].declares[0]] = pl
		for _, n := range s.cut {
			pr.cutMembers[n] = true
		}
	}
	return pr
}

// prunedText is closureOf's answer.
type prunedText struct {
	picked        []int           // the declarations
	reached       map[string]bool // every name reached
	learned       int             // how many names the Cache had learned for the file
	decls, macros string          // their texts (decls only when compiled)
	m             memoized
	cut           map[string]*slimPlan // the records cut down (slim.go): their plans, by tag; enums cut down (enums.go): cutEnum
	cutMembers    map[string]bool      // the names of the members they lost
	dropped       map[string]bool      // the bare names whose tags were left out (tags.go)
}

// summaries are what a compile leaves for reusing it (reuse.go).
type summaries struct {
	funcs   []*funcSummary
	defined map[string]bool // the records (and enums) it was compiled with: definedRecords
	items   *mainItems      // the main file's items, when it was compiled whole and the compile of one function may leave some out (items.go)
}

// definedRecords names what the record and enum definitions among picked declarations
// define. A local type (the BTF of a relocation's root) reaches records by pointer,
// complete or not depending on whether their definition was picked; everything else it
// reaches is picked whenever it is reached.
func (p *preamble) definedRecords(picked []int) map[string]bool {
	out := map[string]bool{}
	for _, i := range picked {
		if d := p.decls[i]; d.hasBody() {
			for _, n := range d.declares {
				out[n] = true
			}
		}
	}
	return out
}

// errNoReuse: the compile of one function could not be completed the way reuse needs.
var errNoReuse = errors.New("no reuse")

var (
	undefinedName = regexp.MustCompile(`undefined(?: type name)?: ([A-Za-z_][A-Za-z0-9_]*)`)
	recordName_   = regexp.MustCompile(`\b(?:struct|union|enum) ([A-Za-z_][A-Za-z0-9_]*)`)
)

// missingNames reads diagnostics for names the preamble declares but the pruned source
// left out: "undefined: X", members of an incomplete "struct X", and the like.
func (p *preamble) missingNames(diags []Diagnostic, have map[string]bool) []string {
	var out []string
	add := func(n string) {
		if _, declared := p.byName[n]; declared && !have[n] {
			have[n] = true
			out = append(out, n)
		}
	}
	for _, d := range diags {
		for _, m := range undefinedName.FindAllStringSubmatch(d.Message, -1) {
			add(m[1])
		}
		if strings.Contains(d.Message, "no member named") || strings.Contains(d.Message, "incomplete") {
			for _, m := range recordName_.FindAllStringSubmatch(d.Message, -1) {
				add(m[1])
			}
		}
	}
	// A name may be declared but its declaration was already included: then the error is
	// the user's, not the pruning's.
	return out
}

// pilingGarbage runs a preamble build with the collector left to the memory limit, when
// the process has one (corels serve sets it): the build's garbage piles up to the limit
// instead of being collected at GOGC's pace, and the collection right after the build
// frees it.
//
// Why: the memory a Go heap first grows into costs a page fault per 4 KB page, ~10 µs
// each on a virtual machine. Collected at GOGC's pace, the build kept the heap near 100 MB;
// the edits that followed, at that same pace, grew it to ~140 MB over their first few
// dozen, and each edit that grew it paid 1,000–3,000 faults (+15–40 ms: the slowest edits
// after opening a file). Piled up, the build maps that memory once, as part of opening
// the file, and the edits reuse it. Without a limit, pausing the collector could take
// the build's whole garbage (hundreds of MB), so the pace is left as it is.
func pilingGarbage(build func()) {
	if debug.SetMemoryLimit(-1) == math.MaxInt64 {
		build()
		return
	}
	gcPause.Lock()
	if gcPause.n == 0 {
		gcPause.percent = debug.SetGCPercent(-1)
	}
	gcPause.n++
	gcPause.Unlock()
	defer func() {
		gcPause.Lock()
		if gcPause.n--; gcPause.n == 0 {
			debug.SetGCPercent(gcPause.percent)
		}
		gcPause.Unlock()
	}()
	build()
}

// SetGCPercent is debug.SetGCPercent for a process whose preamble builds pause the
// collector (pilingGarbage): while one runs, percent is what the last to finish restores.
// It returns the percentage in force before, as debug.SetGCPercent does.
func SetGCPercent(percent int) int {
	gcPause.Lock()
	defer gcPause.Unlock()
	if gcPause.n > 0 {
		old := gcPause.percent
		gcPause.percent = percent
		return old
	}
	return debug.SetGCPercent(percent)
}

// gcPause counts the builds running with the collector paused: the last one to finish
// restores the percentage the first one found (two caches can build at once).
var gcPause struct {
	sync.Mutex
	n       int
	percent int
}
