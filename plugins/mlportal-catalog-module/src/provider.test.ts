import { mockServices } from '@backstage/backend-test-utils';
import { ConfigReader } from '@backstage/config';
import type { EntityProviderMutation } from '@backstage/plugin-catalog-node';
import {
  churn,
  dataset,
  model,
  RecordedMlportal,
  RecordingConnection,
  team,
  transactions,
  version,
} from './__testUtils__/recorded';
import { MlportalEntityProvider } from './provider';
import { readMlportalCatalogSettings } from './settings';

const settings = readMlportalCatalogSettings(
  new ConfigReader({ mlportal: { server: { baseUrl: 'https://ml.example.com' } } }),
);

function setup(options: { changes?: boolean; pageSize?: number } = {}) {
  const mlportal = new RecordedMlportal();
  mlportal.teams.set('fraud', team('fraud', 'group:default/fraud-team'));
  mlportal.models.set('churn', churn);
  mlportal.datasets.set('transactions', transactions);
  const connection = new RecordingConnection();
  const logger = mockServices.logger.mock();
  const provider = new MlportalEntityProvider({
    source: mlportal,
    settings: { ...settings, changes: options.changes ?? true },
    logger,
    pageSize: options.pageSize,
    minBackoffMs: 1,
  });
  return { mlportal, connection, provider, logger };
}

/** Resolves once `condition` holds; the test's timeout is the deadline. */
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise(resolve => setImmediate(resolve));
}

function names(mutation: EntityProviderMutation): string[] {
  const entities = mutation.type === 'full' ? mutation.entities : mutation.added;
  return entities.map(e => `${e.entity.kind}:${e.entity.metadata.name}`).sort();
}

describe('MlportalEntityProvider full sync', () => {
  it('pages through models, datasets and teams and replaces every entity', async () => {
    const { mlportal, connection, provider } = setup({ changes: false, pageSize: 2 });
    for (let i = 0; i < 4; i++) mlportal.models.set(`m${i}`, model(`m${i}`));
    await provider.connect(connection);
    await expect(provider.fullSync()).resolves.toEqual({ models: 5, datasets: 1 });

    const [mutation] = connection.mutations;
    expect(mutation.type).toBe('full');
    expect(names(mutation)).toEqual([
      'Component:churn',
      'Component:m0',
      'Component:m1',
      'Component:m2',
      'Component:m3',
      'Resource:mlportal-artifact-store',
      'Resource:transactions',
    ]);
    expect(mlportal.calls).toEqual([
      'listTeams ',
      'listModels ',
      'listModels 2',
      'listModels 4',
      'listDatasets ',
    ]);
    if (mutation.type !== 'full') throw new Error('not full');
    expect(new Set(mutation.entities.map(e => e.locationKey))).toEqual(
      new Set(['mlportal-provider:https://ml.example.com']),
    );
    // Owner from the team's Backstage group.
    const component = mutation.entities.find(e => e.entity.metadata.name === 'churn')!.entity;
    expect(component.spec?.owner).toBe('group:default/fraud-team');
  });

  it('starts the change feed at its head before reading, so nothing between is lost', async () => {
    const { mlportal, connection, provider } = setup();
    mlportal.change('model', 'old-1');
    mlportal.change('model', 'old-2');
    await provider.connect(connection);
    await provider.fullSync();
    expect(mlportal.calls.slice(0, 3)).toEqual(['listChanges ', 'listChanges 2', 'listTeams ']);
    expect(provider.cursor).toBe('2');
    await provider.stop();
  });

  it('syncs when the change feed does not answer, and follows it once it does', async () => {
    const { mlportal, connection, provider, logger } = setup();
    mlportal.feedFailures.push(new Error('503 the change feed is not configured'));
    mlportal.feedFailures.push(new Error('503 the change feed is not configured'));
    await provider.connect(connection);
    await expect(provider.fullSync()).resolves.toEqual({ models: 1, datasets: 1 });
    expect(logger.warn).toHaveBeenCalledWith(expect.stringContaining('syncing without it'));
    // Changes before the follower knows the head are the next full sync's.
    await until(() => provider.cursor !== undefined);
    mlportal.change('model', 'churn');
    await connection.waitFor(2);
    expect(names(connection.mutations[1])).toEqual(['Component:churn']);
    await provider.stop();
  });

  it('refuses to sync before the catalog connected it', async () => {
    const { provider } = setup({ changes: false });
    await expect(provider.fullSync()).rejects.toThrow(/not connected/);
  });
});

