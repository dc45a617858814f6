import {
  AuthenticationError,
  InputError,
  NotAllowedError,
  NotFoundError,
  ServiceUnavailableError,
} from '@backstage/errors';
import { MlportalApiError } from '@mlportal/plugin-mlportal-common';

/**
 * The error of a request that never got an answer: an abort stays an abort,
 * anything else means mlportal is unreachable.
 */
export function unreachable(error: unknown, apiBaseUrl: string, url: string): Error {
  if ((error as Error).name === 'AbortError') return error as Error;
  const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
  return new ServiceUnavailableError(
    `mlportal at ${apiBaseUrl} is unreachable (${cause}) reading ${url}: check that the ` +
      'mlportal server is running and that mlportal.backstage.baseUrl points at it',
  );
}

/**
 * The Backstage error of a refusal by mlportal, with mlportal's message: the
 * git server answers plain text, the API its JSON error shape.
 */
export async function refusal(response: Response, url: string): Promise<Error> {
  const text = (await response.text()).trim();
  const reason = text.startsWith('{')
    ? MlportalApiError.fromBody(response.status, text).message
    : text;
  const message = `mlportal refused to read ${url} (${response.status}): ${reason}`;
  switch (response.status) {
    case 400:
    case 422:
      return new InputError(message);
    case 401:
      return new AuthenticationError(
        `${message}. Check that mlportal trusts the public key of mlportal.backstage.privateKey ` +
          '(mlportal.auth.backstage.publicKeys)',
      );
    case 403:
      return new NotAllowedError(message);
    case 404:
      return new NotFoundError(message);
    case 503:
      return new ServiceUnavailableError(message);
    default:
      return new Error(message);
  }
}
