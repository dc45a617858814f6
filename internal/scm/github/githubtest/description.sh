#!/usr/bin/env bash
# Fetches (once) GitHub's published REST API description, which the GitHub
# stand-in (package githubtest) checks every request against.
#
#   bash description.sh                fetch if missing, print the JSON's path last
#   bash description.sh --print-path   only print the JSON's path (no fetch)
#
# The description is api.github.com.json from the npm package @octokit/openapi,
# pinned below; `npm pack` fetches the tarball from the configured registry.
# It lands in $CACHE/github-openapi/<version>/, CACHE being $MLPORTAL_CACHE_DIR,
# else $XDG_CACHE_HOME/mlportal, else ~/.cache/mlportal. Idempotent: a present
# file is reused; a fetch writes aside and renames, so an interrupted run leaves
# nothing half-written. The description is never committed to the repository.
set -euo pipefail

VERSION=23.0.2
cache="${MLPORTAL_CACHE_DIR:-${XDG_CACHE_HOME:-${HOME}/.cache}/mlportal}"
dir="${cache}/github-openapi/${VERSION}"
file="${dir}/api.github.com.json"

case "${1:-}" in
  --print-path) echo "${file}"; exit 0 ;;
  "") ;;
  -h | --help) sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "description.sh: unknown argument $1" >&2; exit 2 ;;
esac

if [[ -s "${file}" ]]; then
  echo "${file}"
  exit 0
fi

command -v npm >/dev/null || { echo "description.sh: npm is needed to fetch @octokit/openapi@${VERSION}; install Node.js 20" >&2; exit 1; }
mkdir -p "${dir}"
tmp="$(mktemp -d "${dir}/.fetch-XXXXXX")"
trap 'rm -rf "${tmp}"' EXIT
echo "fetching GitHub's REST description (@octokit/openapi@${VERSION}, ~30 MB) into ${dir}" >&2
(cd "${tmp}" && npm pack --silent "@octokit/openapi@${VERSION}" >/dev/null)
tar -xzf "${tmp}"/octokit-openapi-"${VERSION}".tgz -C "${tmp}" package/generated/api.github.com.json
mv -f "${tmp}/package/generated/api.github.com.json" "${file}"
echo "${file}"
