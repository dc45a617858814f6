import { createHash } from 'node:crypto';
import {
  ANNOTATION_LOCATION,
  ANNOTATION_ORIGIN_LOCATION,
  stringifyEntityRef,
  type Entity,
  type EntityLink,
} from '@backstage/catalog-model';
import type { Dataset, Model, Team } from '@mlportal/plugin-mlportal-common';

/** Annotations the provider sets; `mlportal.io/*` are mlportal's. */
export const ANNOTATIONS = {
  modelId: 'mlportal.io/model-id',
  datasetId: 'mlportal.io/dataset-id',
  team: 'mlportal.io/team',
  project: 'mlportal.io/project',
  framework: 'mlportal.io/framework',
  experiment: 'mlportal.io/mlflow-experiment',
  stage: 'mlportal.io/stage',
  latestVersion: 'mlportal.io/latest-version',
  aliases: 'mlportal.io/aliases',
  datasetVersion: 'mlportal.io/dataset-version',
  contentHash: 'mlportal.io/content-hash',
  quality: 'mlportal.io/quality',
  techdocsRef: 'backstage.io/techdocs-ref',
} as const;

/**
 * Catalog lifecycle of a model by the highest MLflow stage any of its versions
 * holds: Production → production; Staging and None (registered, not promoted) →
 * experimental; Archived → deprecated. A model with no stage is experimental.
 */
export const LIFECYCLE_BY_STAGE: Record<string, string> = {
  Production: 'production',
  Staging: 'experimental',
  None: 'experimental',
  Archived: 'deprecated',
};

/** What the mapping needs besides the model or dataset. */
export interface MappingContext {
  namespace: string;
  /** mlportal's public URL, no trailing slash. */
  publicBaseUrl: string;
  mlflowUiUrl?: string;
  techdocs: boolean;
  artifactStore: { name: string; owner: string; description: string };
  /** The team's Backstage group, if the team names one. */
  groupOf(team: string): string | undefined;
}

/** The location every entity of the provider is managed by; also its `locationKey`. */
export function providerLocationKey(ctx: Pick<MappingContext, 'publicBaseUrl'>): string {
  return `mlportal-provider:${ctx.publicBaseUrl}`;
}

const NAME = /^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$/;

/**
 * A catalog entity name for an mlportal name. Valid names (letters, digits and
 * single `-_.` between them, at most 63) stay as they are; anything else
 * (MLflow allows spaces, slashes, …) becomes its valid characters joined by `-`
 * and a short hash of the original, so two names never meet. The original is
 * the entity's title and its `mlportal.io/*-id` annotation.
 */
export function entityName(name: string): string {
  if (NAME.test(name) && name.length <= 63) return name;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
  const base = name
    .replace(/[^a-zA-Z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 54)
    .replace(/-+$/, '');
  return base ? `${base}-${hash}` : `x-${hash}`;
}

/** The owner of a team's entities: its Backstage group, else `group:default/<team>`. */
export function ownerOf(team: string, ctx: Pick<MappingContext, 'groupOf'>): string {
  return ctx.groupOf(team) || `group:default/${team}`;
}

/** Entity refs by team: `backstageGroup` where set. */
export function groupsByTeam(teams: Team[]): Map<string, string> {
  return new Map(teams.filter(t => t.backstageGroup).map(t => [t.name, t.backstageGroup!]));
}

export function modelEntityRef(name: string, ctx: Pick<MappingContext, 'namespace'>): string {
  return stringifyEntityRef({ kind: 'Component', namespace: ctx.namespace, name: entityName(name) });
}

export function datasetEntityRef(name: string, ctx: Pick<MappingContext, 'namespace'>): string {
  return stringifyEntityRef({ kind: 'Resource', namespace: ctx.namespace, name: entityName(name) });
}

/** A registered model as a `Component` of type `ml-model`. */
export function modelEntity(model: Model, ctx: MappingContext): Entity {
  const api = `${ctx.publicBaseUrl}/api/v1/models/${encodeURIComponent(model.name)}`;
  const versions = model.latestVersions ?? [];
  const latest = versions.reduce((max, v) => Math.max(max, v.version), 0);
  const datasets = new Set(versions.flatMap(v => v.datasets ?? []).map(d => d.name));
  const aliases = Object.entries(model.aliases ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([alias, version]) => `${alias}=${version}`)
    .join(',');

  const annotations: Record<string, string> = {
    [ANNOTATION_LOCATION]: `url:${api}`,
    [ANNOTATION_ORIGIN_LOCATION]: `url:${api}`,
    [ANNOTATIONS.modelId]: model.name,
    [ANNOTATIONS.team]: model.team,
    ...optional(ANNOTATIONS.project, model.project),
    ...optional(ANNOTATIONS.framework, model.framework),
    ...optional(ANNOTATIONS.experiment, model.experimentId),
    ...optional(ANNOTATIONS.stage, model.stage),
    ...optional(ANNOTATIONS.latestVersion, latest ? String(latest) : undefined),
    ...optional(ANNOTATIONS.aliases, aliases || undefined),
    ...(ctx.techdocs ? { [ANNOTATIONS.techdocsRef]: `url:${api}/docs` } : {}),
  };

  const links: EntityLink[] = [{ url: api, title: 'mlportal model', icon: 'dashboard' }];
  if (ctx.mlflowUiUrl) {
    links.push({
      url: `${ctx.mlflowUiUrl}/#/models/${encodeURIComponent(model.name)}`,
      title: 'MLflow model registry',
    });
    if (model.experimentId) {
      links.push({
        url: `${ctx.mlflowUiUrl}/#/experiments/${encodeURIComponent(model.experimentId)}`,
        title: 'MLflow experiment',
      });
    }
  }
  for (const deployment of model.deployments ?? []) {
    if (deployment.url) {
      links.push({ url: deployment.url, title: `${deployment.environment} endpoint (v${deployment.version})` });
    }
  }

  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Component',
    metadata: {
      name: entityName(model.name),
      namespace: ctx.namespace,
      ...(entityName(model.name) !== model.name ? { title: model.name } : {}),
      description: model.description || `ML model ${model.name} of team ${model.team}`,
      annotations,
      tags: tags('ml-model', model.framework),
      links,
    },
    spec: {
      type: 'ml-model',
      lifecycle: LIFECYCLE_BY_STAGE[model.stage ?? ''] ?? 'experimental',
      owner: ownerOf(model.team, ctx),
      ...(model.project ? { system: model.project } : {}),
      dependsOn: [
        ...[...datasets].sort().map(d => datasetEntityRef(d, ctx)),
        stringifyEntityRef({ kind: 'Resource', namespace: ctx.namespace, name: ctx.artifactStore.name }),
      ],
    },
  };
}

