#!/usr/bin/env node
/*
 * Completes package-lock.json with the platform-specific optional packages
 * (`@swc/core-darwin-arm64`, `@rollup/rollup-win32-x64-msvc`, …) that the package
 * registry reachable from our machines does not serve. `npm install` leaves them
 * out of the lockfile, and `npm ci` then refuses the lockfile as out of sync
 * ("Missing: @swc/core-darwin-arm64@ from lock file").
 *
 * For every optional dependency the lockfile lacks, it adds an entry with the
 * version the parent pins and the `os`/`cpu`/`libc` the package's name states, so
 * `npm ci` skips it on other platforms, as it would with a complete lockfile.
 * It changes nothing else. Run it after every `npm install` (`npm run lock`);
 * `--check` fails when entries are missing.
 */
'use strict';
/* eslint-disable no-console */

const fs = require('node:fs');
const path = require('node:path');

const lockPath = process.env.LOCKFILE ?? path.resolve(__dirname, '../package-lock.json');
const OS = ['darwin', 'linux', 'win32', 'android', 'freebsd', 'openbsd', 'netbsd', 'sunos', 'aix', 'openharmony'];
const CPU = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el', 'wasm32'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const os = parts.find(p => OS.includes(p));
  const cpu = parts.find(p => CPU.includes(p));
  const platform = {};
  if (os) platform.os = [os];
  if (cpu) platform.cpu = [cpu];
  if (os === 'linux') {
    if (parts.includes('musl') || parts.includes('musleabihf')) platform.libc = ['musl'];
    else if (parts.some(p => p.startsWith('gnu'))) platform.libc = ['glibc'];
  }
  return platform;
}

/** The lockfile key npm resolves `name` to from the package at `parentKey`. */
function resolveKey(packages, parentKey, name) {
  let dir = parentKey;
  for (;;) {
    const key = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[key]) return key;
    if (!dir) return undefined;
    const i = dir.lastIndexOf('/node_modules/');
    dir = i >= 0 ? dir.slice(0, i) : '';
  }
}

const lock = JSON.parse(fs.readFileSync(lockPath, 'utf8'));
const packages = lock.packages;
const added = [];
for (const [parentKey, parent] of Object.entries(packages)) {
  for (const [name, spec] of Object.entries(parent.optionalDependencies ?? {})) {
    if (resolveKey(packages, parentKey, name)) continue;
    if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(spec)) {
      throw new Error(`${parentKey} pins ${name}@${spec}, not an exact version: add it by hand`);
    }
    const rootKey = `node_modules/${name}`;
    const key = packages[rootKey] ? `${parentKey}/node_modules/${name}` : rootKey;
    // Keys in the order npm writes them: version, then alphabetical.
    const fields = { ...(parent.dev ? { dev: true } : {}), optional: true, ...platformOf(name) };
    packages[key] = {
      version: spec,
      ...Object.fromEntries(Object.entries(fields).sort(([a], [b]) => a.localeCompare(b))),
    };
    added.push(`${key}@${spec}`);
  }
}

if (process.argv.includes('--check')) {
  if (added.length > 0) {
    console.error(`package-lock.json lacks ${added.length} platform packages: run "npm run lock" in plugins/`);
    process.exit(1);
  }
  console.log('package-lock.json is complete');
} else {
  lock.packages = Object.fromEntries(
    Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))),
  );
  fs.writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
  console.log(`added ${added.length} platform packages to package-lock.json`);
}
