# Sourced by the client scripts: where the repository and its downloaded tools are.
#
#   ROOT   the repository (the parent of scripts/)
#   TOOLS  downloaded tools: $IDV_TOOLS_DIR, or $ROOT/.tools (gitignored)
#
# Registry caches stay where each ecosystem keeps them (~/go/pkg/mod, ~/.m2, ~/.cache/pip,
# ~/.npm), so fresh clones on the same machine reuse them; only tools go to $TOOLS.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${IDV_TOOLS_DIR:-$ROOT/.tools}"
mkdir -p "$TOOLS/bin"
TOOLS="$(cd "$TOOLS" && pwd)"
export PATH="$TOOLS/bin:$PATH"
# Never let `go` fetch another toolchain: the machine's Go is the one we build with.
export GOTOOLCHAIN=local
VENV="$TOOLS/venv"
PY="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# sha256 of the given files (or of stdin), for stamps.
digest() { cat "$@" | sha256sum | cut -c1-16; }