/** A dataset as a `Resource` of type `dataset`, described by its newest version. */
export function datasetEntity(dataset: Dataset, ctx: MappingContext): Entity {
  const api = `${ctx.publicBaseUrl}/api/v1/datasets/${encodeURIComponent(dataset.name)}`;
  const newest = [...(dataset.versions ?? [])].sort((a, b) => b.version - a.version)[0];
  const annotations: Record<string, string> = {
    [ANNOTATION_LOCATION]: `url:${api}`,
    [ANNOTATION_ORIGIN_LOCATION]: `url:${api}`,
    [ANNOTATIONS.datasetId]: dataset.name,
    [ANNOTATIONS.team]: dataset.team,
    ...optional(ANNOTATIONS.project, newest?.project),
    ...optional(ANNOTATIONS.datasetVersion, newest ? String(newest.version) : undefined),
    ...optional(ANNOTATIONS.contentHash, newest?.contentHash),
    ...optional(ANNOTATIONS.quality, newest?.quality?.status),
  };
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: entityName(dataset.name),
      namespace: ctx.namespace,
      ...(entityName(dataset.name) !== dataset.name ? { title: dataset.name } : {}),
      description:
        newest?.description ||
        `Dataset ${dataset.name} of team ${dataset.team}${newest ? ` (${newest.uri})` : ''}`,
      annotations,
      tags: tags('dataset', newest?.quality ? `quality-${newest.quality.status}` : undefined),
      links: [{ url: api, title: 'mlportal dataset' }],
    },
    spec: {
      type: 'dataset',
      owner: ownerOf(dataset.team, ctx),
      ...(newest?.project ? { system: newest.project } : {}),
    },
  };
}

/** The artifact store every model depends on, as a `Resource` of type `artifact-store`. */
export function artifactStoreEntity(ctx: MappingContext): Entity {
  const location = `url:${ctx.publicBaseUrl}/api/v1/`;
  return {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'Resource',
    metadata: {
      name: ctx.artifactStore.name,
      namespace: ctx.namespace,
      description: ctx.artifactStore.description,
      annotations: { [ANNOTATION_LOCATION]: location, [ANNOTATION_ORIGIN_LOCATION]: location },
      tags: ['mlportal', 'artifacts'],
      links: [{ url: ctx.publicBaseUrl, title: 'mlportal' }],
    },
    spec: { type: 'artifact-store', owner: ctx.artifactStore.owner },
  };
}

function optional(key: string, value: string | undefined): Record<string, string> {
  return value ? { [key]: value } : {};
}

/** Catalog tags: lowercase `a-z0-9+#-`, at most 63 characters each. */
function tags(...values: (string | undefined)[]): string[] {
  const out = values
    .filter((v): v is string => !!v)
    .map(v => v.toLowerCase().replace(/[^a-z0-9+#]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63))
    .filter(Boolean);
  return [...new Set(out)];
}
