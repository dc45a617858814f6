#!/usr/bin/env bash
# Prepares the Python virtualenv with the `mlflow server` (3.x) and psycopg2 that the load
# generator's -mode mlflow starts, on SQLite and on PostgreSQL.
#
#   bash pyenv-mlflow-server.sh                 create the venv if missing (pip install -r requirements-mlflow-server.txt)
#   bash pyenv-mlflow-server.sh --print-venv    print the venv's path and do nothing else
#
# The venv lives under ${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}/pyenv/<hash>,
# <hash> being the SHA-256 of requirements-mlflow-server.txt: editing the pins makes a new venv and
# a warm cache is a no-op. The venv is complete once its .requirements.sha256 stamp is written; a
# half-made one is removed and made again. MLPORTAL_PYTHON picks the interpreter (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
exec bash "${here}/../../testenv/pyenv.sh" "mlflow server" "${here}/requirements-mlflow-server.txt" "$@"
