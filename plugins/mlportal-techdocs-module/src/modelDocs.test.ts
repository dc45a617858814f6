import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mockCredentials, mockServices, startTestBackend, TestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import techdocsPlugin from '@backstage/plugin-techdocs-backend';
import catalogModuleMlportal from '@mlportal/plugin-catalog-backend-module-mlportal';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
// The mlportal backend plugin package, installed next to the modules as in an app.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import mlportalBackend from '@mlportal/plugin-mlportal-backend';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import request from 'supertest';
import { techdocsModuleMlportal } from './module';
import { checkMkdocs } from './__testUtils__/mkdocs';

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
 * End to end, all real: a model logged through mlportal's MLflow REST API
 * (a real `mlportal serve`) reaches the real catalog through the mlportal
 * catalog module, and the real TechDocs backend builds the docs mlportal
 * generated for it with mkdocs and mkdocs-techdocs-core (the Jest global setup
 * puts `make techdocs-pyenv`'s virtualenv on PATH) and serves them.
 */
describe("a model's TechDocs, from mlportal to the rendered page", () => {
  let server: MlportalServer;
  let backend: TestBackend;
  let dir: string;

  async function mlflow(route: string, body: unknown): Promise<void> {
    const res = await fetch(`${server.baseUrl}/api/2.0/mlflow/${route}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${route}: ${res.status} ${await res.text()}`);
  }

  beforeAll(async () => {
    checkMkdocs();
    server = await startMlportalServer();
    await new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    }).createTeam({ name: 'fraud', backstageGroup: 'group:default/fraud-team' });
    await mlflow('registered-models/create', {
      name: 'churn',
      description: 'Predicts which customers leave.',
      tags: [{ key: 'mlportal.team', value: 'fraud' }],
    });
    await mlflow('model-versions/create', { name: 'churn', source: 'mlflow-artifacts:/1/r1/artifacts/model' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlportal-model-docs-test-'));
    backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleMlportal,
        techdocsPlugin,
        techdocsModuleMlportal,
        mlportalBackend,
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            catalog: { rules: [{ allow: ['Component', 'Resource'] }] },
            techdocs: {
              builder: 'external',
              generator: { runIn: 'local' },
              publisher: { type: 'local', local: { publishDirectory: dir } },
            },
            mlportal: {
              server: { baseUrl: server.publicBaseUrl },
              backstage: { baseUrl: server.baseUrl, privateKey: server.privateKeyPem },
            },
          },
        }),
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await backend?.stop();
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds and serves the docs mlportal generated for the model', async () => {
    const component = await eventually('the churn Component', async () => {
      const res = await request(backend.server)
        .get('/api/catalog/entities/by-name/component/default/churn')
        .set('Authorization', reader);
      return res.status === 200 ? (res.body as Entity) : undefined;
    });
    expect(component.metadata.annotations?.['backstage.io/techdocs-ref']).toBe(
      `url:${server.publicBaseUrl}/api/v1/models/churn/docs`,
    );

    const sync = await request(backend.server)
      .get('/api/techdocs/sync/default/component/churn')
      .set('Authorization', reader)
      .buffer(true)
      .parse((response, callback) => {
        let text = '';
        response.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        response.on('end', () => callback(null, text));
      });
    expect(sync.body).toContain('event: finish\ndata: {"updated":true}');

    const index = await request(backend.server)
      .get('/api/techdocs/static/docs/default/component/churn/index.html')
      .set('Authorization', reader);
    expect(index.status).toBe(200);
    expect(index.text).toContain('churn');
    // mlportal escapes user text for Markdown; Python-Markdown writes the escaped dot as an entity.
    expect(index.text).toContain('<p>Predicts which customers leave&#46;</p>');
    const metadata = await request(backend.server)
      .get('/api/techdocs/metadata/techdocs/default/component/churn')
      .set('Authorization', reader);
    const docs = await fetch(`${server.baseUrl}/api/v1/models/churn/docs`, {
      headers: { Authorization: `Bearer ${server.adminToken}` },
    });
    expect(metadata.body.etag).toBe(docs.headers.get('etag'));
  }, 180_000);
});
