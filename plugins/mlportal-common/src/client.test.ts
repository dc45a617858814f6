import { MlportalApiClient } from './client';
import { MlportalApiError } from './errors';

type Call = { url: string; init: RequestInit };

function client(
  respond: (call: Call) => Response,
  getToken: () => Promise<string | undefined> = async () => 'tok',
) {
  const calls: Call[] = [];
  const api = new MlportalApiClient({
    baseUrl: 'http://backstage/api/mlportal/',
    getToken,
    fetch: async (input, init) => {
      const call = { url: String(input), init: init ?? {} };
      calls.push(call);
      return respond(call);
    },
  });
  return { api, calls };
}

const team = {
  name: 'ml-research',
  displayName: 'ML Research',
  members: [],
  gpuQuota: [],
  createdAt: '2026-11-22T12:00:00Z',
  updatedAt: '2026-11-22T12:00:00Z',
  createdBy: 'admin',
  version: 1,
};

describe('MlportalApiClient', () => {
  it('sends the bearer token and parses the answer', async () => {
    const { api, calls } = client(() =>
      Response.json({ subject: 'user:default/alice', kind: 'backstage-user', groups: [], admin: false, grants: [] }),
    );
    await expect(api.whoAmI()).resolves.toMatchObject({ subject: 'user:default/alice' });
    expect(calls[0].url).toBe('http://backstage/api/mlportal/v1/whoami');
    expect(new Headers(calls[0].init.headers).get('authorization')).toBe('Bearer tok');
  });

  it('omits Authorization when there is no token, and encodes queries', async () => {
    const { api, calls } = client(() => Response.json({ items: [] }), async () => undefined);
    await api.listAuditEvents({ target: 'teams/*', limit: 5, outcome: undefined });
    expect(calls[0].url).toBe('http://backstage/api/mlportal/v1/audit?target=teams%2F*&limit=5');
    expect(new Headers(calls[0].init.headers).has('authorization')).toBe(false);
  });

  it('sends Idempotency-Key and returns the ETag of a created team', async () => {
    const { api, calls } = client(() => Response.json(team, { status: 201, headers: { etag: '"1"' } }));
    const created = await api.createTeam({ name: 'ml-research' }, { idempotencyKey: 'k-1' });
    expect(created).toEqual({ value: team, etag: '"1"' });
    const headers = new Headers(calls[0].init.headers);
    expect(calls[0].init.method).toBe('POST');
    expect(headers.get('idempotency-key')).toBe('k-1');
    expect(headers.get('content-type')).toBe('application/json');
    expect(JSON.parse(String(calls[0].init.body))).toEqual({ name: 'ml-research' });
  });

  it('sends If-Match on update and delete, and handles 204', async () => {
    const { api, calls } = client(({ init }) =>
      init.method === 'DELETE' ? new Response(null, { status: 204 }) : Response.json(team, { headers: { etag: '"2"' } }),
    );
    await api.updateTeam('ml-research', { displayName: 'ML' }, { ifMatch: '"1"' });
    await expect(api.deleteTeam('ml-research', { ifMatch: '"2"' })).resolves.toBeUndefined();
    expect(calls.map(c => [c.init.method, new Headers(c.init.headers).get('if-match')])).toEqual([
      ['PUT', '"1"'],
      ['DELETE', '"2"'],
    ]);
  });

  it('throws MlportalApiError with the server error', async () => {
    const { api } = client(() =>
      Response.json(
        { error: { code: 'precondition_failed', message: 'the team changed' }, requestId: 'r-9' },
        { status: 412 },
      ),
    );
    const error = await api.updateTeam('ml-research', {}, { ifMatch: '"0"' }).catch(e => e);
    expect(error).toBeInstanceOf(MlportalApiError);
    expect(error).toMatchObject({ status: 412, code: 'precondition_failed', requestId: 'r-9' });
  });

  it('turns a network failure into an unavailable error', async () => {
    const { api } = client(() => {
      throw new TypeError('fetch failed');
    });
    await expect(api.getVersion()).rejects.toMatchObject({ status: 503, code: 'unavailable' });
  });
});
