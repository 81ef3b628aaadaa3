# corels — make targets. `make demo` and `make test` are the two commands in README.md.
SHELL := /bin/bash
GO ?= go
CLANG ?= clang-16
BPFTOOL ?= bpftool
export GOFLAGS ?= -mod=mod

CILIUM_DIR = $(shell $(GO) list -m -f '{{.Dir}}' github.com/cilium/ebpf)
VMLINUX_H = testdata/include/vmlinux.h
VMLINUX_BTF = testdata/include/vmlinux.btf

.PHONY: all build test demo deps-test deps-golden vmlinux golden predefined clean

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
	gunzip -c $(CILIUM_DIR)/btf/testdata/vmlinux.btf.gz > $(VMLINUX_BTF)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp
	mv $@.tmp $@

vmlinux: $(VMLINUX_H)

test: deps-test $(VMLINUX_H)
	$(GO) vet ./...
	$(GO) test -count=1 ./...

# Regenerates the clang ground truth (objects and golden relocation sets) in testdata/.
golden: deps-golden $(VMLINUX_H)
	$(GO) test ./compiler -run TestGolden -count=1 -args -regen

demo: deps-test $(VMLINUX_H) build
	./bin/corels relocs testdata/seed.bpf.c --
	./bin/corels relocs testdata/flavors.bpf.c testdata/tp_btf_direct.bpf.c -- -I testdata/include -D__TARGET_ARCH_x86

# clang's predefined macros for -target bpf, written into the project (the compiler embeds them).
predefined: deps-golden
	( echo "// Predefined macros of clang-16 for -target bpf (clang-16 -target bpf -dM -E - </dev/null)."; \
	  echo "// Regenerate with: make predefined"; \
	  $(CLANG) -target bpf -dM -E - </dev/null | LC_ALL=C sort ) > compiler/bpf_predefined.h

clean:
	rm -rf bin build $(VMLINUX_H) $(VMLINUX_BTF)

# --- btf/ package: synthetic test kernels and the embedded default kernel ---
KERNELS_SRC = $(wildcard testdata/kernels/*.c)
LLVM_OBJCOPY ?= llvm-objcopy-16

.PHONY: kernels kernel-deb61

# Synthetic kernels: each testdata/kernels/X.c becomes X.btf.o, an ELF holding
# only the .BTF section clang-16 -g emits for the types X.c defines; plus
# testdata/kernels/probe/history.o, a CO-RE program written against them.
kernels: deps-golden
	@for c in $(KERNELS_SRC); do \
		o=$${c%.c}.btf.o; \
		$(CLANG) -g -O2 -target bpf -c $$c -o $$o.tmp && \
		$(LLVM_OBJCOPY) --only-section=.BTF $$o.tmp $$o && rm -f $$o.tmp && echo "  $$o" || exit 1; \
	done
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_x86 -c testdata/kernels/probe/history.bpf.c -o testdata/kernels/probe/history.o

# The embedded default kernel: .BTF of Debian 12's linux-image-6.1.0-56-amd64
# (version pinned in btf/default/extract.sh, recorded in btf/default/SOURCE).
kernel-deb61:
	bash btf/default/extract.sh

# --- reliability (issue 8): fuzzing ---
# Runs each fuzz target for FUZZTIME, one after the other, and prints per target its
# time, exec count and corpus size (seeds + testdata/fuzz + what fuzzing kept in the Go
# build cache). Logs go to build/fuzz/. Example: make fuzz FUZZTIME=60s FUZZ_TARGETS=btf:FuzzResolve
FUZZTIME ?= 10m
FUZZPARALLEL ?= 1
FUZZMINIMIZE ?= 10s
FUZZ_TARGETS ?= compiler:FuzzCompile compiler:FuzzCompileVmlinux compiler:FuzzRewriteNamedVariadics \
	compiler:FuzzParseFlags compiler:FuzzCompileCommands \
	btf:FuzzLoadBytes btf:FuzzWriteHeader btf:FuzzResolve

.PHONY: fuzz
fuzz: $(VMLINUX_H)
	@mkdir -p build/fuzz; cache=$$($(GO) env GOCACHE)/fuzz/github.com/corels/corels; failed=0; \
	printf '%-34s %-7s %8s %12s %8s %s\n' target status time execs corpus log; \
	for tgt in $(FUZZ_TARGETS); do \
		pkg=$${tgt%%:*}; name=$${tgt##*:}; log=build/fuzz/$$name.log; start=$$(date +%s); \
		if $(GO) test ./$$pkg -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) \
			-parallel $(FUZZPARALLEL) -timeout 0 >$$log 2>&1; then status=ok; else status=FAIL; failed=1; fi; \
		secs=$$(( $$(date +%s) - start )); \
		last=$$(grep -o 'execs: [0-9]*.*total: [0-9]*' $$log | tail -1); \
		execs=$$(echo "$$last" | sed -n 's/execs: \([0-9]*\).*/\1/p'); \
		total=$$(echo "$$last" | sed -n 's/.*total: \([0-9]*\).*/\1/p'); \
		cached=$$(ls $$cache/$$pkg/$$name 2>/dev/null | wc -l); \
		printf '%-34s %-7s %7ss %12s %8s %s\n' "$$tgt" $$status $$secs "$${execs:-?}" "$${total:-?}($$cached cached)" $$log; \
		if [ $$status = FAIL ]; then { grep -A8 -- '--- FAIL' $$log || tail -5 $$log; } | head -20; fi; \
	done; exit $$failed

# --- reliability (issue 8): the replay harness ---
# Drives the real `corels serve` (bin/corels) over stdio with random edits, requests at
# random positions and malformed frames, and prints the counts (tools/stress/main.go).
# Bounded: STRESS_EDITS edits or STRESS_TIME, whichever comes first.
STRESS_EDITS ?= 4000
STRESS_TIME ?= 8m
STRESS_FLAGS ?=

.PHONY: stress
stress: $(VMLINUX_H) build
	$(GO) run ./tools/stress -corels bin/corels -edits $(STRESS_EDITS) -time $(STRESS_TIME) $(STRESS_FLAGS)
