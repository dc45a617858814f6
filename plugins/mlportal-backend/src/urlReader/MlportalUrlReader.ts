import type {
  UrlReaderService,
  UrlReaderServiceReadTreeResponse,
  UrlReaderServiceReadUrlOptions,
  UrlReaderServiceReadUrlResponse,
  UrlReaderServiceSearchOptions,
  UrlReaderServiceSearchResponse,
} from '@backstage/backend-plugin-api';
import { ReadUrlResponseFactory } from '@backstage/backend-defaults/urlReader';
import {
  AuthenticationError,
  InputError,
  NotAllowedError,
  NotFoundError,
  NotImplementedError,
  NotModifiedError,
  ServiceUnavailableError,
} from '@backstage/errors';

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
}

/** `<team>/<project>.git/raw/<ref>/<path>`, below `<base>/git/`. */
const RAW_PATH = /^([^/]+)\/([^/]+)\.git\/raw\/(.+)$/;

/**
 * A UrlReaderService for files on mlportal's git server, at
 * `<mlportal>/git/<team>/<project>.git/raw/<ref>/<path>` (the address the
 * `catalogInfoUrl` of an mlportal project has). It reads them as the Backstage
 * backend, with a token the mlportal backend plugin signs, so the catalog can
 * read a project's catalog-info.yaml without `backend.reading.allow`.
 * `readUrl` supports ETags (the file's git blob id): an unchanged file throws
 * NotModifiedError. `search` reads the one file a URL without wildcards
 * names (the catalog reads locations so); patterns and `readTree` are not
 * implemented.
 */
export class MlportalUrlReader implements UrlReaderService {
  private readonly bases: URL[];
  private readonly apiBaseUrl: string;
  private readonly getToken: () => Promise<string>;
  private readonly fetch: typeof fetch;

  constructor(options: MlportalUrlReaderOptions) {
    this.bases = [...new Set(options.baseUrls.map(trimSlash))].map(b => new URL(b));
    this.apiBaseUrl = trimSlash(options.apiBaseUrl);
    this.getToken = options.getToken;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  /** Whether the URL is on mlportal's git server: under `<base>/git/` of a known base. */
  predicate(url: URL): boolean {
    return this.gitPath(url) !== undefined;
  }

  async readUrl(
    url: string,
    options?: UrlReaderServiceReadUrlOptions,
  ): Promise<UrlReaderServiceReadUrlResponse> {
    const parsed = new URL(url);
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
      if ((error as Error).name === 'AbortError') throw error;
      const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
      throw new ServiceUnavailableError(
        `mlportal at ${this.apiBaseUrl} is unreachable (${cause}) reading ${url}: check that the ` +
          'mlportal server is running and that mlportal.backstage.baseUrl points at it',
      );
    }

    if (response.status === 304) {
      await response.body?.cancel();
      throw new NotModifiedError(`${url} is unchanged (ETag ${options?.etag})`);
    }
    if (response.ok) {
      return ReadUrlResponseFactory.fromResponse(response);
    }
    const reason = (await response.text()).trim();
    const message = `mlportal refused to read ${url} (${response.status}): ${reason}`;
    switch (response.status) {
      case 400:
        throw new InputError(message);
      case 401:
        throw new AuthenticationError(
          `${message}. Check that mlportal trusts the public key of mlportal.backstage.privateKey ` +
            '(mlportal.auth.backstage.publicKeys)',
        );
      case 403:
        throw new NotAllowedError(message);
      case 404:
        throw new NotFoundError(message);
      default:
        throw new Error(message);
    }
  }

  async readTree(url: string): Promise<UrlReaderServiceReadTreeResponse> {
    throw new NotImplementedError(
      `reading a tree from mlportal's git server is not supported (${url}): read single files at ` +
        '<mlportal>/git/<team>/<project>.git/raw/<ref>/<path>, or clone the repository',
    );
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
    for (const base of this.bases) {
      const prefix = `${trimSlash(base.pathname)}/git/`;
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
