import type {
  UrlReaderService,
  UrlReaderServiceReadTreeOptions,
  UrlReaderServiceReadTreeResponse,
  UrlReaderServiceReadUrlOptions,
  UrlReaderServiceReadUrlResponse,
  UrlReaderServiceSearchOptions,
  UrlReaderServiceSearchResponse,
} from '@backstage/backend-plugin-api';
import {
  ReadUrlResponseFactory,
  type ReadTreeResponseFactory,
} from '@backstage/backend-defaults/urlReader';
import { InputError, NotImplementedError, NotModifiedError } from '@backstage/errors';
import { readModelDocsTree } from './modelDocs';
import { refusal, unreachable } from './responses';

/** Options of {@link MlportalUrlReader}. */
export interface MlportalUrlReaderOptions {
  /**
   * The URLs mlportal is known by, without trailing slash: the public one that
   * repository URLs start with (`mlportal.server.baseUrl`) and the one the
   * backend reaches it at (`mlportal.backstage.baseUrl`). The reader answers
   * URLs under `<base>/git/` of any of them.
   */
  baseUrls: string[];
  /** Where the reader sends its requests: the Go server as the backend reaches it. */
  apiBaseUrl: string;
  /** A bearer token for mlportal, for the backend's own service principal. */
  getToken(): Promise<string>;
  fetch?: typeof fetch;
  /** Builds `readTree` answers; the reader factory's. Without it `readTree` fails. */
  treeResponseFactory?: ReadTreeResponseFactory;
}

/** `<team>/<project>.git/raw/<ref>/<path>`, below `<base>/git/`. */
const RAW_PATH = /^([^/]+)\/([^/]+)\.git\/raw\/(.+)$/;
/** `<model>/docs` below `<base>/api/v1/models/`: a model's TechDocs source. */
const DOCS_PATH = /^([^/]+)\/docs\/?$/;

/**
 * A UrlReaderService for files on mlportal's git server, at
 * `<mlportal>/git/<team>/<project>.git/raw/<ref>/<path>` (the address the
 * `catalogInfoUrl` of an mlportal project has). It reads them as the Backstage
 * backend, with a token the mlportal backend plugin signs, so the catalog can
 * read a project's catalog-info.yaml without `backend.reading.allow`.
 * `readUrl` supports ETags (the file's git blob id): an unchanged file throws
 * NotModifiedError. `search` reads the one file a URL without wildcards
 * names (the catalog reads locations so); patterns are not implemented.
 *
 * It also reads the TechDocs source mlportal generates for every model,
 * `<mlportal>/api/v1/models/<model>/docs`, as a tree (`readTree`): Backstage's
 * stock `url` TechDocs preparer then prepares a model entity whose
 * `backstage.io/techdocs-ref` is `url:<mlportal>/api/v1/models/<model>/docs`.
 * The tree's ETag is the docs' ETag; an unchanged tree throws NotModifiedError.
 */
export class MlportalUrlReader implements UrlReaderService {
  private readonly bases: URL[];
  private readonly apiBaseUrl: string;
  private readonly getToken: () => Promise<string>;
  private readonly fetch: typeof fetch;
  private readonly treeResponseFactory: ReadTreeResponseFactory | undefined;

  constructor(options: MlportalUrlReaderOptions) {
    this.bases = [...new Set(options.baseUrls.map(trimSlash))].map(b => new URL(b));
    this.apiBaseUrl = trimSlash(options.apiBaseUrl);
    this.getToken = options.getToken;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.treeResponseFactory = options.treeResponseFactory;
  }

  /**
   * Whether the URL is one this reader reads: under `<base>/git/` of a known
   * base, or a model's docs at `<base>/api/v1/models/<model>/docs`.
   */
  predicate(url: URL): boolean {
    return this.gitPath(url) !== undefined || this.docsModel(url) !== undefined;
  }

