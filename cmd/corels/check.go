package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/corels/corels/analysis"
	"github.com/corels/corels/btf"
	"github.com/corels/corels/compiler"
)

const checkUsage = `corels check [--kernel PATH|default]... [--format text|json|sarif] [--relocs] [--fix] FILE... [-- CLANG_FLAGS...]
      Report what breaks CO-RE in each file against the target kernels (default: this
      machine's /sys/kernel/btf/vmlinux, else the embedded Debian 6.1 kernel).
      --kernel PATH  a kernel's BTF (raw, ELF, .gz/.xz, .tar.xz archive, directory), or
                     "default" for the embedded Debian 6.1 kernel; repeatable
      --format       text (file:line:col: severity: message [code]), json, or sarif (2.1.0)
      --relocs       also list every relocation (core-reloc hints)
      --fix          apply the first quick fix of each finding to the files, then report
`

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// maxFixRounds bounds --fix: each round applies the fixes that do not conflict, then the
// file is compiled and analysed again.
const maxFixRounds = 8

func runCheck(args []string, stdout, stderr io.Writer) int {
	own, clangFlags, hasFlags := splitDashDash(args)
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, "Usage:\n  "+checkUsage) }
	var kernelPaths stringList
	fs.Var(&kernelPaths, "kernel", `target kernel BTF, or "default" for the embedded kernel (repeatable)`)
	format := fs.String("format", "text", "output format: text, json or sarif")
	relocs := fs.Bool("relocs", false, "also list every CO-RE relocation")
	fix := fs.Bool("fix", false, "apply the first quick fix of each finding in place")
	if err := fs.Parse(own); err != nil {
		return 2
	}
	switch *format {
	case "text", "json", "sarif":
	default:
		fmt.Fprintf(stderr, "corels check: unknown format %q (text, json or sarif)\n", *format)
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "corels check: no input files")
		return 2
	}
	var flags *compiler.Flags
	if hasFlags {
		var err error
		if flags, err = compiler.ParseFlags(clangFlags, ""); err != nil {
			fmt.Fprintf(stderr, "corels check: %v\n", err)
			return 2
		}
	}
	kernels, err := loadKernels(kernelPaths)
	if err != nil {
		fmt.Fprintf(stderr, "corels check: %v\n", err)
		if len(kernels) == 0 {
			return 2
		}
	}
	opts := analysis.Options{Kernels: kernels}

	var results []fileResult
	for _, file := range fs.Args() {
		src, err := os.ReadFile(file)
		if err != nil {
			fmt.Fprintf(stderr, "corels check: %v\n", err)
			return 2
		}
		rep, src, err := checkFile(file, src, flags, opts)
		if err != nil {
			fmt.Fprintf(stderr, "corels check: %s: %v\n", file, err)
			return 2
		}
		if *fix {
			fixed, n, err := fixFile(file, src, rep, flags, opts)
			if err != nil {
				fmt.Fprintf(stderr, "corels check: %s: %v\n", file, err)
				return 2
			}
			if n > 0 {
				fmt.Fprintf(stderr, "%s: applied %d fixes\n", file, n)
			}
			rep, src = fixed.rep, fixed.src
		}
		results = append(results, fileResult{file: file, src: src, rep: rep})
	}

	status := 0
	var all []findingOut
	for _, fr := range results {
		for _, f := range fr.rep.Findings {
			if f.Code == analysis.CodeCoreReloc && !*relocs {
				continue
			}
			if f.Severity == analysis.Error {
				status = 1
			}
			all = append(all, toOut(fr.file, fr.src, f))
		}
	}
	switch *format {
	case "json":
		if all == nil {
			all = []findingOut{}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(all)
	case "sarif":
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		enc.Encode(toSARIF(all, kernels))
	default:
		for _, f := range all {
			fmt.Fprintf(stdout, "%s:%d:%d: %s: %s [%s]\n", f.File, f.Line, f.Col, f.Severity, f.Message, f.Code)
		}
	}
	return status
}

type fileResult struct {
	file string
	src  []byte
	rep  *analysis.Report
}

