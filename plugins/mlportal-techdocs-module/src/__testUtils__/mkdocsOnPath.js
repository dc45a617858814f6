/*
 * Jest global setup: finds the virtualenv with mkdocs and mkdocs-techdocs-core
 * that internal/models' docs build test uses too ($MLPORTAL_TECHDOCS_VENV, else
 * the path internal/models/testdata/techdocs-venv.sh --print-venv names; `make
 * techdocs-pyenv` makes it), exports it as MLPORTAL_TECHDOCS_VENV and puts its
 * bin/ first on PATH: TechDocs' local generator spawns `mkdocs` with the
 * process's real environment, which a test file cannot change. The tests fail
 * with the fix when mkdocs is missing there.
 */
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  let venv = process.env.MLPORTAL_TECHDOCS_VENV;
  if (!venv) {
    const script = path.resolve(__dirname, '../../../../internal/models/testdata/techdocs-venv.sh');
    venv = execFileSync('bash', [script, '--print-venv'], { encoding: 'utf8' }).trim();
  }
  process.env.MLPORTAL_TECHDOCS_VENV = venv;
  process.env.PATH = `${path.join(venv, 'bin')}${path.delimiter}${process.env.PATH}`;
};
