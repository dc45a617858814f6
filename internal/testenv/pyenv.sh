#!/usr/bin/env bash
# Prepares a cached Python virtualenv from a pinned requirements file; the per-purpose scripts
# (scaffolder-templates/ml-project/pyenv.sh, internal/mlflowapi/testdata/pyenv-mlflow2.sh,
# internal/loadgen/testdata/pyenv-mlflow-server.sh, internal/models/testdata/techdocs-venv.sh)
# call it with their own label and file.
#
#   bash pyenv.sh LABEL REQUIREMENTS                 create the venv if missing (pip install -r REQUIREMENTS)
#   bash pyenv.sh LABEL REQUIREMENTS --print-venv    print the venv's path and do nothing else
#
# The venv lives under ${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}/pyenv/<hash>,
# <hash> being the SHA-256 of REQUIREMENTS: editing the pins makes a new venv and a warm cache is a
# no-op. A venv is complete only once its .requirements.sha256 stamp is written; a half-made one
# (pip interrupted) is removed and made again. MLPORTAL_PYTHON picks the interpreter (default python3).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
fi
label="$1"
requirements="$2"
shift 2
cache="${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/mlportal}"
hash="$(sha256sum "${requirements}" | cut -d' ' -f1)"
venv="${cache}/pyenv/${hash}"

case "${1:-}" in
  --print-venv) echo "${venv}"; exit 0 ;;
  "") ;;
  *) echo "${label} venv: unknown argument $1 (want nothing or --print-venv)" >&2; exit 2 ;;
esac

if [[ -f "${venv}/.requirements.sha256" && "$(cat "${venv}/.requirements.sha256")" == "${hash}" ]]; then
  echo "${label} venv ready: ${venv}"
  exit 0
fi

rm -rf "${venv}"
mkdir -p "$(dirname "${venv}")"
echo "creating the ${label} venv ${venv} (first time: a few minutes)" >&2
"${MLPORTAL_PYTHON:-python3}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -r "${requirements}"
echo "${hash}" >"${venv}/.requirements.sha256"
echo "${label} venv ready: ${venv}"
