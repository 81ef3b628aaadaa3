package compiler

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// DatabaseFiles lists the translation units of the nearest compile_commands.json upward
// from file (absolute paths, in the database's order), and the database's path; nil when
// there is none or it cannot be read.
func DatabaseFiles(file string) ([]string, string) {
	file, err := filepath.Abs(file)
	if err != nil {
		return nil, ""
	}
	for dir := filepath.Dir(file); ; dir = filepath.Dir(dir) {
		path := filepath.Join(dir, "compile_commands.json")
		if data, err := os.ReadFile(path); err == nil {
			var cmds []compileCommand
			if json.Unmarshal(data, &cmds) != nil {
				return nil, ""
			}
			out := make([]string, 0, len(cmds))
			for _, c := range cmds {
				out = append(out, c.path())
			}
			return out, path
		}
		if parent := filepath.Dir(dir); parent == dir {
			return nil, ""
		}
	}
}

// path is the entry's file, absolute (a relative "file" is relative to "directory").
func (c compileCommand) path() string {
	p := c.File
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.Directory, p)
	}
	return filepath.Clean(p)
}
