import { mockCredentials, mockServices, startTestBackend, TestBackend } from '@backstage/backend-test-utils';
import type { Entity } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
// The mlportal backend plugin package, installed next to the module as in an app:
// it provides the mlportal.client service the module calls mlportal through.
// Test composition only: the module's own code depends on @mlportal/plugin-mlportal-node.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import mlportalBackend from '@mlportal/plugin-mlportal-backend';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import request from 'supertest';
import { catalogModuleMlportal } from './module';

const reader = mockCredentials.user.header('user:default/alice');

/** Polls until check returns a value; fails with what it last saw after the deadline. */
async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined>,
  seconds = 60,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

/**
 * The real catalog backend with this module and the mlportal backend plugin
 * package, against a real `mlportal serve`: a model logged through mlportal's
 * MLflow REST API appears as a Component, and a new version reaches it through
 * the change feed while the full sync is half an hour away.
 */
// Each test polls the catalog for up to 60 s (eventually); Jest's own limit is above that.
jest.setTimeout(90_000);

describe('the mlportal entity provider in a real catalog backend', () => {
  let server: MlportalServer;
  let backend: TestBackend;
  let admin: MlportalApiClient;

  /** mlportal's MLflow REST API as the admin. */
  async function mlflow(path: string, body: unknown): Promise<any> {
    const res = await fetch(`${server.baseUrl}/api/2.0/mlflow/${path}`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${text}\n${server.output()}`);
    return JSON.parse(text);
  }

  async function entity(kind: string, name: string): Promise<Entity | undefined> {
    const res = await request(backend.server)
      .get(`/api/catalog/entities/by-name/${kind}/default/${name}`)
      .set('Authorization', reader);
    return res.status === 200 ? (res.body as Entity) : undefined;
  }

  beforeAll(async () => {
    server = await startMlportalServer();
    admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    await admin.createTeam({ name: 'fraud', backstageGroup: 'group:default/fraud-team' });
    await mlflow('registered-models/create', {
      name: 'churn',
      description: 'Predicts which customers leave.',
      tags: [{ key: 'mlportal.team', value: 'fraud' }],
    });
    await mlflow('model-versions/create', { name: 'churn', source: 'mlflow-artifacts:/1/r1/artifacts/model' });

    backend = await startTestBackend({
      features: [
        catalogPlugin,
        catalogModuleMlportal,
        mlportalBackend,
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            catalog: { rules: [{ allow: ['Component', 'System', 'API', 'Resource', 'Location'] }] },
            mlportal: {
              server: { baseUrl: server.publicBaseUrl },
              backstage: { baseUrl: server.baseUrl, privateKey: server.privateKeyPem },
              catalog: {
                // Far away: every later change must come through the change feed.
                schedule: { frequency: { minutes: 30 }, timeout: { minutes: 5 } },
                changes: { wait: '5s' },
              },
            },
          },
        }),
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await backend?.stop();
    await server?.stop();
  });

  it('emits the model as a Component of type ml-model, owned by the team and on the artifact store', async () => {
    const component = await eventually('the churn Component', () => entity('component', 'churn'));
    expect(component.spec).toMatchObject({
      type: 'ml-model',
      lifecycle: 'experimental',
      owner: 'group:default/fraud-team',
      dependsOn: ['resource:default/mlportal-artifact-store'],
    });
    expect(component.metadata.description).toBe('Predicts which customers leave.');
    expect(component.metadata.annotations).toMatchObject({
      'backstage.io/managed-by-location': `url:${server.publicBaseUrl}/api/v1/models/churn`,
      'backstage.io/managed-by-origin-location': `url:${server.publicBaseUrl}/api/v1/models/churn`,
      'backstage.io/techdocs-ref': `url:${server.publicBaseUrl}/api/v1/models/churn/docs`,
      'mlportal.io/model-id': 'churn',
      'mlportal.io/team': 'fraud',
      'mlportal.io/latest-version': '1',
    });
    expect(component.relations).toEqual(
      expect.arrayContaining([
        { type: 'ownedBy', targetRef: 'group:default/fraud-team' },
        { type: 'dependsOn', targetRef: 'resource:default/mlportal-artifact-store' },
      ]),
    );
    const store = await eventually('the artifact store Resource', () =>
      entity('resource', 'mlportal-artifact-store'),
    );
    expect(store.spec).toMatchObject({ type: 'artifact-store' });
  });

  it('shows a new version and its stage through the change feed, long before the next full sync', async () => {
    await eventually('the churn Component', () => entity('component', 'churn'));
    await mlflow('model-versions/create', { name: 'churn', source: 'mlflow-artifacts:/1/r2/artifacts/model' });
    await mlflow('model-versions/transition-stage', {
      name: 'churn',
      version: '2',
      stage: 'Production',
      archive_existing_versions: false,
    });
    const updated = await eventually('churn at version 2 in production', async () => {
      const e = await entity('component', 'churn');
      return e?.metadata.annotations?.['mlportal.io/latest-version'] === '2' &&
        e.spec?.lifecycle === 'production'
        ? e
        : undefined;
    });
    expect(updated.metadata.annotations?.['mlportal.io/stage']).toBe('Production');
  });

  it('adds a new model, a new dataset and the lineage between a model and its data through the change feed', async () => {
    await mlflow('registered-models/create', {
      name: 'fraud score',
      tags: [{ key: 'mlportal.team', value: 'fraud' }],
    });
    const created = await eventually('the "fraud score" Component', async () => {
      const res = await request(backend.server)
        .get('/api/catalog/entities/by-query')
        .query({ filter: 'metadata.annotations.mlportal.io/model-id=fraud score' })
        .set('Authorization', reader);
      return res.status === 200 && res.body.items.length === 1 ? (res.body.items[0] as Entity) : undefined;
    });
    expect(created.metadata.title).toBe('fraud score');
    expect(created.metadata.name).toMatch(/^fraud-score-[0-9a-f]{8}$/);

    const res = await fetch(`${server.baseUrl}/api/v1/datasets`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        team: 'fraud',
        name: 'transactions',
        uri: 's3://data/transactions.parquet',
        contentHash: `sha256:${'a'.repeat(64)}`,
        rowCount: 10,
      }),
    });
    expect(res.status).toBe(201);
    const dataset = await eventually('the transactions Resource', () => entity('resource', 'transactions'));
    expect(dataset.spec).toMatchObject({ type: 'dataset', owner: 'group:default/fraud-team' });
    expect(dataset.metadata.annotations).toMatchObject({
      'mlportal.io/dataset-id': 'transactions',
      'mlportal.io/dataset-version': '1',
      'mlportal.io/content-hash': `sha256:${'a'.repeat(64)}`,
    });

    // Lineage: a run trained on the dataset produces version 3 of churn, which now depends on it.
    const { experiment_id: experimentId } = await mlflow('experiments/create', {
      name: 'churn-training',
      tags: [{ key: 'mlportal.team', value: 'fraud' }],
    });
    const { run } = await mlflow('runs/create', { experiment_id: experimentId });
    await mlflow('runs/log-inputs', {
      run_id: run.info.run_id,
      datasets: [
        {
          dataset: {
            name: 'transactions',
            digest: 'a'.repeat(64),
            source_type: 's3',
            source: JSON.stringify({ uri: 's3://data/transactions.parquet' }),
          },
        },
      ],
    });
    await mlflow('model-versions/create', {
      name: 'churn',
      source: `mlflow-artifacts:/${experimentId}/${run.info.run_id}/artifacts/model`,
      run_id: run.info.run_id,
    });
    const trained = await eventually('churn depending on transactions', async () => {
      const e = await entity('component', 'churn');
      return e?.relations?.some(r => r.type === 'dependsOn' && r.targetRef === 'resource:default/transactions')
        ? e
        : undefined;
    });
    expect([...(trained.spec?.dependsOn as string[])].sort()).toEqual([
      'resource:default/mlportal-artifact-store',
      'resource:default/transactions',
    ]);
    const usedBy = await entity('resource', 'transactions');
    expect(usedBy?.relations).toEqual(
      expect.arrayContaining([{ type: 'dependencyOf', targetRef: 'component:default/churn' }]),
    );
  });

  it('removes a deleted model through the change feed', async () => {
    await eventually('the churn Component', () => entity('component', 'churn'));
    const res = await fetch(`${server.baseUrl}/api/2.0/mlflow/registered-models/delete`, {
      method: 'DELETE',
      headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'churn' }),
    });
    expect(res.status).toBe(200);
    await eventually('churn gone from the catalog', async () =>
      (await entity('component', 'churn')) ? undefined : true,
    );
  });
});
