#!/usr/bin/env node
/*
 * Generates src/generated/schema.ts from the mlportal OpenAPI document
 * (internal/api/openapi.yaml at the repository root) with openapi-typescript.
 *
 *   node scripts/generate.js          write src/generated/schema.ts
 *   node scripts/generate.js --check  regenerate into a temporary directory and
 *                                     fail when the committed file differs
 */
'use strict';
/* eslint-disable no-console */

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const packageDir = path.resolve(__dirname, '..');
const spec = path.resolve(packageDir, '../../internal/api/openapi.yaml');
const target = path.join(packageDir, 'src/generated/schema.ts');
const cli = path.join(
  path.dirname(require.resolve('openapi-typescript/package.json')),
  'bin/cli.js',
);

function generate(output) {
  execFileSync(process.execPath, [cli, spec, '--output', output], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

if (process.argv.includes('--check')) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlportal-generate-'));
  try {
    const fresh = path.join(dir, 'schema.ts');
    generate(fresh);
    const committed = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (fs.readFileSync(fresh, 'utf8') !== committed) {
      try {
        execFileSync('diff', ['-u', target, fresh], { stdio: 'inherit' });
      } catch {
        // diff exits 1 when the files differ; its output is the point.
      }
      console.error(
        `${path.relative(process.cwd(), target)} is stale: run "npm run generate" in plugins/ and commit the result.`,
      );
      process.exit(1);
    }
    console.log('generated TypeScript types are up to date');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
} else {
  generate(target);
  console.log(`wrote ${path.relative(process.cwd(), target)}`);
}
