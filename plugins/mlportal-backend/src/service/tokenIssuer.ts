import { randomUUID, sign, KeyObject } from 'node:crypto';
import {
  MLPORTAL_TOKEN_ALGORITHM,
  MLPORTAL_TOKEN_AUDIENCE,
  MLPORTAL_TOKEN_ISSUER,
  MLPORTAL_TOKEN_TTL_SECONDS,
  MlportalTokenClaims,
  MlportalTokenHeader,
} from '@mlportal/plugin-mlportal-common';
import type { MlportalPrincipal } from '@mlportal/plugin-mlportal-node';

/** Options of {@link MlportalIdentityTokenIssuer}. */
export interface MlportalIdentityTokenIssuerOptions {
  privateKey: KeyObject;
  keyId?: string;
  /** Milliseconds since the epoch; `Date.now` by default. */
  now?: () => number;
  /** The `jti` of each token; `randomUUID` by default. */
  newTokenId?: () => string;
}

/** A token is reused until this many seconds before it expires. */
export const TOKEN_REUSE_MARGIN_SECONDS = 10;

const MAX_CACHED_TOKENS = 10_000;

/**
 * Mints the short-lived EdDSA JWTs the mlportal Go API accepts from Backstage
 * (claims: see MlportalTokenClaims in @mlportal/plugin-mlportal-common), one per
 * principal, reused until {@link TOKEN_REUSE_MARGIN_SECONDS} before expiry.
 * It does not decide who a caller is: callers pass a resolved principal.
 */
export class MlportalIdentityTokenIssuer {
  private readonly privateKey: KeyObject;
  private readonly encodedHeader: string;
  private readonly now: () => number;
  private readonly newTokenId: () => string;
  private readonly cache = new Map<string, { token: string; exp: number }>();

  constructor(options: MlportalIdentityTokenIssuerOptions) {
    if (options.privateKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError('MlportalIdentityTokenIssuer needs an Ed25519 private key');
    }
    this.privateKey = options.privateKey;
    this.now = options.now ?? Date.now;
    this.newTokenId = options.newTokenId ?? randomUUID;
    const header: MlportalTokenHeader = { alg: MLPORTAL_TOKEN_ALGORITHM, typ: 'JWT' };
    if (options.keyId) header.kid = options.keyId;
    this.encodedHeader = base64url(JSON.stringify(header));
  }

  /** A valid token for the principal: a cached one, or a new one. */
  async issueToken(principal: MlportalPrincipal): Promise<string> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const key = cacheKey(principal);
    const cached = this.cache.get(key);
    if (cached && nowSeconds < cached.exp - TOKEN_REUSE_MARGIN_SECONDS) {
      return cached.token;
    }

    const claims: MlportalTokenClaims = {
      iss: MLPORTAL_TOKEN_ISSUER,
      aud: MLPORTAL_TOKEN_AUDIENCE,
      sub: principal.kind === 'user' ? principal.userEntityRef : principal.subject,
      kind: principal.kind,
      ...(principal.kind === 'user' ? { ent: [...principal.ownershipEntityRefs] } : {}),
      iat: nowSeconds,
      exp: nowSeconds + MLPORTAL_TOKEN_TTL_SECONDS,
      jti: this.newTokenId(),
    };
    const signingInput = `${this.encodedHeader}.${base64url(JSON.stringify(claims))}`;
    const signature = sign(null, Buffer.from(signingInput), this.privateKey);
    const token = `${signingInput}.${signature.toString('base64url')}`;

    this.remember(key, token, claims.exp, nowSeconds);
    return token;
  }

  private remember(key: string, token: string, exp: number, nowSeconds: number) {
    if (this.cache.size >= MAX_CACHED_TOKENS) {
      for (const [k, v] of this.cache) {
        if (v.exp - TOKEN_REUSE_MARGIN_SECONDS <= nowSeconds) this.cache.delete(k);
      }
      if (this.cache.size >= MAX_CACHED_TOKENS) this.cache.clear();
    }
    this.cache.set(key, { token, exp });
  }
}

function cacheKey(principal: MlportalPrincipal): string {
  return principal.kind === 'user'
    ? JSON.stringify(['user', principal.userEntityRef, [...principal.ownershipEntityRefs].sort()])
    : JSON.stringify(['service', principal.subject]);
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}
