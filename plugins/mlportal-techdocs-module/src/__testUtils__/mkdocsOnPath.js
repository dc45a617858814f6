/*
 * Jest global setup: puts the repository's docs virtualenv (mkdocs with
 * mkdocs-techdocs-core, made by docs/build.sh) first on PATH, because TechDocs'
 * local generator spawns `mkdocs` with the process's real environment, which a
 * test file cannot change. techdocs.test.ts fails with the fix when it is missing.
 */
const os = require('node:os');
const path = require('node:path');

module.exports = async () => {
  const venv =
    process.env.MLPORTAL_DOCS_VENV ?? path.join(os.homedir(), '.cache', 'mlportal', 'docs-venv');
  process.env.PATH = `${path.join(venv, 'bin')}${path.delimiter}${process.env.PATH}`;
};
