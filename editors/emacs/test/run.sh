#!/usr/bin/env bash
# Emacs 28 + eglot end-to-end test of editors/emacs/corels.el against the real `corels serve`.
# Usage: editors/emacs/test/run.sh [path/to/corels]   (default: bin/corels)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
corels=$(realpath "${1:-$repo/bin/corels}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
proj=$work/proj
mkdir -p "$proj/src"
echo '{}' > "$proj/.corels.json"
# Workspace configuration, as a user would write it (eglot sends it on workspace/configuration).
cat > "$proj/.dir-locals.el" <<'EL'
((bpf-c-mode . ((eglot-workspace-configuration . (:corels (:relocationHints "diagnostic"))))))
EL
cp "$repo/testdata/seed_unwrapped.bpf.c" "$proj/src/prog.bpf.c"
# A directory built for bpf by its compile_commands.json, and a plain C file.
mkdir -p "$proj/legacy"
cp "$repo/testdata/seed_unwrapped.bpf.c" "$proj/legacy/probe.c"
echo '[{"directory": ".", "file": "probe.c", "command": "clang -g -O2 -target bpf -c probe.c"}]' > "$proj/legacy/compile_commands.json"
echo 'int main(void) { return 0; }' > "$proj/other.c"
start=$(date +%s%N)
if (cd "$proj/src" && CORELS="$corels" CORELS_LOG="$work/corels.log" ROOT="$proj" EMACS_PLUGIN="$repo/editors/emacs" \
	HOME="$work" timeout 60 emacs -Q --batch -l "$here/e2e.el" "$proj/src/prog.bpf.c" </dev/null); then
	echo "emacs e2e: ok in $(( ($(date +%s%N) - start) / 1000000 )) ms"
else
	rc=$?
	echo "emacs e2e: FAILED (exit $rc); server log:"; tail -20 "$work/corels.log" || true
	exit 1
fi
