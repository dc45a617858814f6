import { MlportalApiClient, paginate } from './client';
import type { ChangeList, DocsTree, Model, ModelList } from './types';

type Call = { url: string; init: RequestInit };

function client(respond: (call: Call) => Response) {
  const calls: Call[] = [];
  const api = new MlportalApiClient({
    baseUrl: 'http://mlportal:8080/api',
    getToken: async () => 'tok',
    fetch: async (input, init) => {
      const call = { url: String(input), init: init ?? {} };
      calls.push(call);
      return respond(call);
    },
  });
  return { api, calls };
}

// Answers shaped as internal/api/openapi.yaml specifies them (the generated types check it).
const model = (name: string): Model => ({
  name,
  team: 'fraud',
  project: 'churn',
  framework: 'sklearn',
  stage: 'Production',
  experimentId: '3',
  aliases: { champion: 2 },
  latestVersions: [],
  deployments: [],
  tags: {},
  createdAt: '2026-11-22T12:00:00Z',
  updatedAt: '2026-11-22T12:00:00Z',
});

describe('MlportalApiClient: models, datasets and the change feed', () => {
  it('lists models with paging, and paginate walks every page', async () => {
    const pages: Record<string, ModelList> = {
      '': { items: [model('a'), model('b')], nextPageToken: 'p2' },
      p2: { items: [model('c')] },
    };
    const { api, calls } = client(({ url }) =>
      Response.json(pages[new URL(url).searchParams.get('pageToken') ?? '']),
    );
    const names: string[] = [];
    for await (const m of paginate(q => api.listModels({ ...q, team: 'fraud', limit: 2 }))) {
      names.push(m.name);
    }
    expect(names).toEqual(['a', 'b', 'c']);
    expect(calls.map(c => c.url)).toEqual([
      'http://mlportal:8080/api/v1/models?team=fraud&limit=2',
      'http://mlportal:8080/api/v1/models?pageToken=p2&team=fraud&limit=2',
    ]);
  });

  it('escapes model names in paths', async () => {
    const { api, calls } = client(() => Response.json({ nodes: [], edges: [] }));
    await api.getModelLineage('churn model/v2');
    await api.listModelVersions('churn model/v2', { limit: 5 });
    await api.getModelVersion('churn model/v2', 3);
    expect(calls.map(c => c.url)).toEqual([
      'http://mlportal:8080/api/v1/models/churn%20model%2Fv2/lineage',
      'http://mlportal:8080/api/v1/models/churn%20model%2Fv2/versions?limit=5',
      'http://mlportal:8080/api/v1/models/churn%20model%2Fv2/versions/3',
    ]);
  });

  it('reads model docs with their ETag, and reports an unchanged tree (304 or same ETag)', async () => {
    const tree: DocsTree = {
      files: [
        { path: 'mkdocs.yml', content: 'site_name: churn\n' },
        { path: 'docs/index.md', content: '# churn\n' },
      ],
    };
    let status = 200;
    const { api, calls } = client(() =>
      status === 304
        ? new Response(null, { status: 304, headers: { etag: '"d1"' } })
        : Response.json(tree, { headers: { etag: '"d1"' } }),
    );
    await expect(api.getModelDocs('churn')).resolves.toEqual({ modified: true, value: tree, etag: '"d1"' });
    expect(new Headers(calls[0].init.headers).has('if-none-match')).toBe(false);

    await expect(api.getModelDocs('churn', { etag: '"d1"' })).resolves.toEqual({
      modified: false,
      etag: '"d1"',
    });
    expect(new Headers(calls[1].init.headers).get('if-none-match')).toBe('"d1"');
    status = 304;
    await expect(api.getModelDocs('churn', { etag: '"d1"' })).resolves.toEqual({
      modified: false,
      etag: '"d1"',
    });
    status = 200;
    await expect(api.getModelDocs('churn', { etag: '"d0"' })).resolves.toMatchObject({
      modified: true,
      etag: '"d1"',
    });
  });

  it('long-polls the change feed and can be aborted', async () => {
    const page: ChangeList = {
      items: [{ kind: 'model-version', name: 'churn', version: 3, op: 'upsert', at: '2026-11-22T12:00:00Z' }],
      next: 'c2',
    };
    const { api, calls } = client(() => Response.json(page));
    await expect(api.listChanges({ after: 'c1', wait: '25s', limit: 100 })).resolves.toEqual(page);
    expect(calls[0].url).toBe('http://mlportal:8080/api/v1/changes?after=c1&wait=25s&limit=100');

    const controller = new AbortController();
    const hanging = new MlportalApiClient({
      baseUrl: 'http://mlportal:8080/api',
      getToken: async () => undefined,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => {
          // As fetch does: an aborted signal rejects with its reason, now or later.
          const signal = init!.signal!;
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    });
    const pending = hanging.listChanges({ wait: '25s' }, { signal: controller.signal });
    controller.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
  });

  it('lists and reads datasets', async () => {
    const { api, calls } = client(() => Response.json({ name: 'transactions', team: 'fraud', versions: [] }));
    await api.getDataset('transactions');
    await api.getDatasetVersion('transactions', 2);
    await api.listDatasets({ team: 'fraud' });
    expect(calls.map(c => c.url)).toEqual([
      'http://mlportal:8080/api/v1/datasets/transactions',
      'http://mlportal:8080/api/v1/datasets/transactions/versions/2',
      'http://mlportal:8080/api/v1/datasets?team=fraud',
    ]);
  });
});