describe('MlportalEntityProvider deltas from the change feed', () => {
  it('updates the changed model within one long poll, and removes a deleted one', async () => {
    const { mlportal, connection, provider } = setup();
    mlportal.models.set('old', model('old'));
    await provider.connect(connection);
    await provider.fullSync();

    // A new version of churn: the model is read again and re-emitted.
    mlportal.models.set('churn', {
      ...churn,
      latestVersions: [...churn.latestVersions, version('churn', 4)],
    });
    mlportal.change('model-version', 'churn');
    const [, delta] = await connection.waitFor(2);
    expect(delta).toMatchObject({ type: 'delta', removed: [] });
    expect(names(delta)).toEqual(['Component:churn']);
    if (delta.type !== 'delta') throw new Error('not a delta');
    expect(delta.added[0].entity.metadata.annotations!['mlportal.io/latest-version']).toBe('4');

    // Deleted: mlportal answers 404, the entity is removed.
    mlportal.models.delete('old');
    mlportal.change('model', 'old', 'delete');
    const [, , removal] = await connection.waitFor(3);
    expect(removal).toEqual({
      type: 'delta',
      added: [],
      removed: [{ entityRef: 'component:default/old', locationKey: 'mlportal-provider:https://ml.example.com' }],
    });
    await until(() => provider.cursor === '2');
    await provider.stop();
  });

  it('reads each changed name once per page, datasets and teams made since the full sync too', async () => {
    const { mlportal, connection, provider } = setup({ changes: false });
    await provider.connect(connection);
    await provider.fullSync();
    mlportal.calls.length = 0;
    mlportal.teams.set('vision', team('vision', 'group:default/cv'));
    mlportal.models.set('detector', model('detector', { team: 'vision' }));
    mlportal.datasets.set('images', dataset('images', { team: 'vision' }));
    mlportal.change('model', 'detector');
    mlportal.change('model-version', 'detector');
    mlportal.change('model-version', 'detector');
    mlportal.change('dataset', 'images');
    await provider.applyChanges(mlportal.changes);
    expect(mlportal.calls.sort()).toEqual(['getDataset images', 'getModel detector', 'getTeam vision']);
    const delta = connection.mutations[1];
    expect(names(delta)).toEqual(['Component:detector', 'Resource:images']);
    if (delta.type !== 'delta') throw new Error('not a delta');
    expect(delta.added.map(a => a.entity.spec?.owner)).toEqual(['group:default/cv', 'group:default/cv']);
  });

  it('backs off on errors and resumes from its cursor', async () => {
    const { mlportal, connection, provider, logger } = setup();
    await provider.connect(connection);
    await provider.fullSync();
    mlportal.change('model', 'churn');
    await connection.waitFor(2);
    await until(() => provider.cursor === '1');

    await until(() => mlportal.calls.includes('listChanges 1 wait'));
    mlportal.feedFailures.push(new Error('connection refused'));
    mlportal.dropPolls(new Error('connection reset'));
    await until(() => mlportal.calls.filter(c => c === 'listChanges 1 wait').length === 3);
    mlportal.change('model', 'churn');
    await connection.waitFor(3);
    const polls = mlportal.calls.filter(c => c.startsWith('listChanges 1'));
    // The dropped poll, the refused one, then the one that answered, all from cursor 1.
    expect(polls).toEqual(['listChanges 1 wait', 'listChanges 1 wait', 'listChanges 1 wait']);
    expect(names(connection.mutations[2])).toEqual(['Component:churn']);
    expect(logger.warn).toHaveBeenCalledWith(
      expect.stringMatching(/attempt 2\); retrying from cursor 1 in .* s: connection refused/),
    );
    await until(() => provider.cursor === '2');
    await provider.stop();
  });

  it('stops a long poll in flight on shutdown', async () => {
    const { mlportal, connection, provider } = setup();
    await provider.connect(connection);
    await provider.fullSync();
    await until(() => mlportal.calls.includes('listChanges 0 wait'));
    await provider.stop(); // resolves: the poll was aborted, the loop ended
    mlportal.change('model', 'churn');
    await new Promise(resolve => setImmediate(resolve));
    expect(connection.mutations).toHaveLength(1);
  });

  it('applies no delta while a full sync runs, and the full sync no stale data after one', async () => {
    const { mlportal, connection, provider } = setup({ changes: false });
    await provider.connect(connection);
    const order: string[] = [];
    const apply = connection.applyMutation.bind(connection);
    connection.applyMutation = async m => {
      order.push(m.type);
      await apply(m);
    };
    mlportal.change('model', 'churn');
    await Promise.all([provider.fullSync(), provider.applyChanges(mlportal.changes), provider.fullSync()]);
    expect(order).toEqual(['full', 'delta', 'full']);
  });
});
