import type {
  EntityProviderConnection,
  EntityProviderMutation,
} from '@backstage/plugin-catalog-node';
import {
  MlportalApiError,
  type Change,
  type ChangeList,
  type Dataset,
  type ListChangesQuery,
  type LongPollOptions,
  type Model,
  type ModelVersion,
  type Team,
} from '@mlportal/plugin-mlportal-common';
import type { MlportalCatalogSource } from '../provider';

// Answers shaped exactly as internal/api/openapi.yaml specifies them: the
// generated types (Model, Dataset, Team, ChangeList, …) check every field.

export const AT = '2026-11-22T12:00:00Z';

export function team(name: string, backstageGroup?: string): Team {
  return {
    name,
    displayName: name,
    ...(backstageGroup ? { backstageGroup } : {}),
    members: [],
    gpuQuota: [],
    fairShareWeight: 1,
    createdAt: AT,
    updatedAt: AT,
    createdBy: 'admin',
    version: 1,
  };
}

export function version(modelName: string, v: number, extra: Partial<ModelVersion> = {}): ModelVersion {
  return {
    model: modelName,
    version: v,
    stage: 'None',
    aliases: [],
    approval: { status: 'pending' },
    createdAt: AT,
    createdBy: 'user:default/alice',
    ...extra,
  };
}

export function model(name: string, extra: Partial<Model> = {}): Model {
  return {
    name,
    team: 'fraud',
    aliases: {},
    latestVersions: [],
    tags: {},
    createdAt: AT,
    updatedAt: AT,
    ...extra,
  };
}

export function dataset(name: string, extra: Partial<Dataset> = {}): Dataset {
  return { name, team: 'fraud', versions: [], ...extra };
}

/** The churn model as GET /api/v1/models/churn answers it once version 2 is in Production. */
export const churn: Model = model('churn', {
  project: 'churn-project',
  description: 'Predicts which customers leave.',
  framework: 'sklearn',
  stage: 'Production',
  experimentId: '7',
  aliases: { champion: 2, challenger: 3 },
  latestVersions: [
    version('churn', 2, {
      stage: 'Production',
      datasets: [{ name: 'transactions', version: 1, quality: 'passed' }],
    }),
    version('churn', 3, {
      stage: 'Staging',
      datasets: [
        { name: 'transactions', version: 2, quality: 'passed' },
        { name: 'customers', version: 1, quality: 'passed' },
      ],
    }),
  ],
  deployments: [
    { environment: 'production', version: 2, state: 'ready', url: 'https://churn.example.com/invocations' },
  ],
});

export const transactions: Dataset = dataset('transactions', {
  versions: [
    {
      name: 'transactions',
      team: 'fraud',
      project: 'churn-project',
      version: 2,
      uri: 's3://data/transactions/2026-11.parquet',
      contentHash: 'sha256:bb',
      quality: { status: 'passed', checks: [] },
      createdAt: AT,
      createdBy: 'user:default/alice',
    },
    {
      name: 'transactions',
      team: 'fraud',
      version: 1,
      uri: 's3://data/transactions/2026-10.parquet',
      contentHash: 'sha256:aa',
      quality: { status: 'failed', checks: [] },
      createdAt: AT,
      createdBy: 'user:default/alice',
    },
  ],
});

type Paged<T> = { items: T[]; nextPageToken?: string };

/** Pages of `limit` items; the token is the next offset. */
function page<T>(all: T[], query: { limit?: number; pageToken?: string }): Paged<T> {
  const start = Number(query.pageToken ?? 0);
  const limit = query.limit ?? 50;
  const items = all.slice(start, start + limit);
  return start + limit < all.length ? { items, nextPageToken: String(start + limit) } : { items };
}

function notFound(what: string): MlportalApiError {
  return new MlportalApiError({ status: 404, code: 'not_found', message: `${what} not found` });
}

