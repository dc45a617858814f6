import { InputError } from '@backstage/errors';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import type { MlportalApiClient, Project } from '@mlportal/plugin-mlportal-common';
import { GITHUB_NOT_AVAILABLE } from './input';
import { createMlportalProjectCreateAction } from './projectCreate';
import { StepProgress } from './progress';

const valid = {
  name: 'churn-model',
  owner: 'group:default/fraud',
  lifecycleTemplate: 'training',
  repoHost: 'local',
};

function setup() {
  const forCredentials = jest.fn<Promise<MlportalApiClient>, unknown[]>(async () => {
    throw new Error('the action must not call mlportal here');
  });
  const auth = mockServices.auth.mock();
  const action = createMlportalProjectCreateAction({
    clients: { forCredentials },
    auth,
    publicBaseUrl: 'http://localhost:8080/',
  });
  return { action, forCredentials, auth };
}

function context(input: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const logger = mockServices.logger.mock();
  const ctx = {
    ...createMockActionContext({ input: input as any, logger }),
    ...extra,
  };
  return { ctx, logger };
}

describe('mlportal:project:create input', () => {
  it.each([
    ['an upper-case name', { name: 'Churn' }, /name: must be a DNS label/],
    ['a name ending in -', { name: 'churn-' }, /name: must be a DNS label/],
    ['a one-letter name', { name: 'c' }, /name: must be a DNS label/],
    ['the github host', { repoHost: 'github' }, /repoHost "github" is not yet available/],
    ['an unknown host', { repoHost: 'gitlab' }, /repoHost/],
    ['a negative GPU quota', { gpuQuota: -1 }, /gpuQuota/],
    ['a user as owner', { owner: 'user:default/alice' }, /is not a group: .* name the mlportal team in "team"/],
    ['a quote in the description', { description: 'say "hi"' }, /description: must be one line/],
  ])('refuses %s before calling mlportal', async (_, change, message) => {
    const { action, forCredentials } = setup();
    const { ctx } = context({ ...valid, ...change });
    const run = action.handler(ctx as any);
    await expect(run).rejects.toThrow(InputError);
    await expect(run).rejects.toThrow(message);
    expect(forCredentials).not.toHaveBeenCalled();
  });

  it('says plainly that github is not available', () => {
    expect(GITHUB_NOT_AVAILABLE).toMatch(/not yet available.*Choose repoHost "local"/);
  });

  it('publishes the name pattern and the host enum in its JSON schema', () => {
    const { action } = setup();
    const schema = action.schema?.input as any;
    expect(schema.required).toEqual(expect.arrayContaining(['name', 'owner']));
    expect(schema.properties.name.pattern).toBe('^[a-z][a-z0-9-]{0,61}[a-z0-9]$');
    expect(schema.properties.repoHost.enum).toEqual(['local', 'github']);
    expect(action.supportsDryRun).toBe(true);
  });
});

describe('mlportal:project:create dry run', () => {
  it('validates, logs what it would do, outputs placeholders and calls nothing', async () => {
    const { action, forCredentials, auth } = setup();
    const { ctx, logger } = context(
      { ...valid, gpuQuota: 2 },
      { isDryRun: true, user: { ref: 'user:default/alice' } },
    );
    await action.handler(ctx as any);

    expect(forCredentials).not.toHaveBeenCalled();
    expect(auth.getOwnServiceCredentials).not.toHaveBeenCalled();
    expect(logger.info).toHaveBeenCalledWith(
      'dry run: would create project churn-model in team fraud with lifecycle template training ' +
        'on the local repository host, as user:default/alice',
    );
    expect(ctx.output).toHaveBeenCalledWith('repoUrl', 'http://localhost:8080/git/fraud/churn-model.git');
    expect(ctx.output).toHaveBeenCalledWith('webUrl', 'http://localhost:8080/git/fraud/churn-model.git');
    expect(ctx.output).toHaveBeenCalledWith(
      'catalogInfoUrl',
      'http://localhost:8080/git/fraud/churn-model.git/raw/main/catalog-info.yaml',
    );
    expect(ctx.output).toHaveBeenCalledWith('entityRef', 'system:default/churn-model');
    expect(ctx.output).toHaveBeenCalledWith('namespace', 'fraud-churn-model');
    expect(ctx.output).toHaveBeenCalledWith('projectId', 'prj_dry-run');
    expect(ctx.output).toHaveBeenCalledWith(
      'projectUrl',
      'http://localhost:8080/api/v1/projects/prj_dry-run',
    );
  });

  it('uses an explicit team over the owner group', async () => {
    const { action } = setup();
    const { ctx } = context({ ...valid, team: 'risk' }, { isDryRun: true });
    await action.handler(ctx as any);
    expect(ctx.output).toHaveBeenCalledWith('repoUrl', 'http://localhost:8080/git/risk/churn-model.git');
  });
});

