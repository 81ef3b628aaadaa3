// Package btf is corels' view of target kernels: it loads kernel BTF (raw
// files, ELF files with a .BTF section, /sys/kernel/btf/vmlinux, directories
// of them, BTFHub-style .btf.tar.xz archives, gzip), caches it by content,
// resolves CO-RE relocations against it with the loader's rules, and writes C
// headers (vmlinux.h) from it.
//
// The package knows nothing of C source or of the language server: its input
// is a relocation record (kind, local root type, access string) as clang
// writes it to .BTF.ext, and its output is plain data.
//
// # Resolution
//
// [Resolve] re-implements the relocation rules of cilium/ebpf v0.22.0
// (btf/core.go), which are themselves a port of libbpf's relo_core.c. We
// cannot call [cbtf.CORERelocate] directly: [cbtf.CORERelocation] has only
// unexported fields, so relocations can be had only from an ELF file, never
// built from the compiler's own records. The differential test
// (resolve_diff_test.go) checks, for every relocation of every test object
// against every test kernel, that our verdict equals CORERelocate's.
//
// Resolve handles one relocation at a time, like libbpf does; cilium scores
// all relocations of one local type together, which can differ only when a
// kernel holds several types with the same essential name. Known differences
// between cilium's rules (which we follow) and libbpf 1.x:
//
//   - candidates: libbpf only considers kernel types of the same BTF kind as
//     the local type; cilium takes every type with the essential name (so a
//     typedef and a struct of one name can both be candidates).
//   - bitfields: libbpf widens the load (1, 2, 4, 8 bytes) until the
//     bitfield fits and fails the load when 8 bytes are not enough; cilium
//     loads the bitfield's declared type at an offset aligned to it.
//   - ambiguity: libbpf compares the bit offsets of all matching candidates,
//     cilium compares the relocated values.
//
// # Headers
//
// [WriteHeader] is a port of libbpf's btf_dump.c C output (as in Linux 6.1's
// tools/lib/bpf, which Debian's bpftool 7.1 is built from), wrapped like `bpftool btf dump file X format c`.
package btf
