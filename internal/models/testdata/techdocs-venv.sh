#!/usr/bin/env bash
# Prepares the Python virtualenv with mkdocs and mkdocs-techdocs-core that internal/models' TechDocs
# build test runs (`mkdocs build --strict` over a generated model docs tree).
#
#   bash techdocs-venv.sh                 create the venv if missing (pip install -r requirements-techdocs.txt)
#   bash techdocs-venv.sh --print-venv    print the venv's path and do nothing else
#
# The venv lives under ${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}/pyenv/<hash>,
# <hash> being the SHA-256 of requirements-techdocs.txt: editing the pins makes a new venv and a warm
# cache is a no-op. The venv is complete once its .requirements.sha256 stamp is written; a half-made
# one is removed and made again. MLPORTAL_PYTHON picks the interpreter (default python3).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
requirements="${here}/requirements-techdocs.txt"
cache="${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/mlportal}"
hash="$(sha256sum "${requirements}" | cut -d' ' -f1)"
venv="${cache}/pyenv/${hash}"

case "${1:-}" in
  --print-venv) echo "${venv}"; exit 0 ;;
  "") ;;
  -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "techdocs-venv.sh: unknown argument $1" >&2; exit 2 ;;
esac

if [[ -f "${venv}/.requirements.sha256" && "$(cat "${venv}/.requirements.sha256")" == "${hash}" ]]; then
  echo "techdocs venv ready: ${venv}"
  exit 0
fi

rm -rf "${venv}"
mkdir -p "$(dirname "${venv}")"
echo "creating the techdocs venv ${venv} (first time: a minute or two)" >&2
"${MLPORTAL_PYTHON:-python3}" -m venv "${venv}"
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"${venv}/bin/python" -m pip install --quiet --disable-pip-version-check -r "${requirements}"
echo "${hash}" >"${venv}/.requirements.sha256"
echo "techdocs venv ready: ${venv}"
