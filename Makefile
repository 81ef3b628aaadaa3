# corels — make targets. `make demo` and `make test` are the two commands in README.md.
SHELL := /bin/bash
GO ?= go
CLANG ?= clang-16
BPFTOOL ?= bpftool
export GOFLAGS ?= -mod=mod

CILIUM_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/cilium/ebpf)
VMLINUX_H = testdata/include/vmlinux.h

.PHONY: all build test demo deps deps-test vmlinux golden clean

all: build

build:
	$(GO) build -o bin/corels ./cmd/corels

# Debian packages the tests need (bpftool generates the test vmlinux.h; libbpf-dev gives
# bpf_helpers.h and friends). clang is only needed by `make golden`.
deps-test:
	@if ! command -v $(BPFTOOL) >/dev/null || [ ! -f /usr/include/bpf/bpf_core_read.h ]; then \
		apt-get update && apt-get install -y bpftool libbpf-dev; fi
	$(GO) mod download

deps-golden: deps-test
	@command -v $(CLANG) >/dev/null || (apt-get update && apt-get install -y clang-16 llvm-16)

# The test vmlinux.h comes from the kernel BTF shipped in cilium/ebpf's module
# (btf/testdata/vmlinux.btf.gz), pinned by go.sum, so it is the same on every machine.
$(VMLINUX_H):
	@mkdir -p $(dir $@)
	gunzip -c $(CILIUM_DIR)/btf/testdata/vmlinux.btf.gz > $@.btf
	$(BPFTOOL) btf dump file $@.btf format c > $@.tmp
	rm -f $@.btf
	mv $@.tmp $@

vmlinux: $(VMLINUX_H)

test: deps-test $(VMLINUX_H)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Regenerates the clang ground truth (objects and golden relocation sets) in testdata/.
golden: deps-golden $(VMLINUX_H)
	$(GO) test ./compiler -run TestGolden -count=1 -args -regen

demo: deps-test $(VMLINUX_H) build
	./bin/corels relocs testdata/seed.bpf.c -- -I testdata/include

clean:
	rm -rf bin build $(VMLINUX_H)
