/**
 * The mlportal Backstage backend plugin (new backend system). It forwards
 * /api/mlportal/v1/* to the mlportal Go API as the calling Backstage user or
 * service, with a short-lived EdDSA token per principal; implements the
 * `mlportal.client` service (its reference is in @mlportal/plugin-mlportal-node)
 * for other backend plugins; and reads files of mlportal's git server for the
 * catalog (a URL reader). It holds no data and makes no authorization
 * decisions: the Go API does.
 *
 * `backend.add(import('@mlportal/plugin-mlportal-backend'))` installs all three;
 * `mlportalPlugin`, `mlportalClientServiceFactory` and `mlportalUrlReaderFactory`
 * install them one by one.
 *
 * @packageDocumentation
 */

import { createBackendFeatureLoader } from '@backstage/backend-plugin-api';
import { mlportalPlugin } from './plugin';
import { mlportalClientServiceFactory } from './service/clientService';
import { mlportalUrlReaderFactory } from './urlReader';

/** The plugin, the `mlportal.client` service and the URL reader of mlportal's git server. */
export default createBackendFeatureLoader({
  *loader() {
    yield mlportalPlugin;
    yield mlportalClientServiceFactory;
    yield mlportalUrlReaderFactory;
  },
});

export { mlportalPlugin } from './plugin';
export {
  createMlportalClientService,
  mlportalClientServiceFactory,
} from './service/clientService';
export type { MlportalClientServiceOptions } from './service/clientService';
export {
  MlportalIdentityTokenIssuer,
  TOKEN_REUSE_MARGIN_SECONDS,
} from './service/tokenIssuer';
export type { MlportalIdentityTokenIssuerOptions } from './service/tokenIssuer';
export { resolvePrincipal } from './service/principal';
export {
  readMlportalBackendSettings,
  DEFAULT_MLPORTAL_BASE_URL,
} from './service/config';
export type { MlportalBackendSettings } from './service/config';
export { MlportalUrlReader, mlportalUrlReaderFactory } from './urlReader';
export type { MlportalUrlReaderOptions } from './urlReader';
