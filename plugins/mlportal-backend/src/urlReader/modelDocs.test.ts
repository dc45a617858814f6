import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  coreServices,
  createBackendPlugin,
  UrlReaderService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend, TestBackend } from '@backstage/backend-test-utils';
import type { DocsTree } from '@mlportal/plugin-mlportal-common';
import { generateKeyPairSync } from 'node:crypto';
import { mlportalUrlReaderFactory } from './factory';

/** A plugin that hands out its UrlReaderService, as TechDocs' url preparer uses it. */
let techdocsReader: UrlReaderService | undefined;
const techdocsLikePlugin = createBackendPlugin({
  pluginId: 'techdocs',
  register(env) {
    env.registerInit({
      deps: { urlReader: coreServices.urlReader },
      async init({ urlReader }) {
        techdocsReader = urlReader;
      },
    });
  },
});

// GET /api/v1/models/{model}/docs as internal/api/openapi.yaml specifies it (DocsTree, ETag).
const tree: DocsTree = {
  files: [
    {
      path: 'mkdocs.yml',
      content: 'site_name: churn\nnav:\n  - Overview: index.md\n  - Versions: versions.md\nplugins:\n  - techdocs-core\n',
    },
    { path: 'docs/index.md', content: '# churn\n\nOwned by fraud.\n' },
    { path: 'docs/versions.md', content: '| version | stage |\n| --- | --- |\n| 2 | Production |\n' },
  ],
};

/**
 * A stand-in for the mlportal server's docs endpoint, answering recorded
 * responses shaped by the OpenAPI document (the Go side answers 503 until it
 * is built; the catalog module's integration test reads a real server's docs).
 */
function recordedMlportal() {
  const requests: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    if (req.url === '/api/v1/models/churn/docs') {
      if (req.headers['if-none-match'] === '"docs-1"') {
        res.writeHead(304, { ETag: '"docs-1"' }).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"docs-1"' });
      res.end(JSON.stringify(tree));
      return;
    }
    if (req.url === '/api/v1/models/evil/docs') {
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"e"' });
      res.end(JSON.stringify({ files: [{ path: '../outside.md', content: 'x' }] }));
      return;
    }
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        error: { code: 'not_found', message: 'no registered model "nope"' },
        requestId: 'r-1',
      }),
    );
  });
  return { server, requests };
}

describe("MlportalUrlReader.readTree of a model's docs", () => {
  const { server, requests } = recordedMlportal();
  let baseUrl: string;
  let backend: TestBackend;
  let reader: UrlReaderService;

  beforeAll(async () => {
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { privateKey } = generateKeyPairSync('ed25519');
    backend = await startTestBackend({
      features: [
        mlportalUrlReaderFactory,
        techdocsLikePlugin,
        mockServices.rootConfig.factory({
          data: {
            mlportal: {
              server: { baseUrl: 'https://ml.example.com' },
              backstage: {
                baseUrl,
                privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
              },
            },
          },
        }),
      ],
    });
    reader = techdocsReader!;
  });

  afterAll(async () => {
    await backend?.stop();
    await new Promise(resolve => server.close(resolve));
  });

  it('writes mkdocs.yml and docs/** to a directory, with the docs ETag, as the techdocs plugin', async () => {
    const response = await reader.readTree('https://ml.example.com/api/v1/models/churn/docs');
    expect(response.etag).toBe('"docs-1"');
    const dir = await response.dir();
    try {
      expect(fs.readFileSync(path.join(dir, 'mkdocs.yml'), 'utf8')).toBe(tree.files[0].content);
      expect(fs.readFileSync(path.join(dir, 'docs/index.md'), 'utf8')).toBe(tree.files[1].content);
      expect(fs.readdirSync(path.join(dir, 'docs')).sort()).toEqual(['index.md', 'versions.md']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Signed as the reading plugin: an EdDSA JWT whose subject is plugin:techdocs.
    const auth = requests.at(-1)!.authorization!;
    const claims = JSON.parse(Buffer.from(auth.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: 'plugin:techdocs', kind: 'service', aud: 'mlportal' });
  });

  it('lists the files and honours a filter', async () => {
    const response = await reader.readTree(`${baseUrl}/api/v1/models/churn/docs`, {
      filter: p => p.startsWith('docs/'),
    });
    const files = await response.files();
    expect(files.map(f => f.path).sort()).toEqual(['docs/index.md', 'docs/versions.md']);
    expect((await files.find(f => f.path === 'docs/index.md')!.content()).toString()).toContain('# churn');
  });

  it('throws NotModifiedError for the ETag it gave', async () => {
    await expect(
      reader.readTree('https://ml.example.com/api/v1/models/churn/docs', { etag: '"docs-1"' }),
    ).rejects.toMatchObject({ name: 'NotModifiedError' });
    expect(requests.at(-1)!['if-none-match']).toBe('"docs-1"');
    const again = await reader.readTree('https://ml.example.com/api/v1/models/churn/docs', {
      etag: '"docs-0"',
    });
    expect(again.etag).toBe('"docs-1"');
  });

  it("passes mlportal's refusal on with its message", async () => {
    await expect(
      reader.readTree('https://ml.example.com/api/v1/models/nope/docs'),
    ).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('no registered model "nope"'),
    });
  });

  it('refuses a tree whose paths leave it', async () => {
    const response = reader.readTree('https://ml.example.com/api/v1/models/evil/docs');
    await expect(response).rejects.toThrow(/not a relative path inside the tree/);
  });

  it('reads docs only as a tree, and other API paths not at all', async () => {
    await expect(
      reader.readUrl('https://ml.example.com/api/v1/models/churn/docs'),
    ).rejects.toMatchObject({ name: 'NotImplementedError' });
    // Not a docs URL: left to the other readers, which backend.reading.allow does not allow.
    await expect(reader.readTree(`${baseUrl}/api/v1/models/churn/lineage`)).rejects.toThrow(
      /not allowed/,
    );
  });
});
