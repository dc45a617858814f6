import type { LoggerService, SchedulerServiceTaskRunner } from '@backstage/backend-plugin-api';
import type { Entity } from '@backstage/catalog-model';
import type {
  DeferredEntity,
  EntityProvider,
  EntityProviderConnection,
} from '@backstage/plugin-catalog-node';
import {
  MlportalApiError,
  paginate,
  type Change,
  type MlportalApiClient,
} from '@mlportal/plugin-mlportal-common';
import {
  artifactStoreEntity,
  datasetEntity,
  datasetEntityRef,
  groupsByTeam,
  modelEntity,
  modelEntityRef,
  providerLocationKey,
  type MappingContext,
} from './entities';
import { ChangeFollower } from './follower';
import type { MlportalCatalogSettings } from './settings';

/** The operations of the mlportal client the provider uses. */
export type MlportalCatalogSource = Pick<
  MlportalApiClient,
  'listModels' | 'getModel' | 'listDatasets' | 'getDataset' | 'listTeams' | 'getTeam' | 'listChanges'
>;

/** Options of {@link MlportalEntityProvider}. */
export interface MlportalEntityProviderOptions {
  source: MlportalCatalogSource;
  settings: MlportalCatalogSettings;
  logger: LoggerService;
  /** Runs the full sync on the configured schedule; without one, call `fullSync()` yourself. */
  taskRunner?: SchedulerServiceTaskRunner;
  /** Page size of the full sync's lists (default 500, the API's maximum). */
  pageSize?: number;
  /** Retries of the change follower start at this pause (default 1 s). */
  minBackoffMs?: number;
}

/** What a full sync emitted. */
export interface FullSyncResult {
  models: number;
  datasets: number;
}

/** How many models or datasets a delta reads at once. */
const DELTA_CONCURRENCY = 4;

/**
 * Emits mlportal's registered models as `Component`s (type `ml-model`), its
 * datasets as `Resource`s (type `dataset`) and its artifact store as a
 * `Resource` (type `artifact-store`), as the Backstage service through the
 * `mlportal.client` service.
 *
 * A **full sync** on the schedule pages through `/api/v1/models`,
 * `/api/v1/datasets` and `/api/v1/teams` and replaces every entity of the
 * provider (`applyMutation({type: 'full'})`). Between full syncs a
 * {@link ChangeFollower} long-polls `/api/v1/changes` and applies **deltas**:
 * each changed model or dataset is read again and added, or removed when
 * mlportal no longer has it. Full syncs and deltas never interleave (each reads
 * then writes under one lock), so a delta never overwrites a newer full sync
 * nor the reverse. It reads nothing else (no versions, lineage or docs: TechDocs
 * reads docs itself through the mlportal URL reader).
 */
