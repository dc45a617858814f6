import { generateKeyPairSync, randomUUID } from 'node:crypto';
import {
  AuthService,
  BackstageCredentials,
  BackstageUserPrincipal,
  coreServices,
  createBackendPlugin,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestBackend,
} from '@backstage/backend-test-utils';
import request from 'supertest';
import {
  MlportalClientService,
  mlportalClientServiceRef,
} from '@mlportal/plugin-mlportal-node';
import {
  freePort,
  MlportalServer,
  startMlportalServer,
} from '@mlportal/plugin-mlportal-node/testUtils';
import { mlportalPlugin } from './plugin';
import { mlportalClientServiceFactory } from './service/clientService';

/** The catalog's view of the test users: who owns what, as the userInfo service tells it. */
const OWNERSHIP: Record<string, string[]> = {
  'user:default/alice': ['user:default/alice', 'group:default/ml-research'],
  'user:default/bob': ['user:default/bob', 'group:default/platform-admins'],
};

const userInfo = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory: () => ({
    async getUserInfo(credentials: BackstageCredentials) {
      const { userEntityRef } = (credentials as BackstageCredentials<BackstageUserPrincipal>)
        .principal;
      return { userEntityRef, ownershipEntityRefs: OWNERSHIP[userEntityRef] ?? [userEntityRef] };
    },
  }),
});

/** Another backend plugin that uses the mlportal.client service, as a scaffolder module would. */
let probeClients: MlportalClientService | undefined;
let probeAuth: AuthService | undefined;
const probePlugin = createBackendPlugin({
  pluginId: 'probe',
  register(env) {
    env.registerInit({
      deps: { mlportal: mlportalClientServiceRef, auth: coreServices.auth },
      async init({ mlportal, auth }) {
        probeClients = mlportal;
        probeAuth = auth;
      },
    });
  },
});

async function startBackend(mlportal: { baseUrl: string; privateKey: string }) {
  return startTestBackend({
    features: [
      mlportalPlugin,
      mlportalClientServiceFactory,
      probePlugin,
      userInfo,
      // As in a real backend: a request without credentials has none.
      mockServices.httpAuth.factory({ defaultCredentials: mockCredentials.none() }),
      mockServices.rootConfig.factory({
        data: { mlportal: { backstage: { ...mlportal, keyId: 'plugin-test' } } },
      }),
    ],
  });
}

const alice = mockCredentials.user.header('user:default/alice');
const bob = mockCredentials.user.header('user:default/bob');

