/**
 * The node library of the mlportal Backstage plugins: what other backend plugins
 * and modules (scaffolder actions, catalog providers) need to call the mlportal Go
 * API as a Backstage principal, without depending on the backend plugin itself —
 * the `mlportal.client` service reference and its types. The service's
 * implementation is in @mlportal/plugin-mlportal-backend, which installs it.
 * Test utilities that run a real `mlportal serve` are at
 * `@mlportal/plugin-mlportal-node/testUtils`.
 *
 * @packageDocumentation
 */

export { mlportalClientServiceRef } from './clientService';
export type {
  MlportalClientService,
  MlportalPrincipal,
  UserOrServiceCredentials,
} from './clientService';
