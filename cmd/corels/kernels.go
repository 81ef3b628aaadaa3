package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
)

const kernelsUsage = `corels kernels [--kernel PATH|default]... [--format text|json]
      List the kernels a configuration resolves to, as check and the editors' "kernels"
      setting resolve it: name, release, source (file, sysfs, embedded), number of BTF
      types, path. Without --kernel, check's default.
`

// kernelOut is the JSON shape of one kernel.
type kernelOut struct {
	Name    string `json:"name"`
	Release string `json:"release"` // "" when unknown
	Source  string `json:"source"`  // file, sysfs or embedded
	Types   int    `json:"types"`
	Path    string `json:"path"`
	SHA256  string `json:"sha256"` // of the file as stored
}

func runKernels(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kernels", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "Usage:\n  "+kernelsUsage) }
	var kernelPaths stringList
	fs.Var(&kernelPaths, "kernel", `target kernel BTF, or "default" for the embedded kernel (repeatable)`)
	format := fs.String("format", "text", "output format: text or json")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *format != "text" && *format != "json" {
		fmt.Fprintf(stderr, "corels kernels: unknown format %q (text or json)\n", *format)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "corels kernels: unexpected argument %q (kernels are named with --kernel)\n", fs.Arg(0))
		return 2
	}
	kernels, err := loadKernels(kernelPaths)
	status := 0
	if err != nil {
		// What did load is still listed: the listing is how a user finds the entry
		// that did not.
		fmt.Fprintf(stderr, "corels kernels: %v\n", err)
		status = 2
	}
	out := make([]kernelOut, 0, len(kernels))
	for _, k := range kernels {
		out = append(out, kernelOut{Name: k.Name, Release: k.Release, Source: k.Source(), Types: k.NumTypes, Path: k.Path, SHA256: k.Hash})
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(out)
		return status
	}
	w := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tRELEASE\tSOURCE\tTYPES\tPATH")
	for _, k := range out {
		rel := k.Release
		if rel == "" {
			rel = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\n", k.Name, rel, k.Source, k.Types, k.Path)
	}
	w.Flush()
	return status
}
