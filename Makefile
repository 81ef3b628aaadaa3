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

# TestSelftests (the selftests parity, ~13 CPU-minutes) needs more than go test's default 10m.
test: deps-test $(VMLINUX_H) selftests
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...
	$(MAKE) --no-print-directory editors-test

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

# Generated Go code: compiler/walk_gen.go, the AST walker's type switches over cc/v4's node
# types (rerun after upgrading modernc.org/cc/v4).
.PHONY: generate
generate:
	$(GO) generate ./compiler

clean:
	rm -rf bin build $(VMLINUX_H) $(VMLINUX_BTF)

# --- real-world corpus (issue 12): the kernel's BPF selftests ---
# `make selftests` fetches Debian's linux-source-6.1 (whatever version the archive has; the
# checked-in relocation sets are keyed by each program's sha256, so a changed program is
# reported stale, not failed), extracts only the BPF selftests and tools/include into
# build/selftests/, writes the vmlinux.h of the embedded Debian 6.1 kernel and the corpus'
# compile_flags.txt (read by corels the way a user's project gives flags, by clang in
# selftests-golden, and by compiler/selftests_test.go). Each step runs only when its output
# is missing. `make selftests-golden` rewrites testdata/selftests/clang16.relocs with clang-16;
# `make selftests-expect` rewrites testdata/selftests/expect.txt, the parity baseline.
SELFTESTS_DIR = build/selftests
SELFTESTS_BPF = $(SELFTESTS_DIR)/tools/testing/selftests/bpf
SELFTESTS_VMLINUX = $(SELFTESTS_DIR)/vmlinux/vmlinux.h
SELFTESTS_DEB_BTF = btf/default/linux-6.1.btf.gz

.PHONY: selftests selftests-golden selftests-expect

$(SELFTESTS_BPF)/progs:
	@mkdir -p $(SELFTESTS_DIR)/deb
	@command -v xz >/dev/null || { apt-get update && apt-get install -y xz-utils; }
	@ls $(SELFTESTS_DIR)/deb/linux-source-6.1_*.deb >/dev/null 2>&1 || ( cd $(SELFTESTS_DIR)/deb && \
		{ apt-get download linux-source-6.1 || { apt-get update && apt-get download linux-source-6.1; }; } )
	@deb=$$(ls $(SELFTESTS_DIR)/deb/linux-source-6.1_*.deb | tail -1); echo "  extracting $$deb"; \
	dpkg-deb -f $$deb Version > $(SELFTESTS_DIR)/VERSION && \
	dpkg-deb --fsys-tarfile $$deb | tar -xO ./usr/src/linux-source-6.1.tar.xz | xz -dc | \
		tar -x -C $(SELFTESTS_DIR) --strip-components=1 --wildcards \
		'linux-source-6.1/tools/testing/selftests/bpf/*' 'linux-source-6.1/tools/include/*'
	@test -d $@

$(SELFTESTS_VMLINUX): $(SELFTESTS_DEB_BTF)
	@mkdir -p $(dir $@)
	gunzip -c $< > $(dir $@)vmlinux.btf
	$(BPFTOOL) btf dump file $(dir $@)vmlinux.btf format c > $@.tmp
	mv $@.tmp $@

# Paths relative to the file's directory, as clangd reads them; the system's libbpf-dev
# headers (<bpf/bpf_helpers.h>) come from /usr/include.
$(SELFTESTS_DIR)/compile_flags.txt: | $(SELFTESTS_BPF)/progs
	printf '%s\n' -target bpf -O2 -g -mcpu=v3 -D__TARGET_ARCH_x86 -Ivmlinux \
		-Itools/testing/selftests/bpf -Itools/include/uapi -idirafter/usr/include/x86_64-linux-gnu > $@

selftests: deps-test $(SELFTESTS_BPF)/progs $(SELFTESTS_VMLINUX) $(SELFTESTS_DIR)/compile_flags.txt

selftests-golden: deps-golden selftests
	$(GO) test ./compiler -run '^TestSelftestsGolden$$' -count=1 -timeout 30m -v -args -selftests.regen

selftests-expect: selftests
	$(GO) test ./compiler -run '^TestSelftests$$' -count=1 -timeout 30m -v -args -selftests.update

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
	btf:FuzzLoadBytes btf:FuzzWriteHeader btf:FuzzResolve \
	lsp:FuzzMapper lsp:FuzzApplyChanges lsp:FuzzReadFrames lsp:FuzzDecodeParams

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

# --- speed (issues 4 and 13): numbers, not pass/fail ---
# The table of issue 13: testdata/lsm.bpf.c, the tracing tool testdata/bench/tracer.bpf.c and,
# when `make selftests` has run (bench never fetches them), the selftests'
# test_core_reloc_kernel.c and profiler.inc.h as one file; BENCH_EDITS edits each through
# `corels serve` and clangd-16 side by side (p50/p99, ratio), cold open on a first and a
# second start (disk cache), peak RSS of each server; then the in-process numbers; then
# edit → publishDiagnostics through the server in a go benchmark. bench-quick: 40 edits.
# lsm.bpf.c and the tracer read the vmlinux.h of this machine's kernel (/sys/kernel/btf/vmlinux;
# build/host/vmlinux.h, written by bpftool), or the test one where the kernel has no BTF.
BENCH_EDITS ?= 200
BENCH_FLAGS ?=
HOST_VMLINUX_H = build/host/vmlinux.h
.PHONY: bench bench-quick bench-deps
bench-deps: deps-test
	@command -v clangd-16 >/dev/null || (apt-get update && apt-get install -y clangd-16)
