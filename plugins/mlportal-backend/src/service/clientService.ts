import {
  coreServices,
  createServiceFactory,
  createServiceRef,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
import { readMlportalBackendSettings } from './config';
import { resolvePrincipal, UserOrServiceCredentials } from './principal';
import { MlportalIdentityTokenIssuer, MlportalPrincipal } from './tokenIssuer';

/**
 * Calls the mlportal Go API as a given Backstage principal, for other backend
 * plugins and modules (scaffolder actions, catalog providers).
 */
export interface MlportalClientService {
  /** A client acting as the principal of the credentials (a user or a service). */
  forCredentials(credentials: UserOrServiceCredentials): Promise<MlportalApiClient>;
  /** A client acting as an already resolved principal. */
  forPrincipal(principal: MlportalPrincipal): MlportalApiClient;
}

/** Options of {@link createMlportalClientService}. */
export interface MlportalClientServiceOptions {
  /** The Go API's root URL, `http://mlportal:8080`. */
  baseUrl: string;
  issuer: MlportalIdentityTokenIssuer;
  userInfo: UserInfoService;
  fetch?: typeof fetch;
}

/** Builds a {@link MlportalClientService}. */
export function createMlportalClientService(
  options: MlportalClientServiceOptions,
): MlportalClientService {
  const forPrincipal = (principal: MlportalPrincipal) =>
    new MlportalApiClient({
      baseUrl: `${options.baseUrl}/api`,
      fetch: options.fetch,
      getToken: () => options.issuer.issueToken(principal),
    });
  return {
    forPrincipal,
    async forCredentials(credentials) {
      return forPrincipal(await resolvePrincipal(credentials, options.userInfo));
    },
  };
}

/**
 * The `mlportal.client` service: inject it into a backend plugin or module to
 * call the Go API as a user or service; it reads the same `mlportal.backstage`
 * configuration as the mlportal backend plugin.
 *
 * @example
 *   deps: { mlportal: mlportalClientServiceRef, auth: coreServices.auth }
 *   const client = await mlportal.forCredentials(await auth.getOwnServiceCredentials());
 *   await client.listTeams();
 */
export const mlportalClientServiceRef = createServiceRef<MlportalClientService>({
  id: 'mlportal.client',
  scope: 'plugin',
  defaultFactory: async service =>
    createServiceFactory({
      service,
      deps: { config: coreServices.rootConfig, userInfo: coreServices.userInfo },
      factory({ config, userInfo }) {
        const settings = readMlportalBackendSettings(config);
        return createMlportalClientService({
          baseUrl: settings.baseUrl,
          issuer: new MlportalIdentityTokenIssuer(settings),
          userInfo,
        });
      },
    }),
});
