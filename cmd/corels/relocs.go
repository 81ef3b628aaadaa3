package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/corels/corels/compiler"
)

// splitDashDash separates corels' own arguments from the clang flags after "--".
func splitDashDash(args []string) (own, clang []string, hasClang bool) {
	for i, a := range args {
		if a == "--" {
			return args[:i], args[i+1:], true
		}
	}
	return args, nil, false
}

// relocJSON is the stable JSON shape of one relocation (1-based lines and columns).
type relocJSON struct {
	File    string   `json:"file"`
	Line    int      `json:"line"`
	Col     int      `json:"col"`
	EndLine int      `json:"end_line"`
	EndCol  int      `json:"end_col"`
	Func    string   `json:"func"`
	Section string   `json:"section"`
	Kind    string   `json:"kind"`
	Type    string   `json:"type"`
	Access  string   `json:"access"`
	Path    []string `json:"path,omitempty"`
	Offset  int64    `json:"offset"`
	Size    int64    `json:"size"`
	BitOff  int64    `json:"bit_offset,omitempty"`
	BitSize int64    `json:"bit_size,omitempty"`
}

type externJSON struct {
	File string `json:"file"`
	Line int    `json:"line"`
	Col  int    `json:"col"`
	Name string `json:"name"`
	Kind string `json:"kind"`
	Type string `json:"type"`
	Weak bool   `json:"weak,omitempty"`
}

func runRelocs(args []string, stdout, stderr io.Writer) int {
	own, clangFlags, hasFlags := splitDashDash(args)
	fs := flag.NewFlagSet("relocs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "output format: text or json")
	externs := fs.Bool("externs", false, "also list __kconfig and __ksym externs")
	if err := fs.Parse(own); err != nil {
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "corels relocs: unknown format %q (text or json)\n", *format)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "corels relocs: no input files")
		return 2
	}
	var flags *compiler.Flags
	if hasFlags {
		var err error
		if flags, err = compiler.ParseFlags(clangFlags, ""); err != nil {
			fmt.Fprintf(stderr, "corels relocs: %v\n", err)
			return 2
		}
	}
	status := 0
	var all []relocJSON
	var allExterns []externJSON
	for _, file := range fs.Args() {
		res, err := compiler.Compile(compiler.Input{Path: file, Flags: flags})
		if err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", file, err)
			return 2
		}
		for _, d := range res.Diagnostics {
			fmt.Fprintf(stderr, "%s:%d:%d: %s: %s\n", d.Range.Start.File, d.Range.Start.Line, d.Range.Start.Col, d.Severity, d.Message)
		}
		if res.HasErrors() {
			// The relocations of the parts that compile are still listed (the compiler
			// recovers at the next top-level item, as clang does).
			status = 1
		}
		for _, r := range res.Relocations {
			all = append(all, relocJSON{
				File: shownPath(file, res.Path, r.Range.Start.File), Line: r.Range.Start.Line, Col: r.Range.Start.Col,
				EndLine: r.Range.End.Line, EndCol: r.Range.End.Col,
				Func: r.Func, Section: r.Section, Kind: r.Kind.String(), Type: r.Type, Access: r.Access,
				Path: r.Path, Offset: r.Layout.Offset, Size: r.Layout.Size,
				BitOff: bitOffset(r.Layout), BitSize: r.Layout.BitSize,
			})
		}
		if *externs {
			for _, e := range res.Externs {
				allExterns = append(allExterns, externJSON{File: file, Line: e.Range.Start.Line, Col: e.Range.Start.Col, Name: e.Name, Kind: e.Kind, Type: e.Type, Weak: e.Weak})
			}
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if all == nil {
			all = []relocJSON{}
		}
		if *externs {
			enc.Encode(struct {
				Relocations []relocJSON  `json:"relocations"`
				Externs     []externJSON `json:"externs"`
			}{all, allExterns})
		} else {
			enc.Encode(all)
		}
		return status
	}
	for _, r := range all {
		where := r.Func
		if r.Section != "" {
			where += " [" + r.Section + "]"
		}
		layout := fmt.Sprintf("offset %d, size %d", r.Offset, r.Size)
		if r.BitSize > 0 {
			layout = fmt.Sprintf("bit offset %d, %d bits", r.Offset*8+r.BitOff, r.BitSize)
		}
		path := ""
		if len(r.Path) > 0 {
			path = " → " + strings.Join(r.Path, ".")
		}
		fmt.Fprintf(stdout, "%s:%d:%d: %s %s %s%s (%s) in %s\n", r.File, r.Line, r.Col, r.Kind, orAnon(r.Type), r.Access, path, layout, where)
	}
	for _, e := range allExterns {
		fmt.Fprintf(stdout, "%s:%d:%d: extern %s %s %s\n", e.File, e.Line, e.Col, e.Kind, e.Type, e.Name)
	}
	return status
}

func bitOffset(l compiler.Layout) int64 {
	if l.BitSize == 0 {
		return 0
	}
	return l.BitOffset - l.Offset*8
}

func orAnon(name string) string {
	if name == "" {
		return "<anon>"
	}
	return name
}

// shownPath is how a relocation's file is printed: the main file as the user named it, a
// header by its path relative to the working directory when it lies below it.
func shownPath(arg, mainPath, file string) string {
	if file == "" || file == mainPath {
		return arg
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(wd, file); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
	}
	return file
}
