#!/usr/bin/env bash
# Builds mlportal's TechDocs site with `mkdocs build --strict`.
#
#   bash docs/build.sh                  build into a fresh temporary directory
#   bash docs/build.sh OUT_DIR          build into OUT_DIR (for example a TechDocs local
#                                       publisher's <publishDirectory>/default/component/mlportal)
#   bash docs/build.sh --stub-missing   build a copy of docs/ in which every page the nav
#                                       names but nobody has written yet is a stub; for
#                                       drafting only, never in CI
#
# MkDocs and the techdocs-core plugin come from PyPI into a virtualenv under
# ~/.cache/mlportal/docs-venv (override with MLPORTAL_DOCS_VENV), made on first use and
# remade when the pinned versions below change. The layout is explained in
# docs/adr/0006-docs-layout.md.
set -euo pipefail

# Pinned so a new MkDocs major (2.x drops the plugin API) cannot break the build by surprise.
readonly requirements=("mkdocs-techdocs-core==1.7.1" "mkdocs>=1.6,<2")

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
config="catalog/mlportal-docs/mkdocs.yml"
venv="${MLPORTAL_DOCS_VENV:-${HOME}/.cache/mlportal/docs-venv}"

stub_missing=false
out=""
for arg in "$@"; do
  case "${arg}" in
    --stub-missing) stub_missing=true ;;
    -h | --help) sed -n '2,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown flag ${arg}" >&2; exit 2 ;;
    *) out="${arg}" ;;
  esac
done

# 1. The virtualenv, (re)made when missing or when the pins changed.
stamp="${venv}/.mlportal-requirements"
if [[ ! -x "${venv}/bin/mkdocs" || "$(cat "${stamp}" 2>/dev/null)" != "${requirements[*]}" ]]; then
  echo "build.sh: installing ${requirements[*]} into ${venv}" >&2
  mkdir -p "$(dirname "${venv}")"
  python3 -m venv "${venv}"
  "${venv}/bin/python" -m pip install --quiet --disable-pip-version-check "${requirements[@]}"
  printf '%s' "${requirements[*]}" >"${stamp}"
fi

# 2. The source tree: the repository itself, or a copy with stubs for unwritten pages.
src="${repo}"
cleanup=()
trap 'rm -rf "${cleanup[@]}"' EXIT
if [[ "${stub_missing}" == true ]]; then
  src="$(mktemp -d)"
  cleanup+=("${src}")
  mkdir -p "${src}/$(dirname "${config}")"
  cp "${repo}/${config}" "${src}/${config}"
  cp -R "${repo}/docs" "${src}/docs"
  "${venv}/bin/python" - "${src}/${config}" <<'PY'
import os, sys, yaml

config = sys.argv[1]
with open(config) as f:
    cfg = yaml.safe_load(f)
docs = os.path.normpath(os.path.join(os.path.dirname(config), cfg["docs_dir"]))

def pages(nav):
    for item in nav:
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            for value in item.values():
                yield from (pages(value) if isinstance(value, list) else [value])

for page in pages(cfg["nav"]):
    path = os.path.join(docs, page)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(f"# {page}\n\nStub made by docs/build.sh --stub-missing; not written yet.\n")
        print(f"build.sh: stubbed missing page docs/{page}", file=sys.stderr)
PY
fi

# 3. The build. --strict turns every warning (missing page, broken link) into a failure.
if [[ -z "${out}" ]]; then
  out="$(mktemp -d)"
fi
cd "${src}"
NO_MKDOCS_2_WARNING=1 "${venv}/bin/mkdocs" build --strict --clean --config-file "${config}" --site-dir "${out}"
echo "build.sh: site built in ${out}"
