import { MlportalApiError } from './errors';
import { parseProjectEvents, ProjectEvent } from './projectEvents';
import type {
  AuditEventList,
  ChangeList,
  Dataset,
  DatasetList,
  DatasetVersion,
  DocsTree,
  Identity,
  Lineage,
  ListChangesQuery,
  ListDatasetsQuery,
  ListModelsQuery,
  ListModelVersionsQuery,
  Model,
  ModelList,
  ModelVersion,
  ModelVersionList,
  IssuedToken,
  ListAuditEventsQuery,
  ListTeamsQuery,
  ListProjectsQuery,
  ListTokensQuery,
  Project,
  ProjectCreate,
  ProjectList,
  Team,
  TeamCreate,
  TeamList,
  TeamUpdate,
  TokenCreate,
  TokenList,
  Version,
} from './types';

/** Options of {@link MlportalApiClient}. */
export interface MlportalApiClientOptions {
  /**
   * The URL under which the API's `/v1/...` paths live:
   * `http://mlportal:8080/api` to call the Go API directly, or
   * `<backstage backend>/api/mlportal` to call it through the Backstage backend plugin.
   */
  baseUrl: string | (() => Promise<string>);
  /** The fetch to use; the global one by default. */
  fetch?: typeof fetch;
  /** The bearer token of each request; no Authorization header when it resolves to undefined. */
  getToken: () => Promise<string | undefined>;
}

/** A resource together with the ETag to send back in `If-Match`. */
export interface Versioned<T> {
  value: T;
  etag: string | undefined;
}

/** Options of a POST that may be retried. */
export interface IdempotentRequestOptions {
  /** Replays of the same key and body return the first response. */
  idempotencyKey?: string;
}

/** Options of a read that may be answered "unchanged". */
export interface CachedRequestOptions {
  /** The ETag of the copy the caller has; sent as `If-None-Match`. */
  etag?: string;
}

/** A resource read with {@link CachedRequestOptions}: its new value, or word that the caller's copy is current. */
export type MaybeModified<T> =
  | { modified: true; value: T; etag: string | undefined }
  | { modified: false; etag: string };

/** Options of a long poll. */
export interface LongPollOptions {
  /** Aborting it ends the request at once (the promise rejects with the abort reason). */
  signal?: AbortSignal;
}

/** Options of a request guarded by the resource's version. */
export interface ConditionalRequestOptions {
  /** The ETag last read; the server refuses with 412 when the resource changed since. */
  ifMatch?: string;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A path of the OpenAPI document below `/api`, e.g. `/v1/teams`. */
  path: string;
  query?: Query;
  body?: unknown;
  headers?: Record<string, string | undefined>;
  signal?: AbortSignal;
  /** A 304 is an answer, not an error (the request sent `If-None-Match`). */
  notModified?: boolean;
}

/**
 * A typed client of the mlportal API, one method per operation of
 * internal/api/openapi.yaml. Failed calls throw {@link MlportalApiError}.
 * It does not retry; it pages through lists only through {@link paginate}.
 */
export class MlportalApiClient {
  private readonly baseUrl: MlportalApiClientOptions['baseUrl'];
  private readonly fetchImpl: typeof fetch;
  private readonly getToken: MlportalApiClientOptions['getToken'];

  constructor(options: MlportalApiClientOptions) {
    this.baseUrl = options.baseUrl;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.getToken = options.getToken;
  }

  /** GET /api/v1/whoami — the caller's identity, groups and grants. */
  async whoAmI(): Promise<Identity> {
    return (await this.send<Identity>({ method: 'GET', path: '/v1/whoami' })).body;
  }

  /** GET /api/v1/version */
  async getVersion(): Promise<Version> {
    return (await this.send<Version>({ method: 'GET', path: '/v1/version' })).body;
  }

  /** GET /api/v1/teams — a page of teams ordered by name. */
  async listTeams(query: ListTeamsQuery = {}): Promise<TeamList> {
    return (await this.send<TeamList>({ method: 'GET', path: '/v1/teams', query })).body;
  }

  /** GET /api/v1/teams/{team} */
  async getTeam(name: string): Promise<Versioned<Team>> {
    const { body, etag } = await this.send<Team>({
      method: 'GET',
      path: `/v1/teams/${encodeURIComponent(name)}`,
    });
    return { value: body, etag };
  }

  /** POST /api/v1/teams (platform admins). */
  async createTeam(
    team: TeamCreate,
    options: IdempotentRequestOptions = {},
  ): Promise<Versioned<Team>> {
    const { body, etag } = await this.send<Team>({
      method: 'POST',
      path: '/v1/teams',
      body: team,
      headers: { 'Idempotency-Key': options.idempotencyKey },
    });
    return { value: body, etag };
  }