describe('mlportal:project:create against a client', () => {
  const finished = (status: Project['status']): Project => ({
    id: 'prj_1',
    team: 'fraud',
    name: 'churn-model',
    template: 'training',
    templateVersion: '1.0.0',
    overrides: {},
    scm: 'local',
    repoUrl: 'http://localhost:8080/git/fraud/churn-model.git',
    entityRef: 'system:default/churn-model',
    status,
    steps: [
      {
        name: 'repository',
        status: status === 'failed' ? 'failed' : 'done',
        attempts: 1,
        error: status === 'failed' ? 'git is not installed on the mlportal server' : undefined,
      },
    ],
    createdBy: 'user:default/alice',
    createdAt: '2026-11-22T12:00:00Z',
    updatedAt: '2026-11-22T12:00:01Z',
    version: 3,
  });

  function fakeClient(project: Project) {
    return {
      createProject: jest.fn(async () => ({ ...project, status: 'pending' as const })),
      getProject: jest.fn(async () => project),
      retryProject: jest.fn(async () => project),
      async *watchProject() {
        yield { type: 'done' as const, project };
      },
    } as unknown as MlportalApiClient & Record<string, jest.Mock>;
  }

  it('acts as the initiating user and sends an Idempotency-Key from the task id', async () => {
    const client = fakeClient(finished('succeeded'));
    const forCredentials = jest.fn(async () => client);
    const auth = mockServices.auth.mock();
    auth.isPrincipal.mockImplementation(
      ((credentials: any, type: string) => credentials.principal.type === type) as any,
    );
    const action = createMlportalProjectCreateAction({ clients: { forCredentials }, auth });
    const alice = mockCredentials.user('user:default/alice');
    const { ctx } = context(valid, {
      getInitiatorCredentials: async () => alice,
      task: { id: 'task-7' },
    });
    await action.handler(ctx as any);

    expect(forCredentials).toHaveBeenCalledWith(alice);
    expect(auth.getOwnServiceCredentials).not.toHaveBeenCalled();
    expect(client.createProject).toHaveBeenCalledWith(
      { team: 'fraud', name: 'churn-model', template: 'training' },
      { idempotencyKey: 'scaffolder-task-task-7-churn-model' },
    );
    expect(ctx.output).toHaveBeenCalledWith('namespace', '');
    expect(ctx.output).toHaveBeenCalledWith('projectId', 'prj_1');
    // A project without webUrl and catalogInfoUrl: derived from repoUrl.
    expect(ctx.output).toHaveBeenCalledWith('webUrl', 'http://localhost:8080/git/fraud/churn-model.git');
    expect(ctx.output).toHaveBeenCalledWith(
      'catalogInfoUrl',
      'http://localhost:8080/git/fraud/churn-model.git/raw/main/catalog-info.yaml',
    );
  });

  it("prefers the project's own webUrl and catalogInfoUrl", async () => {
    const project = {
      ...finished('succeeded'),
      webUrl: 'https://code.example.com/fraud/churn-model',
      catalogInfoUrl: 'https://code.example.com/fraud/churn-model/raw/trunk/catalog-info.yaml',
    };
    const auth = mockServices.auth.mock();
    auth.isPrincipal.mockReturnValue(true);
    const action = createMlportalProjectCreateAction({
      clients: { forCredentials: async () => fakeClient(project) },
      auth,
    });
    const { ctx } = context(valid);
    await action.handler(ctx as any);
    expect(ctx.output).toHaveBeenCalledWith('webUrl', project.webUrl);
    expect(ctx.output).toHaveBeenCalledWith('catalogInfoUrl', project.catalogInfoUrl);
  });

  it('falls back to the scaffolder service without an initiator', async () => {
    const client = fakeClient(finished('succeeded'));
    const forCredentials = jest.fn(async () => client);
    const auth = mockServices.auth.mock();
    const own = mockCredentials.service('plugin:scaffolder');
    auth.isPrincipal.mockReturnValue(false);
    auth.getOwnServiceCredentials.mockResolvedValue(own);
    const action = createMlportalProjectCreateAction({ clients: { forCredentials }, auth });
    const { ctx } = context(valid, { getInitiatorCredentials: async () => mockCredentials.none() });
    await action.handler(ctx as any);
    expect(forCredentials).toHaveBeenCalledWith(own);
  });

  it("fails with the failed step's error, and resumes the project when the task is retried", async () => {
    const client = fakeClient(finished('failed'));
    const auth = mockServices.auth.mock();
    auth.isPrincipal.mockReturnValue(true);
    const action = createMlportalProjectCreateAction({
      clients: { forCredentials: async () => client },
      auth,
    });
    const checkpoints = new Map<string, unknown>();
    const checkpoint = async ({ key, fn }: { key: string; fn: () => Promise<unknown> }) => {
      if (!checkpoints.has(key)) checkpoints.set(key, await fn());
      return checkpoints.get(key);
    };
    const first = context(valid, { checkpoint });
    await expect(action.handler(first.ctx as any)).rejects.toThrow(
      'project churn-model failed at step repository: git is not installed on the mlportal server',
    );
    expect(checkpoints.get('create-project-churn-model')).toBe('prj_1');

    const retried = context(valid, { checkpoint });
    await expect(action.handler(retried.ctx as any)).rejects.toThrow(/failed at step repository/);
    expect(client.createProject).toHaveBeenCalledTimes(1);
    expect(client.retryProject).toHaveBeenCalledWith('prj_1');
  });
});

describe('StepProgress', () => {
  it('logs transitions with durations, details and errors, once each', () => {
    const progress = new StepProgress();
    const at = (s: number) => new Date(Date.UTC(2026, 10, 22, 12, 0, s, 0)).toISOString();
    expect(progress.line({ name: 'repository', status: 'pending', attempts: 0 })).toBeUndefined();
    expect(progress.line({ name: 'repository', status: 'running', attempts: 1, startedAt: at(0) })).toBe(
      'repository: running',
    );
    expect(
      progress.line({ name: 'repository', status: 'running', attempts: 1, startedAt: at(0) }),
    ).toBeUndefined();
    expect(
      progress.line({
        name: 'repository',
        status: 'done',
        attempts: 1,
        startedAt: '2026-11-22T12:00:00.000Z',
        finishedAt: '2026-11-22T12:00:01.200Z',
        detail: 'first commit f9c8c15',
      }),
    ).toBe('repository: done (1.2 s) — first commit f9c8c15');
    expect(progress.line({ name: 'namespace', status: 'skipped', attempts: 0 })).toBe('namespace: skipped');
    expect(
      progress.line({ name: 'binding', status: 'failed', attempts: 1, error: 'unknown template' }),
    ).toBe('binding: failed — unknown template');
  });
});
