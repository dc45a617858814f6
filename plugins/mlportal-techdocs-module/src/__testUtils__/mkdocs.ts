import fs from 'node:fs';
import path from 'node:path';

/**
 * Checks that mkdocs with mkdocs-techdocs-core is where the Jest global setup
 * (src/__testUtils__/mkdocsOnPath.js) put it on PATH, for TechDocs' local
 * generator; fails with the fix when it is not.
 */
export function checkMkdocs(): void {
  const venv = process.env.MLPORTAL_TECHDOCS_VENV ?? '(unset)';
  if (!fs.existsSync(path.join(venv, 'bin', 'mkdocs'))) {
    throw new Error(
      `mkdocs not found in ${venv}/bin: run "make techdocs-pyenv" at the repository root, which ` +
        'installs mkdocs and mkdocs-techdocs-core there (or point MLPORTAL_TECHDOCS_VENV at such a virtualenv)',
    );
  }
}
