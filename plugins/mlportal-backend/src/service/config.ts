import { createPrivateKey, KeyObject } from 'node:crypto';
import type { Config } from '@backstage/config';
import { InputError } from '@backstage/errors';

/** The default URL of the Go API when no configuration names one. */
export const DEFAULT_MLPORTAL_BASE_URL = 'http://localhost:8080';

/** What the backend plugin reads from the `mlportal` configuration section. */
export interface MlportalBackendSettings {
  /** The Go API's root URL, without trailing slash (`http://mlportal:8080`). */
  baseUrl: string;
  /** The Ed25519 key tokens are signed with. */
  privateKey: KeyObject;
  /** The `kid` header of the tokens, if configured. */
  keyId?: string;
}

/**
 * Reads and validates the plugin's configuration; throws an InputError naming
 * the offending key, so a misconfigured backend fails at startup.
 */
export function readMlportalBackendSettings(config: Config): MlportalBackendSettings {
  const baseUrl =
    config.getOptionalString('mlportal.backstage.baseUrl') ??
    config.getOptionalString('mlportal.server.baseUrl') ??
    DEFAULT_MLPORTAL_BASE_URL;
  try {
    // eslint-disable-next-line no-new
    new URL(baseUrl);
  } catch {
    throw new InputError(
      `mlportal.backstage.baseUrl must be an absolute URL such as http://mlportal:8080, got "${baseUrl}"`,
    );
  }

  const pem = config.getOptionalString('mlportal.backstage.privateKey');
  if (!pem) {
    throw new InputError(
      'mlportal.backstage.privateKey is not set: configure the Ed25519 private key (PKCS#8 PEM) ' +
        'whose public key is listed in mlportal.auth.backstage.publicKeys of the mlportal server',
    );
  }

  return {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    privateKey: parseEd25519PrivateKey(pem),
    keyId: config.getOptionalString('mlportal.backstage.keyId'),
  };
}

/** Parses a PKCS#8 PEM Ed25519 private key; `\n` escapes (from env vars) are accepted. */
export function parseEd25519PrivateKey(pem: string): KeyObject {
  const text = pem.includes('\n') ? pem : pem.replace(/\\n/g, '\n');
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (error) {
    throw new InputError(
      `mlportal.backstage.privateKey is not a PEM private key (expected "-----BEGIN PRIVATE KEY-----", ` +
        `e.g. from "openssl genpkey -algorithm ed25519"): ${(error as Error).message}`,
    );
  }
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new InputError(
      `mlportal.backstage.privateKey must be an Ed25519 key, got ${key.asymmetricKeyType}`,
    );
  }
  return key;
}
