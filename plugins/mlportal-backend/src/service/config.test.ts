import { generateKeyPairSync } from 'node:crypto';
import { ConfigReader } from '@backstage/config';
import { readMlportalBackendSettings } from './config';

const pem = generateKeyPairSync('ed25519')
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

describe('readMlportalBackendSettings', () => {
  it('reads baseUrl, key and key id', () => {
    const settings = readMlportalBackendSettings(
      new ConfigReader({
        mlportal: { backstage: { baseUrl: 'http://mlportal:8080/', privateKey: pem, keyId: 'k1' } },
      }),
    );
    expect(settings.baseUrl).toBe('http://mlportal:8080');
    expect(settings.keyId).toBe('k1');
    expect(settings.privateKey.asymmetricKeyType).toBe('ed25519');
  });

  it('falls back to mlportal.server.baseUrl, then localhost:8080', () => {
    expect(
      readMlportalBackendSettings(
        new ConfigReader({
          mlportal: { server: { baseUrl: 'http://go:9000' }, backstage: { privateKey: pem } },
        }),
      ).baseUrl,
    ).toBe('http://go:9000');
    expect(
      readMlportalBackendSettings(new ConfigReader({ mlportal: { backstage: { privateKey: pem } } }))
        .baseUrl,
    ).toBe('http://localhost:8080');
  });

  it('accepts a key with escaped newlines, as from an environment variable', () => {
    const escaped = pem.replace(/\n/g, '\\n');
    expect(
      readMlportalBackendSettings(
        new ConfigReader({ mlportal: { backstage: { privateKey: escaped } } }),
      ).privateKey.asymmetricKeyType,
    ).toBe('ed25519');
  });

  it('names the key when it is missing or unusable', () => {
    expect(() => readMlportalBackendSettings(new ConfigReader({}))).toThrow(
      /mlportal\.backstage\.privateKey is not set/,
    );
    expect(() =>
      readMlportalBackendSettings(
        new ConfigReader({ mlportal: { backstage: { privateKey: 'not a key' } } }),
      ),
    ).toThrow(/mlportal\.backstage\.privateKey is not a PEM private key/);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    expect(() =>
      readMlportalBackendSettings(new ConfigReader({ mlportal: { backstage: { privateKey: rsa } } })),
    ).toThrow(/must be an Ed25519 key, got rsa/);
  });
});
