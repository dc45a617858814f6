import {
  readSchedulerServiceTaskScheduleDefinitionFromConfig,
  type SchedulerServiceTaskScheduleDefinition,
} from '@backstage/backend-plugin-api';
import { readDurationFromConfig, type Config } from '@backstage/config';
import { InputError } from '@backstage/errors';
import { durationToMilliseconds } from '@backstage/types';

/** What the catalog module reads from `mlportal.catalog` (and mlportal's URLs). */
export interface MlportalCatalogSettings {
  /** When the full sync runs. */
  schedule: SchedulerServiceTaskScheduleDefinition;
  /** Follow the change feed between full syncs. */
  changes: boolean;
  /** The long poll's `wait`, as mlportal reads it (`25s`). */
  wait: string;
  /** Retries after errors back off from 1 s up to this. */
  maxBackoffMs: number;
  namespace: string;
  /**
   * mlportal's public URL (`mlportal.server.baseUrl`, else
   * `mlportal.backstage.baseUrl`): entity links, locations and TechDocs refs
   * start with it.
   */
  publicBaseUrl: string;
  mlflowUiUrl?: string;
  techdocs: boolean;
  artifactStore: { name: string; owner: string; description: string };
}

export const DEFAULT_SCHEDULE: SchedulerServiceTaskScheduleDefinition = {
  frequency: { minutes: 30 },
  timeout: { minutes: 10 },
};

/** The longest long poll mlportal holds (internal/api/openapi.yaml, `wait`). */
const MAX_WAIT_MS = 30_000;

/** Reads and checks the module's settings; an InputError names the bad key. */
export function readMlportalCatalogSettings(config: Config): MlportalCatalogSettings {
  const section = config.getOptionalConfig('mlportal.catalog');
  const schedule = section?.has('schedule')
    ? readSchedulerServiceTaskScheduleDefinitionFromConfig(section.getConfig('schedule'))
    : DEFAULT_SCHEDULE;
  const waitMs = readMs(section, 'changes.wait', 25_000);
  if (waitMs < 1000 || waitMs > MAX_WAIT_MS) {
    throw new InputError(
      `mlportal.catalog.changes.wait must be between 1s and 30s (mlportal holds a long poll at most 30s), got ${waitMs} ms`,
    );
  }
  const publicBaseUrl =
    config.getOptionalString('mlportal.server.baseUrl') ??
    config.getOptionalString('mlportal.backstage.baseUrl') ??
    'http://localhost:8080';
  const namespace = section?.getOptionalString('namespace') ?? 'default';
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(namespace) || namespace.length > 63) {
    throw new InputError(
      `mlportal.catalog.namespace must be a catalog namespace (lowercase letters, digits and -), got "${namespace}"`,
    );
  }
  return {
    schedule,
    changes: section?.getOptionalBoolean('changes.enabled') ?? true,
    wait: `${Math.round(waitMs / 1000)}s`,
    maxBackoffMs: readMs(section, 'changes.maxBackoff', 60_000),
    namespace,
    publicBaseUrl: checkUrl(publicBaseUrl, 'mlportal.server.baseUrl'),
    mlflowUiUrl: optionalUrl(section?.getOptionalString('mlflowUiUrl'), 'mlportal.catalog.mlflowUiUrl'),
    techdocs: section?.getOptionalBoolean('techdocs') ?? true,
    artifactStore: {
      name: section?.getOptionalString('artifactStore.name') ?? 'mlportal-artifact-store',
      owner: section?.getOptionalString('artifactStore.owner') ?? 'group:default/platform-admins',
      description:
        section?.getOptionalString('artifactStore.description') ??
        "Artifact store of mlportal's models and runs",
    },
  };
}

function readMs(section: Config | undefined, key: string, fallback: number): number {
  if (!section?.has(key)) return fallback;
  return durationToMilliseconds(readDurationFromConfig(section, { key }));
}

function checkUrl(url: string, key: string): string {
  try {
    // eslint-disable-next-line no-new
    new URL(url);
  } catch {
    throw new InputError(`${key} must be an absolute URL such as https://mlportal.example.com, got "${url}"`);
  }
  return url.replace(/\/+$/, '');
}

function optionalUrl(url: string | undefined, key: string): string | undefined {
  return url === undefined ? undefined : checkUrl(url, key);
}
