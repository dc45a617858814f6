/**
 * The mlportal Backstage backend plugin (new backend system). It forwards
 * /api/mlportal/v1/* to the mlportal Go API as the calling Backstage user or
 * service, with a short-lived EdDSA token per principal, and offers the same
 * ability to other backend plugins as the `mlportal.client` service. It holds no
 * data and makes no authorization decisions: the Go API does.
 *
 * @packageDocumentation
 */

export { mlportalPlugin as default } from './plugin';
export {
  mlportalClientServiceRef,
  createMlportalClientService,
} from './service/clientService';
export type {
  MlportalClientService,
  MlportalClientServiceOptions,
} from './service/clientService';
export {
  MlportalIdentityTokenIssuer,
  TOKEN_REUSE_MARGIN_SECONDS,
} from './service/tokenIssuer';
export type {
  MlportalIdentityTokenIssuerOptions,
  MlportalPrincipal,
} from './service/tokenIssuer';
export { resolvePrincipal } from './service/principal';
export type { UserOrServiceCredentials } from './service/principal';
export {
  readMlportalBackendSettings,
  DEFAULT_MLPORTAL_BASE_URL,
} from './service/config';
export type { MlportalBackendSettings } from './service/config';
