import type { ErrorCode, FieldError } from './types';

/** The fields of an mlportal API error. */
export interface MlportalApiErrorOptions {
  /** The HTTP status of the response. */
  status: number;
  /** The stable error code (`permission_denied`, `not_found`, …). */
  code: ErrorCode | string;
  /** What went wrong and how to fix it, as the server said it. */
  message: string;
  /** Field-level reasons, when the request was invalid. */
  details?: FieldError[];
  /** The server's request id, to find the call in its logs and audit trail. */
  requestId?: string;
  cause?: unknown;
}

/**
 * An error answered by the mlportal API (or by the Backstage backend plugin in
 * its name), parsed from the shape
 * `{"error":{"code","message","details":[{"field","reason"}]},"requestId"}`.
 */
export class MlportalApiError extends Error {
  readonly status: number;
  readonly code: ErrorCode | string;
  readonly details: FieldError[];
  readonly requestId: string | undefined;

  constructor(options: MlportalApiErrorOptions) {
    super(options.message, { cause: options.cause });
    this.name = 'MlportalApiError';
    this.status = options.status;
    this.code = options.code;
    this.details = options.details ?? [];
    this.requestId = options.requestId;
  }

  /**
   * Builds the error of a failed response. A body in the mlportal error shape
   * gives code, message, details and request id; anything else (a proxy's HTML
   * page, an empty body) gives a code derived from the status.
   */
  static async fromResponse(response: Response): Promise<MlportalApiError> {
    const text = await response.text().catch(() => '');
    return MlportalApiError.fromBody(response.status, text, {
      statusText: response.statusText,
      requestId: response.headers.get('x-request-id') ?? undefined,
    });
  }

  /** Like `fromResponse`, from a status and the raw body text. */
  static fromBody(
    status: number,
    body: string,
    fallback: { statusText?: string; requestId?: string } = {},
  ): MlportalApiError {
    const parsed = parseErrorBody(body);
    if (parsed) {
      return new MlportalApiError({
        status,
        code: parsed.code,
        message: parsed.message,
        details: parsed.details,
        requestId: parsed.requestId ?? fallback.requestId,
      });
    }
    const reason = fallback.statusText ? ` ${fallback.statusText}` : '';
    return new MlportalApiError({
      status,
      code: codeForStatus(status),
      message: `mlportal API request failed with HTTP ${status}${reason}`,
      requestId: fallback.requestId,
    });
  }
}

interface ParsedErrorBody {
  code: string;
  message: string;
  details: FieldError[];
  requestId?: string;
}

function parseErrorBody(body: string): ParsedErrorBody | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || !isRecord(value.error)) {
    return undefined;
  }
  const { code, message, details } = value.error;
  if (typeof code !== 'string' || typeof message !== 'string') {
    return undefined;
  }
  return {
    code,
    message,
    details: Array.isArray(details)
      ? details.filter(isRecord).map(d => ({
          field: String(d.field ?? ''),
          reason: String(d.reason ?? ''),
        }))
      : [],
    requestId: typeof value.requestId === 'string' ? value.requestId : undefined,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The error code the mlportal API uses for a status, for bodies without one. */
export function codeForStatus(status: number): ErrorCode {
  switch (status) {
    case 400:
      return 'invalid_request';
    case 401:
      return 'unauthenticated';
    case 403:
      return 'permission_denied';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 409:
      return 'conflict';
    case 412:
      return 'precondition_failed';
    case 413:
      return 'payload_too_large';
    case 415:
      return 'unsupported_media_type';
    case 422:
      return 'invalid_argument';
    case 429:
      return 'rate_limited';
    case 502:
    case 503:
    case 504:
      return 'unavailable';
    default:
      return status >= 400 && status < 500 ? 'invalid_request' : 'internal';
  }
}
