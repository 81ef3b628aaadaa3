#!/usr/bin/env bash
# Neovim 0.7 end-to-end tests of editors/nvim against the real `corels serve`, once with
# plain vim.lsp.start_client and once through the nvim-lspconfig contract.
# Usage: editors/nvim/test/run.sh [path/to/corels]   (default: bin/corels)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
corels=$(realpath "${1:-$repo/bin/corels}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for mode in plain lspconfig; do
	proj=$work/$mode/proj
	mkdir -p "$proj/src" "$work/$mode/cache"
	echo '{}' > "$proj/.corels.json"
	cp "$repo/testdata/seed_unwrapped.bpf.c" "$proj/src/prog.bpf.c"
	# A directory built for bpf by its compile_commands.json, and a plain C file.
	mkdir -p "$proj/legacy"
	cp "$repo/testdata/seed_unwrapped.bpf.c" "$proj/legacy/probe.c"
	echo '[{"directory": ".", "file": "probe.c", "command": "clang -g -O2 -target bpf -c probe.c"}]' > "$proj/legacy/compile_commands.json"
	echo 'int main(void) { return 0; }' > "$proj/other.c"
	start=$(date +%s%N)
	if (cd "$proj/src" && CORELS="$corels" CORELS_LOG="$work/$mode/corels.log" ROOT="$proj" MODE=$mode \
		NVIM_PLUGIN="$repo/editors/nvim" NVIM_TEST_DIR="$here" XDG_CACHE_HOME="$work/$mode/cache" \
		XDG_STATE_HOME="$work/$mode/cache" XDG_DATA_HOME="$work/$mode/cache" \
		timeout 60 nvim --headless -i NONE -n -u "$here/e2e.lua" prog.bpf.c </dev/null); then
		echo "nvim e2e ($mode): ok in $(( ($(date +%s%N) - start) / 1000000 )) ms"
	else
		rc=$?
		echo "nvim e2e ($mode): FAILED (exit $rc); server log:"; tail -20 "$work/$mode/corels.log" || true
		status=1
	fi
done
exit $status