describe('mlportal backend plugin against a real mlportal server', () => {
  let server: MlportalServer;
  let backend: TestBackend;

  beforeAll(async () => {
    server = await startMlportalServer();
    backend = await startBackend({ baseUrl: server.baseUrl, privateKey: server.privateKeyPem });
  });

  afterAll(async () => {
    await backend?.stop();
    await server?.stop();
  });

  afterEach(() => jest.restoreAllMocks());

  it('reports the Go API reachable on the unauthenticated health route', async () => {
    const res = await request(backend.server).get('/api/mlportal/health');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', checks: { api: 'ok' } });
  });

  it('(a) calls the Go API as the Backstage user', async () => {
    const res = await request(backend.server)
      .get('/api/mlportal/v1/whoami')
      .set('Authorization', alice);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      subject: 'user:default/alice',
      kind: 'backstage-user',
      admin: false,
    });
    expect(res.body.groups).toContain('group:default/ml-research');
  });

  it('(a) calls the Go API as a Backstage service', async () => {
    const res = await request(backend.server)
      .get('/api/mlportal/v1/whoami')
      .set('Authorization', mockCredentials.service.header());
    expect(res.status).toBe(200);
    expect(res.body.kind).toBe('backstage-service');
    expect(res.body.subject).toBe('external:test-service');
    expect(res.body.groups).toEqual([]);
  });

  it('lets other backend plugins call the Go API as themselves through mlportal.client', async () => {
    const credentials = await probeAuth!.getOwnServiceCredentials();
    const client = await probeClients!.forCredentials(credentials);
    const identity = await client.whoAmI();
    expect(identity.kind).toBe('backstage-service');
    expect(identity.subject).toBe('plugin:probe');
    await expect(client.getTeam('no-such-team')).rejects.toMatchObject({
      name: 'MlportalApiError',
      status: 404,
      code: 'not_found',
    });
  });

  it('(b) refuses a request without credentials before it reaches the Go API', async () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const res = await request(backend.server).get('/api/mlportal/v1/whoami');
    expect(res.status).toBe(401);
    expect(fetchSpy).not.toHaveBeenCalled();

    const explicit = await request(backend.server)
      .post('/api/mlportal/v1/teams')
      .set('Authorization', mockCredentials.none.header())
      .send({ name: 'sneaky' });
    expect(explicit.status).toBe(401);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('(c) lets a platform admin create a team and passes a non-admin the Go 403', async () => {
    const idempotencyKey = randomUUID();
    const team = {
      name: 'ml-research',
      displayName: 'ML Research',
      backstageGroup: 'group:default/ml-research',
    };
    const create = () =>
      request(backend.server)
        .post('/api/mlportal/v1/teams')
        .set('Authorization', bob)
        .set('Idempotency-Key', idempotencyKey)
        .send(team);
    const created = await create();
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject(team);
    expect(created.body.createdBy).toBe('user:default/bob');
    expect(created.headers.etag).toBeTruthy();
    expect(created.headers.location).toBe('/api/v1/teams/ml-research');

    // The Idempotency-Key reaches the Go API: a retry replays the first answer.
    const retried = await create();
    expect(retried.status).toBe(201);
    expect(retried.body).toEqual(created.body);

    const readByMember = await request(backend.server)
      .get('/api/mlportal/v1/teams/ml-research')
      .set('Authorization', alice);
    expect(readByMember.status).toBe(200);

    const denied = await request(backend.server)
      .post('/api/mlportal/v1/teams')
      .set('Authorization', alice)
      .send({ name: 'alice-team' });
    expect(denied.status).toBe(403);
    expect(denied.body).toEqual({
      error: expect.objectContaining({ code: 'permission_denied', message: expect.any(String) }),
      requestId: expect.any(String),
    });

    // The Go audit trail, read with the admin token, names the Backstage users as actors.
    const audit = await fetch(`${server.baseUrl}/api/v1/audit?target=teams/*`, {
      headers: { Authorization: `Bearer ${server.adminToken}` },
    });
    expect(audit.status).toBe(200);
    const { items } = (await audit.json()) as { items: Array<Record<string, unknown>> };
    expect(items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ actor: 'user:default/bob', outcome: 'success', status: 201 }),
        expect.objectContaining({ actor: 'user:default/alice', outcome: 'denied', status: 403 }),
      ]),
    );
  });

  it('passes query strings, If-Match and ETag through', async () => {
    const listed = await request(backend.server)
      .get('/api/mlportal/v1/teams?limit=1')
      .set('Authorization', bob);
    expect(listed.status).toBe(200);
    expect(listed.body.items).toHaveLength(1);

    const read = await request(backend.server)
      .get('/api/mlportal/v1/teams/ml-research')
      .set('Authorization', bob);
    expect(read.status).toBe(200);
    const etag = read.headers.etag;
    expect(etag).toBeTruthy();

    const stale = await request(backend.server)
      .put('/api/mlportal/v1/teams/ml-research')
      .set('Authorization', bob)
      .set('If-Match', '"stale"')
      .send({ displayName: 'ML Research (stale)' });
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe('precondition_failed');

    const updated = await request(backend.server)
      .put('/api/mlportal/v1/teams/ml-research')
      .set('Authorization', bob)
      .set('If-Match', etag)
      .send({ displayName: 'ML Research Lab', backstageGroup: 'group:default/ml-research' });
    expect(updated.status).toBe(200);
    expect(updated.body.displayName).toBe('ML Research Lab');
    expect(updated.headers.etag).not.toBe(etag);
  });

  it('passes the Go validation error through', async () => {
    const res = await request(backend.server)
      .post('/api/mlportal/v1/teams')
      .set('Authorization', bob)
      .send({ name: 'Not A DNS Label' });
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('invalid_argument');
    expect(res.body.error.details).toEqual(
      expect.arrayContaining([expect.objectContaining({ field: expect.stringContaining('name') })]),
    );
  });
});

describe('mlportal backend plugin configuration', () => {
  it('refuses to start without mlportal.backstage.privateKey, naming the key', async () => {
    await expect(
      startTestBackend({
        features: [mlportalPlugin, mockServices.rootConfig.factory({ data: {} })],
      }),
    ).rejects.toThrow(/mlportal\.backstage\.privateKey is not set/);
  });
});

describe('mlportal backend plugin with the Go API down', () => {
  let backend: TestBackend;

  beforeAll(async () => {
    const privateKey = generateKeyPairSync('ed25519')
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    // A port nothing listens on.
    backend = await startBackend({ baseUrl: `http://127.0.0.1:${await freePort()}`, privateKey });
  });

  afterAll(() => backend?.stop());

  it('(d) answers 503 unavailable in the mlportal error shape', async () => {
    const res = await request(backend.server)
      .get('/api/mlportal/v1/whoami')
      .set('Authorization', alice);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: {
        code: 'unavailable',
        message: expect.stringMatching(/unreachable \(ECONNREFUSED\).*mlportal\.backstage\.baseUrl/s),
      },
      requestId: expect.any(String),
    });
  });

  it('(d) reports the Go API unreachable on the health route', async () => {
    const res = await request(backend.server).get('/api/mlportal/health');
    expect(res.status).toBe(503);
    expect(res.body.status).toBe('unavailable');
  });
});