export class MlportalEntityProvider implements EntityProvider {
  private connection: EntityProviderConnection | undefined;
  private readonly follower: ChangeFollower | undefined;
  private groups = new Map<string, string>();
  private lock: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: MlportalEntityProviderOptions) {
    if (options.settings.changes) {
      this.follower = new ChangeFollower({
        feed: options.source,
        apply: changes => this.applyChanges(changes),
        logger: options.logger,
        wait: options.settings.wait,
        maxBackoffMs: options.settings.maxBackoffMs,
        minBackoffMs: options.minBackoffMs,
      });
    }
  }

  getProviderName(): string {
    return 'mlportal';
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    await this.options.taskRunner?.run({
      id: `${this.getProviderName()}:full-sync`,
      fn: async () => {
        await this.fullSync();
      },
    });
    this.follower?.start();
  }

  /** Stops following the change feed. */
  async stop(): Promise<void> {
    await this.follower?.stop();
  }

  /** The change feed cursor the follower resumes from; undefined before it is known. */
  get cursor(): string | undefined {
    return this.follower?.position;
  }

  /** Reads every model, dataset and team and replaces the provider's entities. */
  async fullSync(): Promise<FullSyncResult> {
    return this.exclusive(async () => {
      const connection = this.connected();
      const started = Date.now();
      // The follower starts after the feed's head known now: what changes
      // while this sync reads is applied after it as a delta. A feed that
      // does not answer does not stop the sync; the next one catches up.
      try {
        await this.follower?.head();
      } catch (error) {
        this.options.logger.warn(
          `mlportal's change feed did not answer (${String((error as Error)?.message ?? error)}); ` +
            'syncing without it, deltas start once it answers',
        );
      }
      const { source } = this.options;
      const limit = this.options.pageSize ?? 500;

      const teams = [];
      for await (const team of paginate(q => source.listTeams({ ...q, limit }))) teams.push(team);
      this.groups = groupsByTeam(teams);
      const ctx = this.context();

      const entities: Entity[] = [artifactStoreEntity(ctx)];
      let models = 0;
      for await (const model of paginate(q => source.listModels({ ...q, limit }))) {
        entities.push(modelEntity(model, ctx));
        models += 1;
      }
      let datasets = 0;
      for await (const dataset of paginate(q => source.listDatasets({ ...q, limit }))) {
        entities.push(datasetEntity(dataset, ctx));
        datasets += 1;
      }
      await connection.applyMutation({ type: 'full', entities: this.deferred(entities) });
      this.options.logger.info(
        `mlportal full sync: ${models} models, ${datasets} datasets and the artifact store ` +
          `in ${Date.now() - started} ms`,
      );
      return { models, datasets };
    });
  }

  /**
   * Applies a page of the change feed: every model (for `model` and
   * `model-version` changes) and dataset named is read again and added, or
   * removed when mlportal answers 404.
   */
  async applyChanges(changes: Change[]): Promise<void> {
    const models = unique(changes.filter(c => c.kind !== 'dataset').map(c => c.name));
    const datasets = unique(changes.filter(c => c.kind === 'dataset').map(c => c.name));
    await this.exclusive(async () => {
      const connection = this.connected();
      const ctxBase = this.context();
      const { source } = this.options;
      const added: Entity[] = [];
      const removed: string[] = [];

      const foundModels = await eachLimited(models, name => orMissing(source.getModel(name)));
      await this.learnTeams(foundModels.flatMap(m => (m ? [m.team] : [])));
      const foundDatasets = await eachLimited(datasets, name => orMissing(source.getDataset(name)));
      await this.learnTeams(foundDatasets.flatMap(d => (d ? [d.team] : [])));

      const ctx = { ...ctxBase, groupOf: (team: string) => this.groups.get(team) };
      models.forEach((name, i) => {
        const model = foundModels[i];
        if (model) added.push(modelEntity(model, ctx));
        else removed.push(modelEntityRef(name, ctx));
      });
      datasets.forEach((name, i) => {
        const dataset = foundDatasets[i];
        if (dataset) added.push(datasetEntity(dataset, ctx));
        else removed.push(datasetEntityRef(name, ctx));
      });
      const locationKey = providerLocationKey(ctx);
      await connection.applyMutation({
        type: 'delta',
        added: this.deferred(added),
        removed: removed.map(entityRef => ({ entityRef, locationKey })),
      });
      this.options.logger.debug(
        `mlportal delta: ${added.length} entities updated, ${removed.length} removed`,
      );
    });
  }

  private context(): MappingContext {
    const { settings } = this.options;
    return {
      namespace: settings.namespace,
      publicBaseUrl: settings.publicBaseUrl,
      mlflowUiUrl: settings.mlflowUiUrl,
      techdocs: settings.techdocs,
      artifactStore: settings.artifactStore,
      groupOf: team => this.groups.get(team),
    };
  }

  /** Reads the teams not seen yet (a team made since the last full sync). */
  private async learnTeams(teams: string[]): Promise<void> {
    const unknown = unique(teams).filter(t => !this.groups.has(t));
    const found = await eachLimited(unknown, name => orMissing(this.options.source.getTeam(name)));
    unknown.forEach((name, i) => this.groups.set(name, found[i]?.value.backstageGroup ?? ''));
  }

  private deferred(entities: Entity[]): DeferredEntity[] {
    const locationKey = providerLocationKey(this.options.settings);
    return entities.map(entity => ({ entity, locationKey }));
  }

  private connected(): EntityProviderConnection {
    if (!this.connection) {
      throw new Error('the mlportal entity provider is not connected to the catalog yet');
    }
    return this.connection;
  }

  /** Runs `fn` after every earlier full sync or delta has finished. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn, fn);
    this.lock = run.catch(() => undefined);
    return run;
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/** The value, or undefined when mlportal answers 404. */
async function orMissing<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (error) {
    if (error instanceof MlportalApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** Maps `items` through `fn` with at most {@link DELTA_CONCURRENCY} calls in flight, in order. */
async function eachLimited<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(DELTA_CONCURRENCY, items.length) }, worker));
  return results;
}
