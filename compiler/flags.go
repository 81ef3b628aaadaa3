package compiler

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// Macro is a -D or -U from the command line.
type Macro struct {
	Name, Value string
	Undef       bool
}

// Flags is what corels takes from a clang command line; other flags are accepted and ignored.
type Flags struct {
	IncludeDirs []string // -I, -iquote: searched for "..." and <...>
	SysDirs     []string // -isystem, -idirafter
	Macros      []Macro  // -D, -U in order (-ffreestanding: __STDC_HOSTED__ redefined as 0)
	Includes    []string // -include FILE, before the main file
	Target      string   // -target / --target
	Std         string   // -std
	Source      string   // where the flags came from: "command line", a compile_commands.json, ...

	// -nostdinc: no system directories and no builtin headers; -nostdlibinc: no system
	// directories; -nobuiltininc: no builtin headers (clang's resource directory).
	NoStdInc, NoStdlibInc, NoBuiltinInc bool
}

// ParseFlags reads clang-style flags. Relative directories are resolved against dir.
func ParseFlags(args []string, dir string) (*Flags, error) {
	f := &Flags{Source: "command line"}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || dir == "" {
			return p
		}
		return filepath.Join(dir, p)
	}
	// value returns the value of a flag given as "-Xval", "-X val", "--flag=val" or "-flag val".
	for i := 0; i < len(args); i++ {
		a := args[i]
		next := func(flag string) (string, error) {
			if len(a) > len(flag) {
				return strings.TrimPrefix(a[len(flag):], "="), nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", flag)
			}
			i++
			return args[i], nil
		}
		var err error
		var v string
		switch {
		case a == "-isystem" || strings.HasPrefix(a, "-isystem"):
			if v, err = next("-isystem"); err == nil {
				f.SysDirs = append(f.SysDirs, abs(v))
			}
		case a == "-idirafter" || strings.HasPrefix(a, "-idirafter"):
			if v, err = next("-idirafter"); err == nil {
				f.SysDirs = append(f.SysDirs, abs(v))
			}
		case a == "-iquote" || strings.HasPrefix(a, "-iquote"):
			if v, err = next("-iquote"); err == nil {
				f.IncludeDirs = append(f.IncludeDirs, abs(v))
			}
		case strings.HasPrefix(a, "-I"):
			if v, err = next("-I"); err == nil {
				f.IncludeDirs = append(f.IncludeDirs, abs(v))
			}
		case a == "-include" || a == "--include":
			if v, err = next(a); err == nil {
				f.Includes = append(f.Includes, abs(v))
			}
		case strings.HasPrefix(a, "-D"):
			if v, err = next("-D"); err == nil {
				name, val, ok := strings.Cut(v, "=")
				if !ok {
					val = "1"
				}
				f.Macros = append(f.Macros, Macro{Name: name, Value: val})
			}
		case strings.HasPrefix(a, "-U"):
			if v, err = next("-U"); err == nil {
				f.Macros = append(f.Macros, Macro{Name: v, Undef: true})
			}
		case a == "-target" || strings.HasPrefix(a, "--target"):
			if v, err = next(map[bool]string{true: "-target", false: "--target"}[a == "-target"]); err == nil {
				f.Target = v
			}
		case a == "-nostdinc" || a == "--no-standard-includes":
			f.NoStdInc = true
		case a == "-nostdlibinc":
			f.NoStdlibInc = true
		case a == "-nobuiltininc":
			f.NoBuiltinInc = true
		case a == "-ffreestanding":
			f.Macros = append(f.Macros, Macro{Name: "__STDC_HOSTED__", Undef: true}, Macro{Name: "__STDC_HOSTED__", Value: "0"})
		case a == "-fhosted":
			f.Macros = append(f.Macros, Macro{Name: "__STDC_HOSTED__", Undef: true}, Macro{Name: "__STDC_HOSTED__", Value: "1"})
		case strings.HasPrefix(a, "-std="):
			f.Std = strings.TrimPrefix(a, "-std=")
		case a == "-o" || a == "-MF" || a == "-MT" || a == "-MQ" || a == "-x" || a == "-arch" || a == "-mcpu":
			i++ // flags whose value we skip
		}
		if err != nil {
			return nil, err
		}
	}
	if f.Target != "" && !strings.HasPrefix(f.Target, "bpf") {
		return nil, fmt.Errorf("target %q is not a BPF target (want bpf, bpfel or bpfeb)", f.Target)
	}
	return f, nil
}

// FindFlags looks for the flags of file the way clangd does: the nearest
// compile_commands.json upward from the file (the entry for the file, else one in the same
// directory, else the first), else the nearest compile_flags.txt. It returns nil, nil when
// there is neither.
func FindFlags(file string) (*Flags, error) {
	file, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		if f, err := flagsFromCompileCommands(filepath.Join(dir, "compile_commands.json"), file); f != nil || err != nil {
			return f, err
		}
		if f, err := flagsFromCompileFlagsTxt(filepath.Join(dir, "compile_flags.txt")); f != nil || err != nil {
			return f, err
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil, nil
		}
	}
}

type compileCommand struct {
	Directory string   `json:"directory"`
	File      string   `json:"file"`
	Command   string   `json:"command"`
	Arguments []string `json:"arguments"`
}

func flagsFromCompileCommands(path, file string) (*Flags, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cmds []compileCommand
	if err := json.Unmarshal(data, &cmds); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if len(cmds) == 0 {
		return nil, nil
	}
	best := -1
	for i, c := range cmds {
		p := c.path()
		if p == file {
			best = i
			break
		}
		if best < 0 && filepath.Dir(p) == filepath.Dir(file) {
			best = i
		}
	}
	if best < 0 {
		best = 0
	}
	c := cmds[best]
	args := c.Arguments
	if len(args) == 0 {
		if args, err = splitCommand(c.Command); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	if len(args) > 0 {
		args = args[1:] // the compiler
	}
	f, err := ParseFlags(args, c.Directory)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	f.Source = path
	return f, nil
}

func flagsFromCompileFlagsTxt(path string) (*Flags, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var args []string
	for _, l := range strings.Split(string(data), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			args = append(args, l)
		}
	}
	f, err := ParseFlags(args, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	f.Source = path
	return f, nil
}

// splitCommand splits a compile_commands.json "command" into arguments with shell quoting
// rules. Variables expand to nothing and command or process substitution is an error: a
// build database comes from the workspace, and nothing from it is ever run.
func splitCommand(s string) (args []string, err error) {
	defer func() {
		if r := recover(); r != nil { // a bug in the shell library must not take us down
			args, err = nil, fmt.Errorf("cannot split the command: %v", r)
		}
	}()
	var words []*syntax.Word
	for w, err := range syntax.NewParser().WordsSeq(strings.NewReader(s)) {
		if err != nil {
			return nil, err
		}
		words = append(words, w)
	}
	cfg := &expand.Config{
		Env: expand.FuncEnviron(func(string) string { return "" }),
		CmdSubst: func(io.Writer, *syntax.CmdSubst) error {
			return errors.New("command substitution is not run")
		},
		ProcSubst: func(*syntax.ProcSubst) (string, error) {
			return "", errors.New("process substitution is not run")
		},
	}
	return expand.Fields(cfg, words...)
}
