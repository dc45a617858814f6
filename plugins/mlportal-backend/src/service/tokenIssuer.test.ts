import { generateKeyPairSync, verify } from 'node:crypto';
import type { MlportalPrincipal } from '@mlportal/plugin-mlportal-node';
import { MlportalIdentityTokenIssuer } from './tokenIssuer';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');

const alice: MlportalPrincipal = {
  kind: 'user',
  userEntityRef: 'user:default/alice',
  ownershipEntityRefs: ['user:default/alice', 'group:default/ml-research'],
};
const scaffolder: MlportalPrincipal = { kind: 'service', subject: 'plugin:scaffolder' };

function decode(token: string) {
  const [header, payload, signature] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString()),
    claims: JSON.parse(Buffer.from(payload, 'base64url').toString()),
    signatureValid: verify(
      null,
      Buffer.from(`${header}.${payload}`),
      publicKey,
      Buffer.from(signature, 'base64url'),
    ),
  };
}

function issuer(options: { now: () => number; keyId?: string }) {
  let n = 0;
  return new MlportalIdentityTokenIssuer({
    privateKey,
    keyId: options.keyId,
    now: options.now,
    newTokenId: () => `jti-${++n}`,
  });
}

describe('MlportalIdentityTokenIssuer', () => {
  const t0 = Date.UTC(2026, 10, 22, 12, 0, 0);

  it('mints an EdDSA JWT with the user claims', async () => {
    const token = await issuer({ now: () => t0 + 999, keyId: 'backstage-1' }).issueToken(alice);
    const { header, claims, signatureValid } = decode(token);
    expect(signatureValid).toBe(true);
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT', kid: 'backstage-1' });
    expect(claims).toEqual({
      iss: 'backstage',
      aud: 'mlportal',
      sub: 'user:default/alice',
      kind: 'user',
      ent: ['user:default/alice', 'group:default/ml-research'],
      iat: t0 / 1000,
      exp: t0 / 1000 + 60,
      jti: 'jti-1',
    });
  });

  it('sends an empty ent for a user without ownership refs, and no kid when unset', async () => {
    const token = await issuer({ now: () => t0 }).issueToken({
      kind: 'user',
      userEntityRef: 'user:default/carol',
      ownershipEntityRefs: [],
    });
    const { header, claims } = decode(token);
    expect(header).toEqual({ alg: 'EdDSA', typ: 'JWT' });
    expect(claims.ent).toEqual([]);
  });

  it('mints service tokens with the service subject and no ent', async () => {
    const { claims, signatureValid } = decode(await issuer({ now: () => t0 }).issueToken(scaffolder));
    expect(signatureValid).toBe(true);
    expect(claims).toEqual({
      iss: 'backstage',
      aud: 'mlportal',
      sub: 'plugin:scaffolder',
      kind: 'service',
      iat: t0 / 1000,
      exp: t0 / 1000 + 60,
      jti: 'jti-1',
    });
  });

  it('reuses a token per principal until 10 s before it expires', async () => {
    let now = t0;
    const subject = issuer({ now: () => now });

    const first = await subject.issueToken(alice);
    now = t0 + 49_000;
    expect(await subject.issueToken(alice)).toBe(first);
    expect(await subject.issueToken({ ...alice, ownershipEntityRefs: [...alice.ownershipEntityRefs].reverse() })).toBe(first);

    const other = await subject.issueToken(scaffolder);
    expect(other).not.toBe(first);

    now = t0 + 50_000;
    const second = await subject.issueToken(alice);
    expect(second).not.toBe(first);
    expect(decode(second).claims).toMatchObject({ iat: t0 / 1000 + 50, exp: t0 / 1000 + 110 });
  });

  it('mints a new token when the ownership refs change', async () => {
    const subject = issuer({ now: () => t0 });
    const first = await subject.issueToken(alice);
    const regrouped = await subject.issueToken({ ...alice, ownershipEntityRefs: ['user:default/alice'] });
    expect(regrouped).not.toBe(first);
    expect(decode(regrouped).claims.ent).toEqual(['user:default/alice']);
  });

  it('refuses keys that are not Ed25519', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(() => new MlportalIdentityTokenIssuer({ privateKey: rsa })).toThrow(/Ed25519/);
  });
});
