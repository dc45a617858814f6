/**
 * Shared code of the mlportal Backstage plugins: TypeScript types generated from
 * mlportal's OpenAPI document (internal/api/openapi.yaml), a typed API client,
 * its error type, and the claim contract of the tokens the backend plugin mints.
 * It holds no Backstage-specific runtime code, so frontend and backend can both use it.
 *
 * @packageDocumentation
 */

export type { paths, components, operations } from './generated/schema';
export * from './types';
export * from './claims';
export { MlportalApiError, codeForStatus } from './errors';
export type { MlportalApiErrorOptions } from './errors';
export { MlportalApiClient, paginate } from './client';
export type {
  MlportalApiClientOptions,
  CachedRequestOptions,
  MaybeModified,
  LongPollOptions,
  Versioned,
  IdempotentRequestOptions,
  ConditionalRequestOptions,
} from './client';
export { parseProjectEvents } from './projectEvents';
export type { ProjectEvent } from './projectEvents';
