#!/usr/bin/env bash
# Prepares the Python virtualenv with the MLflow 2.x client for internal/mlflowapi's client test.
#
#   bash pyenv-mlflow2.sh                 create the venv if missing (pip install -r requirements-mlflow2.txt)
#   bash pyenv-mlflow2.sh --print-venv    print the venv's path and do nothing else
#
# The venv lives under ${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}/pyenv/<hash>,
# <hash> being the SHA-256 of requirements-mlflow2.txt: editing the pins makes a new venv and a warm
# cache is a no-op. The venv is complete once its .requirements.sha256 stamp is written; a half-made
# one is removed and made again. MLPORTAL_PYTHON picks the interpreter (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
exec bash "${here}/../../testenv/pyenv.sh" "mlflow 2.x" "${here}/requirements-mlflow2.txt" "$@"
