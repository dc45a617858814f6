import {
  coreServices,
  createBackendPlugin,
  UrlReaderService,
} from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend, TestBackend } from '@backstage/backend-test-utils';
import { MlportalApiClient, Project } from '@mlportal/plugin-mlportal-common';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import mlportalBackend from '../index';
import { mlportalUrlReaderFactory } from './factory';
import { MlportalUrlReader } from './MlportalUrlReader';

/** A plugin that hands out its UrlReaderService, as the catalog would use it. */
let catalogReader: UrlReaderService | undefined;
const catalogLikePlugin = createBackendPlugin({
  pluginId: 'catalog',
  register(env) {
    env.registerInit({
      deps: { urlReader: coreServices.urlReader },
      async init({ urlReader }) {
        catalogReader = urlReader;
      },
    });
  },
});

/** Polls the project until its saga has finished. */
async function finished(admin: MlportalApiClient, id: string): Promise<Project> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const project = await admin.getProject(id);
    if (project.status === 'succeeded' || project.status === 'failed') return project;
    if (Date.now() > deadline) throw new Error(`project ${id} still ${project.status} after 60 s`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }
}

describe('MlportalUrlReader against a real mlportal server', () => {
  let server: MlportalServer;
  let backend: TestBackend;
  let reader: UrlReaderService;
  let project: Project;
  let file: string;

  beforeAll(async () => {
    server = await startMlportalServer();
    const admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    // The team has no members: only the Backstage backend's service principal reads it here.
    await admin.createTeam({ name: 'fraud', backstageGroup: 'group:default/fraud' });
    const created = await admin.createProject({ team: 'fraud', name: 'churn', template: 'training' });
    project = await finished(admin, created.id);
    if (project.status !== 'succeeded') {
      throw new Error(`project churn ${project.status}:\n${server.output()}`);
    }
    file = `${project.repoUrl}/raw/main/catalog-info.yaml`;

    backend = await startTestBackend({
      features: [
        mlportalBackend,
        catalogLikePlugin,
        mockServices.rootConfig.factory({
          data: {
            mlportal: {
              // Public URL (what repoUrl starts with) and the one the backend reaches.
              server: { baseUrl: server.publicBaseUrl },
              backstage: { baseUrl: server.baseUrl, privateKey: server.privateKeyPem },
            },
          },
        }),
      ],
    });
    reader = catalogReader!;
  }, 120_000);

  afterAll(async () => {
    await backend?.stop();
    await server?.stop();
  });

  it("reads a project's catalog-info.yaml as the Backstage backend", async () => {
    expect(project.repoUrl).toBe(`${server.publicBaseUrl}/git/fraud/churn.git`);
    const response = await reader.readUrl(file);
    const text = (await response.buffer()).toString('utf8');
    expect(text).toContain('kind: System');
    expect(text).toContain('name: churn');
    expect(response.etag).toMatch(/^"[0-9a-f]{40}"$/);

    // The same file at the URL the backend reaches mlportal at.
    const internal = await reader.readUrl(file.replace(server.publicBaseUrl, server.baseUrl));
    expect(internal.etag).toBe(response.etag);
    expect(internal.stream!().readable).toBe(true);
  });

  it('throws NotModifiedError for the ETag it gave, and reads again for another', async () => {
    const { etag } = await reader.readUrl(file);
    await expect(reader.readUrl(file, { etag })).rejects.toMatchObject({ name: 'NotModifiedError' });
    await expect(reader.search(file, { etag })).rejects.toMatchObject({ name: 'NotModifiedError' });
    const other = await reader.readUrl(file, { etag: '"0000000000000000000000000000000000000000"' });
    expect(other.etag).toBe(etag);
  });

  it('finds the one file a search without wildcards names, as the catalog reads locations', async () => {
    const found = await reader.search(file);
    expect(found.files.map(f => f.url)).toEqual([file]);
    expect((await found.files[0].content()).toString('utf8')).toContain('kind: System');
    expect(found.etag).toMatch(/^"[0-9a-f]{40}"$/);

    const missing = await reader.search(`${project.repoUrl}/raw/main/nope.yaml`);
    expect(missing).toEqual({ files: [], etag: '' });
  });

  it('passes mlportal refusals on as Backstage errors with its message', async () => {
    await expect(reader.readUrl(`${project.repoUrl}/raw/main/nope.yaml`)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('nope.yaml not found at main'),
    });
    await expect(reader.readUrl(`${project.repoUrl}/raw/main/docs`)).rejects.toMatchObject({
      name: 'NotFoundError',
      message: expect.stringContaining('is a directory'),
    });
    await expect(reader.readUrl(`${project.repoUrl}/raw/main~1/README.md`)).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('invalid ref'),
    });
    await expect(
      reader.readUrl(`${server.publicBaseUrl}/git/nope/churn.git/raw/main/catalog-info.yaml`),
    ).rejects.toMatchObject({ name: 'NotFoundError' });
    // The old address, without raw/<ref>, says what the right one is.
    await expect(reader.readUrl(`${project.repoUrl}/catalog-info.yaml`)).rejects.toMatchObject({
      name: 'InputError',
      message: expect.stringContaining('/raw/main/catalog-info.yaml'),
    });
    await expect(reader.readTree(project.repoUrl!)).rejects.toMatchObject({
      name: 'NotImplementedError',
    });
    await expect(reader.search(`${project.repoUrl}/raw/main/*.yaml`)).rejects.toMatchObject({
      name: 'NotImplementedError',
    });
  });

  it("uses a caller's token when given one", async () => {
    await expect(reader.readUrl(file, { token: 'not-a-token' })).rejects.toMatchObject({
      name: 'AuthenticationError',
    });
  });

  it('leaves other URLs to the other readers', async () => {
    // Not under /git/ of mlportal: the fetch reader, which backend.reading.allow does not allow.
    await expect(reader.readUrl(`${server.baseUrl}/api/v1/version`)).rejects.toThrow(
      /not allowed/,
    );
  });
});

