import type { UserInfoService } from '@backstage/backend-plugin-api';
import type {
  MlportalPrincipal,
  UserOrServiceCredentials,
} from '@mlportal/plugin-mlportal-node';

/**
 * The principal the Go API is called as: a user with its ownership entity refs
 * (from the userInfo service), or a service with its subject.
 */
export async function resolvePrincipal(
  credentials: UserOrServiceCredentials,
  userInfo: UserInfoService,
): Promise<MlportalPrincipal> {
  const { principal } = credentials;
  if (principal.type === 'service') {
    return { kind: 'service', subject: principal.subject };
  }
  const info = await userInfo.getUserInfo(credentials);
  return {
    kind: 'user',
    userEntityRef: info.userEntityRef,
    ownershipEntityRefs: info.ownershipEntityRefs ?? [],
  };
}
