import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { mockCredentials, mockServices, startTestBackend, TestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import techdocsPlugin from '@backstage/plugin-techdocs-backend';
import type { DocsTree } from '@mlportal/plugin-mlportal-common';
// The mlportal backend plugin package, installed next to the module as in an app:
// its URL reader reads the model docs for TechDocs' url preparer.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import mlportalBackend from '@mlportal/plugin-mlportal-backend';
import request from 'supertest';
import { techdocsModuleMlportal } from './module';
import { checkMkdocs } from './__testUtils__/mkdocs';

// GET /api/v1/models/churn/docs as internal/api/openapi.yaml specifies it.
const tree: DocsTree = {
  files: [
    {
      path: 'mkdocs.yml',
      content:
        'site_name: churn\nnav:\n  - Overview: index.md\n  - Versions: versions.md\nplugins:\n  - techdocs-core\n',
    },
    { path: 'docs/index.md', content: '# churn\n\nPredicts which customers leave. Owned by **fraud**.\n' },
    { path: 'docs/versions.md', content: '# Versions\n\n| version | stage |\n| --- | --- |\n| 2 | Production |\n' },
  ],
};

/**
 * A stand-in for mlportal's docs endpoint with the recorded answer above (the
 * Go side's docs generation is being built; its own test builds its trees with
 * mkdocs). It checks that the caller is the TechDocs plugin.
 */
function recordedDocs() {
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const sub = auth.startsWith('Bearer ')
      ? JSON.parse(Buffer.from(auth.split('.')[1] ?? '', 'base64url').toString() || '{}').sub
      : undefined;
    seen.push(`${req.url} ${sub} ${req.headers['if-none-match'] ?? ''}`.trim());
    if (req.url !== '/api/v1/models/churn/docs') {
      res.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":{"code":"not_found","message":"no such model"}}');
    } else if (req.headers['if-none-match'] === '"docs-1"') {
      res.writeHead(304, { ETag: '"docs-1"' }).end();
    } else {
      res.writeHead(200, { 'Content-Type': 'application/json', ETag: '"docs-1"' }).end(JSON.stringify(tree));
    }
  });
  return { server, seen };
}

const reader = mockCredentials.user.header('user:default/alice');

async function eventually<T>(what: string, check: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

/**
 * The real TechDocs backend (local generator: real mkdocs with
 * mkdocs-techdocs-core, local publisher) and catalog backend, with this
 * module and the mlportal URL reader: a model Component's TechDocs are built
 * from mlportal's docs tree although `techdocs.builder` is `external`, and
 * served as HTML.
 */
jest.setTimeout(120_000);

describe("TechDocs of a model from mlportal's docs tree", () => {
  const { server, seen } = recordedDocs();
  let backend: TestBackend;
  let dir: string;
  let base: string;

  beforeAll(async () => {
    checkMkdocs();
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlportal-techdocs-test-'));
    const catalogFile = path.join(dir, 'catalog-info.yaml');
    fs.writeFileSync(
      catalogFile,
      [
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: churn',
        '  annotations:',
        `    backstage.io/techdocs-ref: url:${base}/api/v1/models/churn/docs`,
        'spec: {type: ml-model, lifecycle: production, owner: group:default/fraud}',
        '---',
        'apiVersion: backstage.io/v1alpha1',
        'kind: Component',
        'metadata:',
        '  name: handbook',
        '  annotations:',
        '    backstage.io/techdocs-ref: dir:.',
        'spec: {type: documentation, lifecycle: production, owner: group:default/fraud}',
        '',
      ].join('\n'),
    );
    const { privateKey } = generateKeyPairSync('ed25519');
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        techdocsPlugin,
        techdocsModuleMlportal,
        mlportalBackend,
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            catalog: { locations: [{ type: 'file', target: catalogFile }] },
            techdocs: {
              // As in app-config.yaml: other docs are published by CI.
              builder: 'external',
              generator: { runIn: 'local' },
              publisher: { type: 'local', local: { publishDirectory: path.join(dir, 'site') } },
            },
            mlportal: {
              server: { baseUrl: base },
              backstage: {
                baseUrl: base,
                privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
              },
            },
          },
        }),
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
    await new Promise(resolve => server.close(resolve));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function sync(name: string): Promise<string> {
    await eventually(`${name} in the catalog`, async () => {
      const res = await request(backend.server)
        .get(`/api/catalog/entities/by-name/component/default/${name}`)
        .set('Authorization', reader);
      return res.status === 200 ? true : undefined;
    });
    const res = await request(backend.server)
      .get(`/api/techdocs/sync/default/component/${name}`)
      .set('Authorization', reader)
      .buffer(true)
      .parse((response, callback) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () => callback(null, text));
      });
    return res.body as string;
  }

  it('builds the model docs with mkdocs and serves them', async () => {
    const events = await sync('churn');
    expect(events).toContain('event: finish\ndata: {"updated":true}');
    expect(seen).toContain('/api/v1/models/churn/docs plugin:techdocs');

    const index = await request(backend.server)
      .get('/api/techdocs/static/docs/default/component/churn/index.html')
      .set('Authorization', reader);
    expect(index.status).toBe(200);
    expect(index.text).toContain('Predicts which customers leave.');
    const versions = await request(backend.server)
      .get('/api/techdocs/static/docs/default/component/churn/versions/index.html')
      .set('Authorization', reader);
    expect(versions.text).toContain('Production');
    const metadata = await request(backend.server)
      .get('/api/techdocs/metadata/techdocs/default/component/churn')
      .set('Authorization', reader);
    expect(metadata.body).toMatchObject({ site_name: 'churn', etag: '"docs-1"' });
  });

  it('leaves other entities to CI, as techdocs.builder external says', async () => {
    const events = await sync('handbook');
    expect(events).toContain('event: finish\ndata: {"updated":false}');
    expect(fs.existsSync(path.join(dir, 'site/default/component/handbook'))).toBe(false);
  });
});