$(HOST_VMLINUX_H): $(VMLINUX_H)
	@mkdir -p $(dir $@)
	if [ -r /sys/kernel/btf/vmlinux ]; then $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp; \
	else cp $(VMLINUX_H) $@.tmp; fi
	mv $@.tmp $@
bench: bench-deps $(HOST_VMLINUX_H) build
	$(GO) run ./cmd/corels-bench -table -I $(dir $(HOST_VMLINUX_H)) -edits $(BENCH_EDITS) $(BENCH_FLAGS)
	$(GO) test ./lsp -run '^$$' -bench EditLatency -benchtime 200x -benchmem
bench-quick: bench-deps $(HOST_VMLINUX_H) build
	$(GO) run ./cmd/corels-bench -table -I $(dir $(HOST_VMLINUX_H)) -edits 40 $(BENCH_FLAGS)

# --- reliability (issue 8): the replay harness ---
# Drives the real `corels serve` (bin/corels) over stdio with random edits, requests at
# random positions and malformed frames, and prints the counts (tools/stress/main.go).
# Bounded: STRESS_EDITS edits or STRESS_TIME, whichever comes first.
STRESS_EDITS ?= 5000
STRESS_TIME ?= 10m
STRESS_FLAGS ?=

.PHONY: stress
stress: $(VMLINUX_H) build
	$(GO) run ./tools/stress -corels bin/corels -edits $(STRESS_EDITS) -time $(STRESS_TIME) $(STRESS_FLAGS)

# --- editors (issue 7): VS Code extension, Neovim and Emacs, tested in the real editors ---
# editors-test (part of `make test`): Neovim 0.7 and Emacs 28 + eglot headless against the real
# `corels serve`, the VS Code extension's unit tests and its bundle with vscode-languageclient
# against the server in node, and the .vsix built offline. e2e-vscode: a real VS Code
# (code-server) with the .vsix, driven through chromium; screenshots in build/e2e-vscode/.
VSCODE_DIR = editors/vscode
VSIX = build/corels.vsix
# A dead proxy: the .vsix must build without the network.
OFFLINE = HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 npm_config_offline=true

.PHONY: editors-deps vscode-deps vscode-build vscode-test vsix nvim-test emacs-test editors-test e2e-vscode-deps e2e-vscode

# Debian packages for the editor tests (node and npm come with the machine; Debian's are the fallback).
editors-deps:
	@if ! command -v nvim >/dev/null || ! command -v emacs >/dev/null || [ ! -d /usr/share/emacs/site-lisp/elpa/eglot-1.9 ] \
		|| ! command -v npm >/dev/null; then \
		apt-get update && apt-get install -y neovim emacs-nox elpa-eglot && \
		{ command -v npm >/dev/null || apt-get install -y nodejs npm; }; fi

$(VSCODE_DIR)/node_modules/.package-lock.json: $(VSCODE_DIR)/package-lock.json | editors-deps
	cd $(VSCODE_DIR) && npm ci --no-audit --no-fund

vscode-deps: $(VSCODE_DIR)/node_modules/.package-lock.json

vscode-build: vscode-deps
	cd $(VSCODE_DIR) && npx tsc --noEmit -p . && node esbuild.mjs

vscode-test: build vscode-build
	cd $(VSCODE_DIR) && CORELS=$(CURDIR)/bin/corels npm test

# The .vsix, with a stripped linux-x64 corels inside, packaged offline.
vsix: vscode-deps
	@mkdir -p build $(VSCODE_DIR)/bin/linux-x64
	$(GO) build -ldflags='-s -w' -o $(VSCODE_DIR)/bin/linux-x64/corels ./cmd/corels
	cd $(VSCODE_DIR) && node esbuild.mjs --minify && $(OFFLINE) npx vsce package --no-dependencies --skip-license -o $(CURDIR)/$(VSIX)
	cd $(VSCODE_DIR) && node esbuild.mjs

nvim-test: build editors-deps
	editors/nvim/test/run.sh bin/corels

emacs-test: build editors-deps
	editors/emacs/test/run.sh bin/corels

editors-test: nvim-test emacs-test vscode-test vsix
	@echo "editors-test: 4 passed, 0 failed"

# code-server 4.100.3 (VS Code 1.100, the last for node 20) and playwright-core from npm,
# Debian's chromium. @vscode/ripgrep's postinstall would download rg: seed its cache with
# Debian's.
RG_CACHE = $${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11
e2e-vscode-deps: editors-deps
	@if ! command -v chromium >/dev/null || ! command -v rg >/dev/null || ! dpkg -s libkrb5-dev >/dev/null 2>&1 \
		|| ! command -v g++ >/dev/null; then \
		apt-get update && apt-get install -y chromium ripgrep build-essential python3 libkrb5-dev; fi
	@if [ ! -x $(VSCODE_DIR)/e2e/node_modules/.bin/code-server ] || [ $(VSCODE_DIR)/e2e/package-lock.json -nt $(VSCODE_DIR)/e2e/node_modules/.package-lock.json ]; then \
		d=$$(mktemp -d) && cp "$$(command -v rg)" $$d/rg && mkdir -p $(RG_CACHE) && \
		tar -C $$d -czf $(RG_CACHE)/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz rg && rm -rf $$d && \
		cd $(VSCODE_DIR)/e2e && npm_config_unsafe_perm=true npm_config_yes=true npm ci --no-audit --no-fund; fi

e2e-vscode: vsix e2e-vscode-deps
	node $(VSCODE_DIR)/e2e/run.mjs $(VSIX) build/e2e-vscode
