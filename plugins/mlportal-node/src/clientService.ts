import {
  createServiceRef,
  type BackstageCredentials,
  type BackstageServicePrincipal,
  type BackstageUserPrincipal,
} from '@backstage/backend-plugin-api';
import type { MlportalApiClient } from '@mlportal/plugin-mlportal-common';

/** The Backstage principal a call to mlportal speaks for. */
export type MlportalPrincipal =
  | {
      kind: 'user';
      /** `user:default/alice` */
      userEntityRef: string;
      /** The user's ownership entity refs: itself and its groups. */
      ownershipEntityRefs: string[];
    }
  | {
      kind: 'service';
      /** The service subject, `plugin:scaffolder`. */
      subject: string;
    };

/** Credentials of a user or a service, as `httpAuth.credentials(req, { allow: ['user', 'service'] })` gives. */
export type UserOrServiceCredentials = BackstageCredentials<
  BackstageUserPrincipal | BackstageServicePrincipal
>;

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

/**
 * The `mlportal.client` service: inject it into a backend plugin or module to
 * call the Go API as a user or service. Its implementation reads the
 * `mlportal.backstage` configuration and comes with
 * @mlportal/plugin-mlportal-backend: add that package to the backend
 * (`backend.add(import('@mlportal/plugin-mlportal-backend'))`), or its
 * `mlportalClientServiceFactory` alone.
 *
 * @example
 *   deps: { mlportal: mlportalClientServiceRef, auth: coreServices.auth }
 *   const client = await mlportal.forCredentials(await auth.getOwnServiceCredentials());
 *   await client.listTeams();
 */
export const mlportalClientServiceRef = createServiceRef<MlportalClientService>({
  id: 'mlportal.client',
  scope: 'plugin',
});