  /** PUT /api/v1/teams/{team} — replaces the mutable fields, guarded by `If-Match`. */
  async updateTeam(
    name: string,
    team: TeamUpdate,
    options: ConditionalRequestOptions = {},
  ): Promise<Versioned<Team>> {
    const { body, etag } = await this.send<Team>({
      method: 'PUT',
      path: `/v1/teams/${encodeURIComponent(name)}`,
      body: team,
      headers: { 'If-Match': options.ifMatch },
    });
    return { value: body, etag };
  }

  /** DELETE /api/v1/teams/{team} (platform admins). */
  async deleteTeam(name: string, options: ConditionalRequestOptions = {}): Promise<void> {
    await this.send<void>({
      method: 'DELETE',
      path: `/v1/teams/${encodeURIComponent(name)}`,
      headers: { 'If-Match': options.ifMatch },
    });
  }

  /** POST /api/v1/tokens — the secret is in the answer, once. */
  async createToken(
    token: TokenCreate,
    options: IdempotentRequestOptions = {},
  ): Promise<IssuedToken> {
    return (
      await this.send<IssuedToken>({
        method: 'POST',
        path: '/v1/tokens',
        body: token,
        headers: { 'Idempotency-Key': options.idempotencyKey },
      })
    ).body;
  }

  /** GET /api/v1/tokens */
  async listTokens(query: ListTokensQuery = {}): Promise<TokenList> {
    return (await this.send<TokenList>({ method: 'GET', path: '/v1/tokens', query })).body;
  }

  /** DELETE /api/v1/tokens/{tokenId} */
  async revokeToken(tokenId: string): Promise<void> {
    await this.send<void>({
      method: 'DELETE',
      path: `/v1/tokens/${encodeURIComponent(tokenId)}`,
    });
  }

  /** GET /api/v1/audit (platform admins), newest first. */
  async listAuditEvents(query: ListAuditEventsQuery = {}): Promise<AuditEventList> {
    return (await this.send<AuditEventList>({ method: 'GET', path: '/v1/audit', query })).body;
  }

  /** GET /api/v1/projects — a page of projects ordered by id. */
  async listProjects(query: ListProjectsQuery = {}): Promise<ProjectList> {
    return (await this.send<ProjectList>({ method: 'GET', path: '/v1/projects', query })).body;
  }

  /**
   * POST /api/v1/projects — records the project and starts its saga. The same
   * request again returns the existing project (200), nothing made twice.
   */
  async createProject(
    project: ProjectCreate,
    options: IdempotentRequestOptions = {},
  ): Promise<Project> {
    return (
      await this.send<Project>({
        method: 'POST',
        path: '/v1/projects',
        body: project,
        headers: { 'Idempotency-Key': options.idempotencyKey },
      })
    ).body;
  }

  /** GET /api/v1/projects/{projectId} — the project with every saga step. */
  async getProject(projectId: string): Promise<Project> {
    return (
      await this.send<Project>({
        method: 'GET',
        path: `/v1/projects/${encodeURIComponent(projectId)}`,
      })
    ).body;
  }

  /** POST /api/v1/projects/{projectId}/retry — resumes a failed saga from its failed step. */
  async retryProject(projectId: string): Promise<Project> {
    return (
      await this.send<Project>({
        method: 'POST',
        path: `/v1/projects/${encodeURIComponent(projectId)}/retry`,
      })
    ).body;
  }

  /**
   * GET /api/v1/projects/{projectId}/events — the saga's progress: a `step` event
   * per transition, then `done` with the project, after which the stream ends.
   * Aborting `signal` closes the stream.
   */
  async *watchProject(
    projectId: string,
    options: { signal?: AbortSignal } = {},
  ): AsyncGenerator<ProjectEvent> {
    const response = await this.open({
      method: 'GET',
      path: `/v1/projects/${encodeURIComponent(projectId)}/events`,
      headers: { Accept: 'text/event-stream' },
      signal: options.signal,
    });
    if (!response.body) return;
    yield* parseProjectEvents(response.body);
  }

  /** GET /api/v1/models — a page of registered models ordered by name. Page with `pageToken`, or use {@link paginate}. */
  async listModels(query: ListModelsQuery = {}): Promise<ModelList> {
    return (await this.send<ModelList>({ method: 'GET', path: '/v1/models', query })).body;
  }

  /** GET /api/v1/models/{model} — aliases, latest versions, deployments, team, project and framework. */
  async getModel(name: string): Promise<Model> {
    return (await this.send<Model>({ method: 'GET', path: modelPath(name) })).body;
  }

  /** GET /api/v1/models/{model}/versions — newest first, with their lineage facts. */
  async listModelVersions(
    name: string,
    query: ListModelVersionsQuery = {},
  ): Promise<ModelVersionList> {
    return (
      await this.send<ModelVersionList>({
        method: 'GET',
        path: `${modelPath(name)}/versions`,
        query,
      })
    ).body;
  }

  /** GET /api/v1/models/{model}/versions/{version} */
  async getModelVersion(name: string, version: number): Promise<ModelVersion> {
    return (
      await this.send<ModelVersion>({
        method: 'GET',
        path: `${modelPath(name)}/versions/${encodeURIComponent(String(version))}`,
      })
    ).body;
  }