describe('MlportalUrlReader', () => {
  const reader = new MlportalUrlReader({
    baseUrls: ['https://ml.example.com/portal/', 'http://mlportal:8080'],
    apiBaseUrl: 'http://mlportal:8080',
    getToken: async () => 'token',
    fetch: async () => {
      throw new TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } });
    },
  });

  it.each([
    ['https://ml.example.com/portal/git/fraud/churn.git/raw/main/catalog-info.yaml', true],
    ['http://mlportal:8080/git/fraud/churn.git/raw/main/catalog-info.yaml', true],
    ['https://ml.example.com/git/fraud/churn.git/raw/main/catalog-info.yaml', false],
    ['https://ml.example.com/portal/api/v1/projects', false],
    ['http://mlportal:8081/git/fraud/churn.git/raw/main/catalog-info.yaml', false],
    ['https://other.example.com/portal/git/fraud/churn.git/raw/main/x', false],
  ])('predicate(%s) is %s', (url, want) => {
    expect(reader.predicate(new URL(url))).toBe(want);
  });

  it('reports an unreachable mlportal as unavailable, naming the setting', async () => {
    await expect(
      reader.readUrl('https://ml.example.com/portal/git/fraud/churn.git/raw/main/catalog-info.yaml'),
    ).rejects.toMatchObject({
      name: 'ServiceUnavailableError',
      message: expect.stringMatching(/ECONNREFUSED.*mlportal\.backstage\.baseUrl/),
    });
  });
});

describe('the URL reader without mlportal.backstage.privateKey', () => {
  it('adds no reader, so the backend still starts', async () => {
    const backend = await startTestBackend({
      features: [
        mlportalUrlReaderFactory,
        catalogLikePlugin,
        mockServices.rootConfig.factory({ data: {} }),
      ],
    });
    try {
      await expect(
        catalogReader!.readUrl('http://localhost:8080/git/fraud/churn.git/raw/main/catalog-info.yaml'),
      ).rejects.toThrow(/not allowed/);
    } finally {
      await backend.stop();
    }
  });
});
