package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"

	"github.com/corels/corels/btf"
)

const vmlinuxUsage = `corels vmlinux [--btf PATH|default] [--bpftool-compat] > vmlinux.h
      Write a C header of every type of a kernel's BTF (default: the running kernel's
      /sys/kernel/btf/vmlinux, else the embedded default kernel; "default" names the
      embedded Debian 6.1 kernel).
`

func runVmlinux(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vmlinux", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("btf", "", `kernel BTF: raw, ELF with .BTF, .gz/.xz/.tar.xz, a BTFHub archive, or "default" (the embedded kernel)`)
	compat := fs.Bool("bpftool-compat", false, "reproduce bpftool 7.1's output byte for byte, layout bugs included")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "corels vmlinux: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	var k *btf.Kernel
	if *path == "" {
		ks, err := btf.DefaultKernels()
		if len(ks) == 0 {
			fmt.Fprintf(stderr, "corels vmlinux: no kernel BTF: %v\n", err)
			return 2
		}
		k = ks[0]
	} else if btf.IsDefaultName(*path) {
		def, err := btf.DefaultKernel()
		if err != nil {
			fmt.Fprintf(stderr, "corels vmlinux: %v\n", err)
			return 2
		}
		k = def
	} else {
		ks, err := btf.LoadFile(*path)
		if err != nil {
			fmt.Fprintf(stderr, "corels vmlinux: %v\n", err)
			return 2
		}
		if len(ks) != 1 {
			fmt.Fprintf(stderr, "corels vmlinux: %s holds %d kernels; name one member (extract it first)\n", *path, len(ks))
			return 2
		}
		k = ks[0]
	}
	w := bufio.NewWriter(stdout)
	if err := btf.WriteHeader(w, k.Spec, &btf.HeaderOptions{Bpftool71: *compat}); err != nil {
		fmt.Fprintf(stderr, "corels vmlinux: %v\n", err)
		return 2
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "corels vmlinux: %v\n", err)
		return 2
	}
	return 0
}
