import { ConfigReader } from '@backstage/config';
import { DEFAULT_SCHEDULE, readMlportalCatalogSettings } from './settings';

describe('readMlportalCatalogSettings', () => {
  it('has defaults for every key', () => {
    expect(readMlportalCatalogSettings(new ConfigReader({}))).toEqual({
      schedule: DEFAULT_SCHEDULE,
      changes: true,
      wait: '25s',
      maxBackoffMs: 60_000,
      namespace: 'default',
      publicBaseUrl: 'http://localhost:8080',
      mlflowUiUrl: undefined,
      techdocs: true,
      artifactStore: {
        name: 'mlportal-artifact-store',
        owner: 'group:default/platform-admins',
        description: "Artifact store of mlportal's models and runs",
      },
    });
  });

  it('reads mlportal.catalog and the public URL', () => {
    const settings = readMlportalCatalogSettings(
      new ConfigReader({
        mlportal: {
          server: { baseUrl: 'https://ml.example.com/' },
          catalog: {
            schedule: { frequency: { minutes: 5 }, timeout: 'PT2M' },
            changes: { enabled: false, wait: '10s', maxBackoff: { minutes: 2 } },
            namespace: 'ml',
            mlflowUiUrl: 'https://mlflow.example.com',
            techdocs: false,
            artifactStore: { name: 'models-s3', owner: 'group:default/ml-platform' },
          },
        },
      }),
    );
    expect(settings).toMatchObject({
      schedule: { frequency: { minutes: 5 }, timeout: { minutes: 2 } },
      changes: false,
      wait: '10s',
      maxBackoffMs: 120_000,
      namespace: 'ml',
      publicBaseUrl: 'https://ml.example.com',
      mlflowUiUrl: 'https://mlflow.example.com',
      techdocs: false,
      artifactStore: { name: 'models-s3', owner: 'group:default/ml-platform' },
    });
  });

  it('falls back to mlportal.backstage.baseUrl for links', () => {
    expect(
      readMlportalCatalogSettings(new ConfigReader({ mlportal: { backstage: { baseUrl: 'http://mlportal:8080' } } }))
        .publicBaseUrl,
    ).toBe('http://mlportal:8080');
  });

  it.each([
    [{ changes: { wait: '45s' } }, /changes.wait must be between 1s and 30s/],
    [{ namespace: 'ML Team' }, /mlportal.catalog.namespace must be a catalog namespace/],
    [{ mlflowUiUrl: 'mlflow' }, /mlportal.catalog.mlflowUiUrl must be an absolute URL/],
  ])('refuses %p', (catalog, message) => {
    expect(() =>
      readMlportalCatalogSettings(new ConfigReader({ mlportal: { catalog } })),
    ).toThrow(message);
  });
});