// loadKernels loads the --kernel arguments (paths, or "default" for the embedded kernel),
// or, with none, the default kernels.
func loadKernels(paths []string) ([]*btf.Kernel, error) {
	if len(paths) == 0 {
		return btf.DefaultKernels()
	}
	ks, errs := btf.SharedCache().LoadKernelArgs(paths)
	if len(errs) > 0 {
		return ks, errors.Join(errs...)
	}
	if len(ks) == 0 {
		return nil, fmt.Errorf("no kernel BTF in %s", strings.Join(paths, ", "))
	}
	return ks, nil
}

// checkFile compiles with compiler.Compile, the reference the server's incremental cache
// is held to: a difference between the two is a bug that TestServeCheckParity shows.
func checkFile(file string, src []byte, flags *compiler.Flags, opts analysis.Options) (*analysis.Report, []byte, error) {
	res, err := compiler.Compile(compiler.Input{Path: file, Source: src, Flags: flags})
	if err != nil {
		return nil, nil, err
	}
	return analysis.Analyze(res, src, opts), src, nil
}

// fixFile applies the first fix of each finding, round after round, writing the file.
func fixFile(file string, src []byte, rep *analysis.Report, flags *compiler.Flags, opts analysis.Options) (fileResult, int, error) {
	applied := 0
	for round := 0; round < maxFixRounds; round++ {
		var chosen [][]analysis.Edit
		for _, f := range rep.Findings {
			if len(f.Fixes) == 0 || len(f.Fixes[0].Edits) == 0 {
				continue
			}
			edits := f.Fixes[0].Edits
			conflict := false
			for _, c := range chosen {
				if analysis.Conflicts(c, edits) {
					conflict = true
					break
				}
			}
			if !conflict {
				chosen = append(chosen, edits)
			}
		}
		if len(chosen) == 0 {
			break
		}
		var edits []analysis.Edit
		for _, c := range chosen {
			edits = append(edits, c...)
		}
		out, err := analysis.ApplyEdits(src, edits)
		if err != nil {
			return fileResult{}, applied, err
		}
		if err := writeFile(file, out); err != nil {
			return fileResult{}, applied, err
		}
		applied += len(chosen)
		src = out
		if rep, _, err = checkFile(file, src, flags, opts); err != nil {
			return fileResult{}, applied, err
		}
	}
	return fileResult{file: file, src: src, rep: rep}, applied, nil
}

// writeFile replaces a file's contents, keeping its mode.
func writeFile(file string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(file); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".corels-fix-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// findingOut is the stable JSON shape of a finding (1-based lines, byte columns).
type findingOut struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Col      int      `json:"col"`
	EndLine  int      `json:"end_line"`
	EndCol   int      `json:"end_col"`
	Severity string   `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Fixes    []fixOut `json:"fixes"`

	startChar, endChar int // code point columns, for SARIF
	src                []byte
}

type fixOut struct {
	Title string    `json:"title"`
	Edits []editOut `json:"edits"`
}

type editOut struct {
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	EndLine int    `json:"end_line"`
	EndCol  int    `json:"end_col"`
	NewText string `json:"new_text"`

	startChar, endChar int
}

func toOut(file string, src []byte, f analysis.Finding) findingOut {
	o := findingOut{
		File: file, Line: f.Range.Start.Line, Col: f.Range.Start.Col,
		EndLine: f.Range.End.Line, EndCol: f.Range.End.Col,
		Severity: f.Severity.String(), Code: f.Code, Message: f.Message, Fixes: []fixOut{},
		startChar: charCol(src, f.Range.Start.Offset), endChar: charCol(src, f.Range.End.Offset), src: src,
	}
	for _, fx := range f.Fixes {
		fo := fixOut{Title: fx.Title}
		for _, e := range fx.Edits {
			fo.Edits = append(fo.Edits, editOut{
				Line: e.Range.Start.Line, Col: e.Range.Start.Col, EndLine: e.Range.End.Line, EndCol: e.Range.End.Col,
				NewText: e.NewText, startChar: charCol(src, e.Range.Start.Offset), endChar: charCol(src, e.Range.End.Offset),
			})
		}
		o.Fixes = append(o.Fixes, fo)
	}
	return o
}

// charCol is the 1-based column of a byte offset in code points.
func charCol(src []byte, off int) int {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	ls := off
	for ls > 0 && src[ls-1] != '\n' {
		ls--
	}
	return utf8.RuneCount(src[ls:off]) + 1
}

// SARIF 2.1.0, the subset code scanning reads.
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool       sarifTool     `json:"tool"`
	ColumnKind string        `json:"columnKind"`
	Results    []sarifResult `json:"results"`
	Properties any           `json:"properties,omitempty"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	ShortDescription     sarifText      `json:"shortDescription"`
	DefaultConfiguration map[string]any `json:"defaultConfiguration"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations"`
	Fixes     []sarifFix      `json:"fixes,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn"`
	EndLine     int `json:"endLine"`
	EndColumn   int `json:"endColumn"`
}

