#!/usr/bin/env bash
# Prepares the Python virtualenv the ML project skeleton's integration test runs in.
#
#   bash pyenv.sh                 create the venv if missing (pip install -r skeleton/requirements.txt)
#   bash pyenv.sh --print-venv    print the venv's path and do nothing else
#
# The venv lives under ${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/mlportal}/pyenv/<hash>,
# <hash> being the SHA-256 of skeleton/requirements.txt, so editing the pins makes a new venv and a
# warm cache is a no-op. A venv is complete only once its .requirements.sha256 stamp is written; a
# half-made one (pip interrupted) is removed and made again. MLPORTAL_PYTHON picks the interpreter
# (default python3). The first install downloads mlflow and scikit-learn: a few minutes.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
case "${1:-}" in
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
exec bash "${here}/../../internal/testenv/pyenv.sh" "skeleton" "${here}/skeleton/requirements.txt" "$@"