  /** GET /api/v1/models/{model}/lineage — the graph dataset → run → model version → deployment. */
  async getModelLineage(name: string): Promise<Lineage> {
    return (await this.send<Lineage>({ method: 'GET', path: `${modelPath(name)}/lineage` })).body;
  }

  /**
   * GET /api/v1/models/{model}/docs — the model's TechDocs source (mkdocs.yml and
   * Markdown). Given the `etag` of the copy the caller has, an unchanged tree is
   * `{ modified: false }` (a 304, or a 200 with the same ETag).
   */
  async getModelDocs(
    name: string,
    options: CachedRequestOptions = {},
  ): Promise<MaybeModified<DocsTree>> {
    const response = await this.open({
      method: 'GET',
      path: `${modelPath(name)}/docs`,
      headers: { 'If-None-Match': options.etag },
      notModified: true,
    });
    const etag = response.headers.get('etag') ?? undefined;
    if (options.etag && (response.status === 304 || etag === options.etag)) {
      await response.body?.cancel();
      return { modified: false, etag: options.etag };
    }
    return { modified: true, value: (await response.json()) as DocsTree, etag };
  }

  /** GET /api/v1/datasets — a page of datasets (each with its versions, newest first) ordered by name. */
  async listDatasets(query: ListDatasetsQuery = {}): Promise<DatasetList> {
    return (await this.send<DatasetList>({ method: 'GET', path: '/v1/datasets', query })).body;
  }

  /** GET /api/v1/datasets/{dataset} — with its versions, newest first. */
  async getDataset(name: string): Promise<Dataset> {
    return (
      await this.send<Dataset>({
        method: 'GET',
        path: `/v1/datasets/${encodeURIComponent(name)}`,
      })
    ).body;
  }

  /** GET /api/v1/datasets/{dataset}/versions/{version} — with its quality report. */
  async getDatasetVersion(name: string, version: number): Promise<DatasetVersion> {
    return (
      await this.send<DatasetVersion>({
        method: 'GET',
        path: `/v1/datasets/${encodeURIComponent(name)}/versions/${encodeURIComponent(
          String(version),
        )}`,
      })
    ).body;
  }

  /**
   * GET /api/v1/changes — the change feed of models, versions and datasets after
   * the cursor `after` (none: from the start), oldest first. With `wait` (`25s`,
   * at most 30 s) the server holds an empty answer until a change arrives: a long
   * poll. Continue with the answer's `next`.
   */
  async listChanges(query: ListChangesQuery = {}, options: LongPollOptions = {}): Promise<ChangeList> {
    return (
      await this.send<ChangeList>({
        method: 'GET',
        path: '/v1/changes',
        query,
        signal: options.signal,
      })
    ).body;
  }

  private async send<T>(spec: RequestSpec): Promise<{ body: T; etag: string | undefined }> {
    const response = await this.open(spec);
    const etag = response.headers.get('etag') ?? undefined;
    if (response.status === 204) {
      return { body: undefined as T, etag };
    }
    return { body: (await response.json()) as T, etag };
  }

  /** Sends the request; a response that is not 2xx throws {@link MlportalApiError}. */
  private async open(spec: RequestSpec): Promise<Response> {
    const base =
      typeof this.baseUrl === 'string' ? this.baseUrl : await this.baseUrl();
    const url = `${base.replace(/\/+$/, '')}${spec.path}${queryString(spec.query)}`;

    const headers: Record<string, string> = { Accept: 'application/json' };
    for (const [name, value] of Object.entries(spec.headers ?? {})) {
      if (value !== undefined) headers[name] = value;
    }
    const token = await this.getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }

    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method: spec.method,
        headers,
        body,
        signal: spec.signal,
      });
    } catch (error) {
      if (spec.signal?.aborted) throw error;
      throw new MlportalApiError({
        status: 503,
        code: 'unavailable',
        message: `could not reach the mlportal API at ${base}: ${String(
          (error as Error)?.message ?? error,
        )}`,
        cause: error,
      });
    }
    if (!response.ok && !(spec.notModified && response.status === 304)) {
      throw await MlportalApiError.fromResponse(response);
    }
    return response;
  }
}

function modelPath(name: string): string {
  return `/v1/models/${encodeURIComponent(name)}`;
}

/**
 * Every item of a paged list, page after page: `for await (const model of
 * paginate(q => client.listModels({ ...q, team })))`. `list` gets the page
 * token of the previous page (none for the first).
 */
export async function* paginate<T>(
  list: (query: { pageToken?: string }) => Promise<{ items: T[]; nextPageToken?: string }>,
): AsyncGenerator<T> {
  let pageToken: string | undefined;
  do {
    const page = await list(pageToken ? { pageToken } : {});
    yield* page.items;
    pageToken = page.nextPageToken || undefined;
  } while (pageToken);
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.append(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}