/**
 * A stand-in for mlportal's API, for unit tests of the provider: models,
 * datasets and teams in memory, lists paged as the API pages them, and a change
 * feed whose long poll waits for `change()` (or the caller's abort). The
 * module's integration test runs the provider against a real `mlportal serve`.
 */
export class RecordedMlportal implements MlportalCatalogSource {
  readonly models = new Map<string, Model>();
  readonly datasets = new Map<string, Dataset>();
  readonly teams = new Map<string, Team>();
  readonly changes: Change[] = [];
  readonly calls: string[] = [];
  /** Makes the next calls of `listChanges` fail with these errors, in order. */
  readonly feedFailures: Error[] = [];
  private waiters: { wake(): void; drop(error: Error): void }[] = [];

  async listModels(query: { limit?: number; pageToken?: string } = {}) {
    this.calls.push(`listModels ${query.pageToken ?? ''}`);
    return page([...this.models.values()].sort((a, b) => a.name.localeCompare(b.name)), query);
  }

  async getModel(name: string) {
    this.calls.push(`getModel ${name}`);
    const found = this.models.get(name);
    if (!found) throw notFound(`model ${name}`);
    return found;
  }

  async listDatasets(query: { limit?: number; pageToken?: string } = {}) {
    this.calls.push(`listDatasets ${query.pageToken ?? ''}`);
    return page([...this.datasets.values()].sort((a, b) => a.name.localeCompare(b.name)), query);
  }

  async getDataset(name: string) {
    this.calls.push(`getDataset ${name}`);
    const found = this.datasets.get(name);
    if (!found) throw notFound(`dataset ${name}`);
    return found;
  }

  async listTeams(query: { limit?: number; pageToken?: string } = {}) {
    this.calls.push(`listTeams ${query.pageToken ?? ''}`);
    return page([...this.teams.values()], query);
  }

  async getTeam(name: string) {
    this.calls.push(`getTeam ${name}`);
    const found = this.teams.get(name);
    if (!found) throw notFound(`team ${name}`);
    return { value: found, etag: '"1"' };
  }

  /** Records a change on the feed and wakes long polls. */
  change(kind: Change['kind'], name: string, op: Change['op'] = 'upsert') {
    this.changes.push({ kind, name, op, at: AT });
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach(w => w.wake());
  }

  /** Fails the long polls in flight with `error`, as a dropped connection does. */
  dropPolls(error: Error) {
    const waiters = this.waiters;
    this.waiters = [];
    waiters.forEach(w => w.drop(error));
  }

  async listChanges(query: ListChangesQuery = {}, options: LongPollOptions = {}): Promise<ChangeList> {
    this.calls.push(`listChanges ${query.after ?? ''}${query.wait ? ' wait' : ''}`);
    const failure = this.feedFailures.shift();
    if (failure) throw failure;
    const after = Number(query.after ?? 0);
    const limit = query.limit ?? 500;
    if (after >= this.changes.length && query.wait) {
      await new Promise<void>((resolve, reject) => {
        const signal = options.signal;
        if (signal?.aborted) {
          reject(signal.reason);
          return;
        }
        this.waiters.push({ wake: resolve, drop: reject });
        signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
      });
    }
    const items = this.changes.slice(after, after + limit);
    return { items, next: String(after + items.length) };
  }
}

/** A catalog connection that records the mutations it is given. */
export class RecordingConnection implements EntityProviderConnection {
  readonly mutations: EntityProviderMutation[] = [];
  private listeners: (() => void)[] = [];

  async applyMutation(mutation: EntityProviderMutation): Promise<void> {
    this.mutations.push(mutation);
    const listeners = this.listeners;
    this.listeners = [];
    listeners.forEach(l => l());
  }

  async refresh(): Promise<void> {}

  /** Resolves once `count` mutations have been applied. */
  async waitFor(count: number): Promise<EntityProviderMutation[]> {
    while (this.mutations.length < count) {
      await new Promise<void>(resolve => this.listeners.push(resolve));
    }
    return this.mutations;
  }
}