  async readUrl(
    url: string,
    options?: UrlReaderServiceReadUrlOptions,
  ): Promise<UrlReaderServiceReadUrlResponse> {
    const parsed = new URL(url);
    if (this.docsModel(parsed) !== undefined) {
      throw new NotImplementedError(
        `${url} is a model's TechDocs source, a tree of files: read it with readTree ` +
          '(the TechDocs url preparer does)',
      );
    }
    const rest = this.gitPath(parsed);
    if (rest === undefined) {
      throw new InputError(`${url} is not on mlportal's git server (${this.bases.join(', ')})`);
    }
    if (!RAW_PATH.test(rest)) {
      throw new InputError(
        `${url} is not a file address of mlportal's git server: files are read at ` +
          `<mlportal>/git/<team>/<project>.git/raw/<ref>/<path>, e.g. ` +
          `${this.bases[0].href.replace(/\/$/, '')}/git/fraud/churn.git/raw/main/catalog-info.yaml`,
      );
    }

    const headers: Record<string, string> = {
      Authorization: `Bearer ${options?.token ?? (await this.getToken())}`,
    };
    if (options?.etag) headers['If-None-Match'] = options.etag;
    const target = `${this.apiBaseUrl}/git/${rest}`;
    let response: Response;
    try {
      response = await this.fetch(target, { headers, signal: options?.signal });
    } catch (error) {
      throw unreachable(error, this.apiBaseUrl, url);
    }
    if (response.status === 304) {
      await response.body?.cancel();
      throw new NotModifiedError(`${url} is unchanged (ETag ${options?.etag})`);
    }
    if (response.ok) {
      return ReadUrlResponseFactory.fromResponse(response);
    }
    throw await refusal(response, url);
  }

  /**
   * A model's TechDocs source (`<base>/api/v1/models/<model>/docs`) as a tree:
   * `mkdocs.yml` and `docs/**`. Given the ETag of an earlier answer, an unchanged
   * tree throws NotModifiedError. Trees of the git server are not supported.
   */
  async readTree(
    url: string,
    options?: UrlReaderServiceReadTreeOptions,
  ): Promise<UrlReaderServiceReadTreeResponse> {
    const model = this.docsModel(new URL(url));
    if (model === undefined) {
      throw new NotImplementedError(
        `reading a tree from mlportal's git server is not supported (${url}): read single files at ` +
          '<mlportal>/git/<team>/<project>.git/raw/<ref>/<path>, or clone the repository; ' +
          "the trees mlportal serves are models' docs, <mlportal>/api/v1/models/<model>/docs",
      );
    }
    if (!this.treeResponseFactory) {
      throw new Error('MlportalUrlReader was built without a treeResponseFactory, so it cannot read trees');
    }
    return readModelDocsTree({
      url,
      target: `${this.apiBaseUrl}/api/v1/models/${model}/docs`,
      apiBaseUrl: this.apiBaseUrl,
      fetch: this.fetch,
      token: options?.token ?? (await this.getToken()),
      etag: options?.etag,
      signal: options?.signal,
      filter: options?.filter,
      treeResponseFactory: this.treeResponseFactory,
    });
  }

  /**
   * A search without wildcards reads the one file it names (none when it is
   * missing): the catalog reads `url` locations this way. Patterns (`*`, `?`)
   * are not supported.
   */
  async search(
    url: string,
    options?: UrlReaderServiceSearchOptions,
  ): Promise<UrlReaderServiceSearchResponse> {
    if (/[*?]/.test(new URL(url).pathname)) {
      throw new NotImplementedError(
        `searching mlportal's git server with a pattern is not supported (${url}): name each file ` +
          'at <mlportal>/git/<team>/<project>.git/raw/<ref>/<path>',
      );
    }
    try {
      const data = await this.readUrl(url, options);
      return {
        files: [{ url, content: () => data.buffer(), lastModifiedAt: data.lastModifiedAt }],
        etag: data.etag ?? '',
      };
    } catch (error) {
      if ((error as Error).name === 'NotFoundError') return { files: [], etag: '' };
      throw error;
    }
  }

  toString() {
    return `mlportal{baseUrls=${this.bases.map(b => trimSlash(b.href)).join(',')}}`;
  }

  /** The path below `<base>/git/`, still percent-encoded, or undefined off the git server. */
  private gitPath(url: URL): string | undefined {
    return this.below(url, 'git/');
  }

  /** The model of a `<base>/api/v1/models/<model>/docs` URL, still percent-encoded. */
  private docsModel(url: URL): string | undefined {
    const rest = this.below(url, 'api/v1/models/');
    return rest === undefined ? undefined : DOCS_PATH.exec(rest)?.[1];
  }

  private below(url: URL, path: string): string | undefined {
    for (const base of this.bases) {
      const prefix = `${trimSlash(base.pathname)}/${path}`;
      if (url.origin === base.origin && url.pathname.startsWith(prefix)) {
        return url.pathname.slice(prefix.length);
      }
    }
    return undefined;
  }
}

function trimSlash(s: string): string {
  return s.replace(/\/+$/, '');
}
