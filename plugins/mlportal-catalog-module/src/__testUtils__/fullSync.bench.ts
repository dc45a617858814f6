import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import { RecordingConnection } from './recorded';
import { MlportalEntityProvider } from '../provider';
import { readMlportalCatalogSettings } from '../settings';

/**
 * Benchmark, not a test (run with `make bench-plugins`): the provider's full
 * sync of MODELS registered models (default 10,000) from a real
 * `mlportal serve` — paging through /api/v1/models and mapping every model —
 * with its wall time and the heap it holds. The catalog's own processing of
 * the entities is not included. Prints the numbers; asserts nothing about time.
 */
const MODELS = Number(process.env.MODELS ?? 10_000);
const CONCURRENCY = 16;

describe(`full sync of ${MODELS} models`, () => {
  let server: MlportalServer;

  beforeAll(async () => {
    server = await startMlportalServer();
    const admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    await admin.createTeam({ name: 'fraud', backstageGroup: 'group:default/fraud-team' });
    const started = Date.now();
    let next = 0;
    const worker = async () => {
      while (next < MODELS) {
        const i = next++;
        const res = await fetch(`${server.baseUrl}/api/2.0/mlflow/registered-models/create`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${server.adminToken}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({
            name: `model-${String(i).padStart(5, '0')}`,
            tags: [{ key: 'mlportal.team', value: 'fraud' }],
          }),
        });
        if (!res.ok) throw new Error(`seeding model ${i}: ${res.status} ${await res.text()}`);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    // eslint-disable-next-line no-console
    console.log(`seeded ${MODELS} models through the MLflow REST API in ${Date.now() - started} ms`);
  }, 1_800_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('pages, maps and hands over every model', async () => {
    const settings = readMlportalCatalogSettings(
      new ConfigReader({ mlportal: { server: { baseUrl: server.publicBaseUrl } } }),
    );
    const source = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    const runs: string[] = [];
    for (let run = 1; run <= 3; run++) {
      const connection = new RecordingConnection();
      const provider = new MlportalEntityProvider({
        source,
        settings: { ...settings, changes: false },
        logger: mockServices.logger.mock(),
      });
      await provider.connect(connection);
      global.gc?.();
      const heapBefore = process.memoryUsage().heapUsed;
      const started = process.hrtime.bigint();
      const result = await provider.fullSync();
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const heapMiB = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
      const mutation = connection.mutations[0];
      expect(result.models).toBe(MODELS);
      expect(mutation.type === 'full' && mutation.entities.length).toBe(MODELS + 1);
      runs.push(
        `run ${run}: ${ms.toFixed(0)} ms, ${((MODELS / ms) * 1000).toFixed(0)} models/s, ` +
          `heap held by the mutation ≈ ${heapMiB.toFixed(1)} MiB, rss ${(
            process.memoryUsage().rss / 2 ** 20
          ).toFixed(0)} MiB`,
      );
    }
    // eslint-disable-next-line no-console
    console.log(`full sync of ${MODELS} models (pages of 500):\n${runs.join('\n')}`);
  }, 600_000);
});
