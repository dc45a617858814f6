/**
 * The contract of the short-lived JWT the mlportal Backstage backend plugin mints
 * for every call it forwards to the mlportal Go API, and that the Go API verifies
 * with the public keys in `mlportal.auth.backstage.publicKeys`.
 *
 * Header: `{ "alg": "EdDSA", "typ": "JWT", "kid"?: <mlportal.backstage.keyId> }`,
 * signed with Ed25519.
 */

/** The `iss` claim of every Backstage-minted token. */
export const MLPORTAL_TOKEN_ISSUER = 'backstage';

/** The `aud` claim of every Backstage-minted token. */
export const MLPORTAL_TOKEN_AUDIENCE = 'mlportal';

/** The JWS algorithm: EdDSA over an Ed25519 key. */
export const MLPORTAL_TOKEN_ALGORITHM = 'EdDSA';

/** Lifetime of a token: `exp = iat + 60`. */
export const MLPORTAL_TOKEN_TTL_SECONDS = 60;

/** Who a token speaks for: a Backstage user, or a Backstage service (plugin). */
export type MlportalPrincipalKind = 'user' | 'service';

/** The JOSE header of a Backstage-minted token. */
export interface MlportalTokenHeader {
  alg: typeof MLPORTAL_TOKEN_ALGORITHM;
  typ: 'JWT';
  /** The key id, from `mlportal.backstage.keyId`, when configured. */
  kid?: string;
}

/** The claims of a Backstage-minted token. */
export interface MlportalTokenClaims {
  iss: typeof MLPORTAL_TOKEN_ISSUER;
  aud: typeof MLPORTAL_TOKEN_AUDIENCE;
  /** `user:default/alice` for users, the service subject (`plugin:scaffolder`) for services. */
  sub: string;
  kind: MlportalPrincipalKind;
  /** The user's ownership entity refs (itself and its groups); users only, may be empty. */
  ent?: string[];
  /** Issued at, seconds since the epoch. */
  iat: number;
  /** Expiry, seconds since the epoch: `iat + MLPORTAL_TOKEN_TTL_SECONDS`. */
  exp: number;
  /** A random token id. */
  jti: string;
}
