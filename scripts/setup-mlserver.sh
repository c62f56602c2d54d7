#!/usr/bin/env bash
# Creates MLServer's Python environment in .venv-mlserver with the pinned packages of python/requirements-mlserver.txt
# (npm test's pretest calls it; the deploy tests with `deploy.server: mlserver` run .venv-mlserver/bin/python).
# Separate from .venv: MLServer's pins would downgrade the project's fastapi and protobuf. Idempotent: re-running
# installs only when the requirements changed. MLServer 1.7.1 needs Python 3.9-3.12; MLSERVER_PYTHON chooses the
# interpreter, otherwise the first of python3.12 ... python3.9, python3 that fits. About 70 s and 950 MB the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-mlserver

fits() { "$1" -c 'import sys, venv; sys.exit(0 if (3, 9) <= sys.version_info[:2] < (3, 13) else 1)' >/dev/null 2>&1; }

if [ ! -x "$venv/bin/python" ] || ! fits "$venv/bin/python"; then
  python=""
  for candidate in ${MLSERVER_PYTHON:-python3.12 python3.11 python3.10 python3.9 python3}; do
    if command -v "$candidate" >/dev/null 2>&1 && fits "$candidate"; then
      python=$candidate
      break
    fi
  done
  if [ -z "$python" ]; then
    if [ -n "${MLSERVER_PYTHON:-}" ]; then
      found="MLSERVER_PYTHON=$MLSERVER_PYTHON is not one"
    else
      found="none of python3.12, python3.11, python3.10, python3.9 is on PATH, and python3 is $(python3 -V 2>&1 || echo missing)"
    fi
    echo "scripts/setup-mlserver.sh: MLServer 1.7.1 needs Python 3.9 to 3.12 with the venv module; $found." >&2
    echo "Install one (Debian or Ubuntu: sudo apt-get install python3.11-venv; or pyenv install 3.12) and run npm test again, or set MLSERVER_PYTHON to its path." >&2
    exit 1
  fi
  rm -rf "$venv"
  "$python" -m venv "$venv"
fi
stamp=$venv/.requirements.sha256
wanted=$(sha256sum python/requirements-mlserver.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  "$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r python/requirements-mlserver.txt
  echo "$wanted" > "$stamp"
fi
"$venv/bin/python" -c 'import sys, mlserver, mlserver_mlflow, mlflow; print(f"mlserver env ready: mlserver {mlserver.__version__}, mlflow {mlflow.__version__}, python {sys.version.split()[0]}")'
