import {
  coreServices,
  createServiceFactory,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
import {
  mlportalClientServiceRef,
  type MlportalClientService,
  type MlportalPrincipal,
} from '@mlportal/plugin-mlportal-node';
import { readMlportalBackendSettings } from './config';
import { resolvePrincipal } from './principal';
import { MlportalIdentityTokenIssuer } from './tokenIssuer';

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
 * The implementation of the `mlportal.client` service
 * (`mlportalClientServiceRef` of @mlportal/plugin-mlportal-node): calls the Go
 * API as the given principal with tokens signed with `mlportal.backstage.privateKey`.
 * The package's default export installs it with the plugin.
 */
export const mlportalClientServiceFactory = createServiceFactory({
  service: mlportalClientServiceRef,
  deps: { config: coreServices.rootConfig, userInfo: coreServices.userInfo },
  factory({ config, userInfo }) {
    const settings = readMlportalBackendSettings(config);
    return createMlportalClientService({
      baseUrl: settings.baseUrl,
      issuer: new MlportalIdentityTokenIssuer(settings),
      userInfo,
    });
  },
});
