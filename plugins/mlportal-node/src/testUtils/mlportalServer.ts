import { ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { resolvePackagePath } from '@backstage/backend-plugin-api';

/** A real `mlportal serve` process started for a test. */
export interface MlportalServer {
  /** `http://127.0.0.1:<port>`: where the server listens. */
  baseUrl: string;
  /**
   * `http://localhost:<port>`: the server's external URL as it derives it from its
   * loopback address, which the repository URLs it hands out start with.
   */
  publicBaseUrl: string;
  /** The admin bearer token (MLPORTAL_ADMIN_TOKEN) the server was started with. */
  adminToken: string;
  /** The Ed25519 private key (PKCS#8 PEM) whose public key the server trusts for Backstage tokens. */
  privateKeyPem: string;
  /** The server's output so far, for failure messages. */
  output(): string;
  stop(): Promise<void>;
}

const PACKAGE_DIR = resolvePackagePath('@mlportal/plugin-mlportal-node');

/** The mlportal binary: $MLPORTAL_BIN, else bin/mlportal at the repository root (`make build`). */
export function mlportalBinary(): string {
  return path.resolve(process.env.MLPORTAL_BIN ?? path.join(PACKAGE_DIR, '../../bin/mlportal'));
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `mlportal serve` on a free loopback port with a fresh data directory, a
 * fresh Ed25519 key pair and `group:default/platform-admins` as admins, and waits
 * until GET /readyz answers 200.
 */
export async function startMlportalServer(): Promise<MlportalServer> {
  const binary = mlportalBinary();
  if (!fs.existsSync(binary)) {
    throw new Error(
      `mlportal binary not found at ${binary}: run "make build" at the repository root, ` +
        'or point MLPORTAL_BIN at a built binary',
    );
  }

  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlportal-plugin-test-'));
  const configFile = path.join(dir, 'app-config.yaml');
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  fs.writeFileSync(
    configFile,
    [
      'mlportal:',
      '  auth:',
      '    admins: [group:default/platform-admins]',
      '    backstage:',
      '      publicKeys:',
      '        - |',
      ...publicKeyPem.trim().split('\n').map(line => `          ${line}`),
      '',
    ].join('\n'),
  );

  const port = await freePort();
  const adminToken = `admin-${Math.random().toString(36).slice(2)}${Date.now()}`;
  const baseUrl = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    binary,
    ['serve', '--config', configFile, '--addr', `127.0.0.1:${port}`, '--data-dir', dataDir],
    {
      env: { ...process.env, MLPORTAL_ADMIN_TOKEN: adminToken },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout?.on('data', chunk => {
    output += chunk;
  });
  child.stderr?.on('data', chunk => {
    output += chunk;
  });
  const exited = new Promise<number | null>(resolve => child.once('exit', code => resolve(code)));

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`mlportal serve exited with ${child.exitCode} before it was ready:\n${output}`);
    }
    try {
      const response = await fetch(`${baseUrl}/readyz`);
      if (response.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`mlportal serve was not ready within 30 s:\n${output}`);
    }
    await new Promise(resolve => setTimeout(resolve, 100));
  }

  const publicBaseUrl = `http://localhost:${port}`;
  return { baseUrl, publicBaseUrl, adminToken, privateKeyPem, output: () => output, stop };
}
