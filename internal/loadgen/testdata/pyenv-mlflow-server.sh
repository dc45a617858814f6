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
requirements="${here}/requirements-mlflow-server.txt"
cache="${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/mlportal}"
hash="$(sha256sum "${requirements}" | cut -d' ' -f1)"
venv="${cache}/pyenv/${hash}"

case "${1:-}" in
  --print-venv) echo "${venv}"; exit 0 ;;
  "") ;;
  -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "pyenv-mlflow-server.sh: unknown argument $1" >&2; exit 2 ;;
esac

if [[ -f "${venv}/.requirements.sha256" && "$(cat "${venv}/.requirements.sha256")" == "${hash}" ]]; then
  echo "mlflow server venv ready: ${venv}"
  exit 0
fi

rm -rf "${venv}"
mkdir -p "$(dirname "${venv}")"
echo "creating mlflow server venv ${venv} (first time: a few minutes)" >&2
"${MLPORTAL_PYTHON:-python3}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -r "${requirements}"
echo "${hash}" >"${venv}/.requirements.sha256"
echo "mlflow server venv ready: ${venv}"