type sarifFix struct {
	Description     sarifText             `json:"description"`
	ArtifactChanges []sarifArtifactChange `json:"artifactChanges"`
}

type sarifArtifactChange struct {
	ArtifactLocation sarifArtifact      `json:"artifactLocation"`
	Replacements     []sarifReplacement `json:"replacements"`
}

type sarifReplacement struct {
	DeletedRegion   sarifRegion `json:"deletedRegion"`
	InsertedContent sarifText   `json:"insertedContent"`
}

// ruleDescriptions document the codes in SARIF.
var ruleDescriptions = map[string]string{
	analysis.CodeCoreReloc:             "A CO-RE relocation the loader patches for each kernel.",
	analysis.CodeProbeReadNotReloc:     "A probe read whose source address uses offsets fixed at compile time.",
	analysis.CodeCoreUnresolved:        "A CO-RE relocation that does not resolve on some target kernels.",
	analysis.CodeFieldMissingUnguarded: "A field missing on some target kernels, read without a bpf_core_field_exists() guard.",
	analysis.CodeDirectKernelRead:      "A direct load through a kernel pointer in a program type without BTF.",
	analysis.CodeParseError:            "The C front end could not compile the file.",
}

var ruleLevels = map[string]string{
	analysis.CodeCoreReloc:             "note",
	analysis.CodeProbeReadNotReloc:     "warning",
	analysis.CodeCoreUnresolved:        "error",
	analysis.CodeFieldMissingUnguarded: "warning",
	analysis.CodeDirectKernelRead:      "warning",
	analysis.CodeParseError:            "error",
}

func sarifLevel(sev string) string {
	switch sev {
	case "error":
		return "error"
	case "warning":
		return "warning"
	}
	return "note"
}

func toSARIF(all []findingOut, kernels []*btf.Kernel) sarifLog {
	codes := make([]string, 0, len(ruleDescriptions))
	for c := range ruleDescriptions {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	index := map[string]int{}
	driver := sarifDriver{Name: "corels", InformationURI: "https://github.com/corels/corels"}
	for i, c := range codes {
		index[c] = i
		driver.Rules = append(driver.Rules, sarifRule{
			ID: c, ShortDescription: sarifText{ruleDescriptions[c]},
			DefaultConfiguration: map[string]any{"level": ruleLevels[c]},
		})
	}
	run := sarifRun{Tool: sarifTool{driver}, ColumnKind: "unicodeCodePoints", Results: []sarifResult{}}
	var names []string
	for _, k := range kernels {
		names = append(names, k.Name)
	}
	run.Properties = map[string]any{"kernels": names}
	for _, f := range all {
		uri := filepath.ToSlash(f.File)
		res := sarifResult{
			RuleID: f.Code, RuleIndex: index[f.Code], Level: sarifLevel(f.Severity),
			Message: sarifText{f.Message},
			Locations: []sarifLocation{{PhysicalLocation: sarifPhysical{
				ArtifactLocation: sarifArtifact{uri},
				Region:           sarifRegion{f.Line, f.startChar, f.EndLine, f.endChar},
			}}},
		}
		for _, fx := range f.Fixes {
			ch := sarifArtifactChange{ArtifactLocation: sarifArtifact{uri}}
			for _, e := range fx.Edits {
				ch.Replacements = append(ch.Replacements, sarifReplacement{
					DeletedRegion:   sarifRegion{e.Line, e.startChar, e.EndLine, e.endChar},
					InsertedContent: sarifText{e.NewText},
				})
			}
			res.Fixes = append(res.Fixes, sarifFix{Description: sarifText{fx.Title}, ArtifactChanges: []sarifArtifactChange{ch}})
		}
		run.Results = append(run.Results, res)
	}
	return sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{run}}
}
