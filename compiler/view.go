package compiler

import "path/filepath"

// ForFile is the part of a translation unit's result that lies in one of its files: the
// relocations and externs written in path, every diagnostic, and the unit's Defined
// names. A header is analysed this way, through a file that includes it, as clang
// compiles it. The facts of the main file's functions (guards, probe and direct reads) are
// not carried over: they are positioned in the main file.
func (r *Result) ForFile(path string) *Result {
	path = filepath.Clean(path)
	v := &Result{Path: path, Flags: r.Flags, Diagnostics: r.Diagnostics, FallbacksUsed: r.FallbacksUsed}
	v.Facts.Defined = r.Facts.Defined
	for _, rel := range r.Relocations {
		if filepath.Clean(rel.Range.Start.File) == path {
			v.Relocations = append(v.Relocations, rel)
		}
	}
	for _, e := range r.Externs {
		if filepath.Clean(e.Range.Start.File) == path {
			v.Externs = append(v.Externs, e)
		}
	}
	return v
}
