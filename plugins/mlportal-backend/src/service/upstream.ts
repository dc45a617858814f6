import { ServiceUnavailableError } from '@backstage/errors';

/** Request headers passed through to the Go API. */
export const FORWARDED_REQUEST_HEADERS = ['content-type', 'idempotency-key', 'if-match', 'accept'];

/** Response headers passed back from the Go API. */
export const FORWARDED_RESPONSE_HEADERS = [
  'content-type',
  'etag',
  'location',
  'retry-after',
  'x-request-id',
];

/** How long the health route waits for GET /readyz. */
const PROBE_TIMEOUT_MS = 5_000;

/** A request to forward to the Go API. */
export interface UpstreamRequest {
  method: string;
  /** The path and query string below `/api`, e.g. `/v1/teams?limit=5`. */
  pathAndQuery: string;
  headers: Record<string, string>;
  body?: Uint8Array;
  /** The bearer token of the calling principal. */
  token: string;
}

/** Options of {@link MlportalUpstream}. */
export interface MlportalUpstreamOptions {
  /** The Go API's root URL, `http://mlportal:8080`. */
  baseUrl: string;
  fetch?: typeof fetch;
  /** Per-request timeout; 30 s by default. */
  timeoutMs?: number;
}

/**
 * The mlportal Go API as the backend plugin reaches it over HTTP. It forwards
 * requests and probes readiness; it does not interpret answers: every status
 * the Go API gives is the caller's to pass on. A failure to reach the API is a
 * ServiceUnavailableError.
 */
export class MlportalUpstream {
  readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly timeoutMs: number;

  constructor(options: MlportalUpstreamOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Sends the request to `{baseUrl}/api{pathAndQuery}` and returns the Go API's response. */
  async forward(request: UpstreamRequest): Promise<Response> {
    const headers = new Headers(request.headers);
    headers.set('authorization', `Bearer ${request.token}`);
    const body =
      request.body && request.body.length > 0 && !['GET', 'HEAD'].includes(request.method)
        ? new Uint8Array(request.body)
        : undefined;
    return this.call(`/api${request.pathAndQuery}`, {
      method: request.method,
      headers,
      body,
      redirect: 'manual',
    });
  }

  /** Whether the Go API answers `GET /readyz` with 200. Never throws. */
  async probe(): Promise<{ reachable: boolean; detail: string }> {
    try {
      const response = await this.call('/readyz', { method: 'GET' }, PROBE_TIMEOUT_MS);
      await response.body?.cancel();
      return response.ok
        ? { reachable: true, detail: 'ok' }
        : { reachable: false, detail: `GET /readyz answered HTTP ${response.status}` };
    } catch (error) {
      return { reachable: false, detail: (error as Error).message };
    }
  }

  private async call(path: string, init: RequestInit, timeoutMs = this.timeoutMs): Promise<Response> {
    try {
      return await this.fetchImpl(`${this.baseUrl}${path}`, {
        ...init,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ServiceUnavailableError(
        `The mlportal API at ${this.baseUrl} is unreachable (${describe(error)}). ` +
          'Check that the mlportal server is running and that mlportal.backstage.baseUrl ' +
          '(or mlportal.server.baseUrl) in the Backstage app-config points at it.',
        error,
      );
    }
  }
}

function describe(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') return 'timed out';
  return err?.cause?.code ?? err?.cause?.message ?? err?.message ?? String(error);
}
