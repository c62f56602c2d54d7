#!/usr/bin/env bash
# Creates the project's Python virtual environment in .venv with the pinned packages of python/requirements.txt.
# Idempotent: re-running only installs what changed. Tests that need real MLflow find it at .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted=$(sha256sum python/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  .venv/bin/python -m pip install --disable-pip-version-check --no-input --quiet -r python/requirements.txt
  echo "$wanted" > "$stamp"
fi
.venv/bin/python -c 'import mlflow, sklearn; print(f"python env ready: mlflow {mlflow.__version__}, scikit-learn {sklearn.__version__}")'
