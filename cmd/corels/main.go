// Command corels is the CO-RE language server and its command-line front end.
package main

import (
	"fmt"
	"io"
	"os"
)

const usage = `corels — CO-RE relocations for eBPF C programs, while you type.

Usage:
  corels serve [--log FILE] [--log-level debug|info|warn|error] [--memory-limit MiB]
      Run the language server on stdin/stdout (LSP 3.18).
  corels relocs [--format text|json] FILE... [-- CLANG_FLAGS...]
      List the CO-RE relocations clang-16 would emit for each file.
  ` + checkUsage + `  ` + kernelsUsage + `  ` + vmlinuxUsage + `
Exit status: 0 success, 1 a file does not compile (check: an error is reported), 2 usage or I/O error.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "relocs":
		return runRelocs(args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "kernels":
		return runKernels(args[1:], stdout, stderr)
	case "vmlinux":
		return runVmlinux(args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "corels: unknown command %q\n\n%s", args[0], usage)
	return 2
}
