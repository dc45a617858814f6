import {
  BackstageCredentials,
  BackstageUserPrincipal,
  coreServices,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import {
  mockCredentials,
  mockServices,
  startTestBackend,
  TestBackend,
} from '@backstage/backend-test-utils';
import {
  scaffolderActionsExtensionPoint,
  TemplateAction,
} from '@backstage/plugin-scaffolder-node';
import { createMockActionContext } from '@backstage/plugin-scaffolder-node-test-utils';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
// The mlportal.client service the module needs; in an app, installing the mlportal
// backend plugin package provides it, as here. Test composition only: the module's
// own code depends on @mlportal/plugin-mlportal-node.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import { mlportalClientServiceFactory } from '@mlportal/plugin-mlportal-backend';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import { scaffolderModuleMlportal } from './module';

/** The catalog's view of the test user: alice is in the fraud group. */
const userInfo = createServiceFactory({
  service: coreServices.userInfo,
  deps: {},
  factory: () => ({
    async getUserInfo(credentials: BackstageCredentials) {
      const { userEntityRef } = (credentials as BackstageCredentials<BackstageUserPrincipal>)
        .principal;
      return { userEntityRef, ownershipEntityRefs: [userEntityRef, 'group:default/fraud'] };
    },
  }),
});

describe('scaffolder module mlportal against a real mlportal server', () => {
  let server: MlportalServer;
  let backend: TestBackend;
  const actions: TemplateAction<any, any, any>[] = [];

  beforeAll(async () => {
    server = await startMlportalServer();
    const admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    await admin.createTeam({
      name: 'fraud',
      backstageGroup: 'group:default/fraud',
      members: [{ subject: 'group:default/fraud', role: 'developer' }],
    });
    backend = await startTestBackend({
      extensionPoints: [[scaffolderActionsExtensionPoint, { addActions: (...a) => actions.push(...a) }]],
      features: [
        scaffolderModuleMlportal,
        mlportalClientServiceFactory,
        userInfo,
        mockServices.rootConfig.factory({
          data: {
            mlportal: {
              backstage: { baseUrl: server.baseUrl, privateKey: server.privateKeyPem, keyId: 'scaffolder-test' },
            },
          },
        }),
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await backend?.stop();
    await server?.stop();
  });

  function run(taskId: string, checkpoints: Map<string, unknown>) {
    const logger = mockServices.logger.mock();
    const alice = mockCredentials.user('user:default/alice');
    const ctx = {
      ...createMockActionContext({
        input: {
          name: 'churn-model',
          owner: 'group:default/fraud',
          lifecycleTemplate: 'training',
          gpuQuota: 1,
          repoHost: 'local',
        },
        logger,
        task: { id: taskId },
        user: { ref: 'user:default/alice' },
      }),
      getInitiatorCredentials: async () => alice,
      async checkpoint({ key, fn }: { key: string; fn: () => Promise<unknown> }) {
        if (!checkpoints.has(key)) checkpoints.set(key, await fn());
        return checkpoints.get(key);
      },
    };
    return { ctx, logger };
  }

  const outputsOf = (ctx: { output: jest.Mock }) =>
    Object.fromEntries(ctx.output.mock.calls.map(([name, value]) => [name, value]));

  it('registers mlportal:project:create with the scaffolder', () => {
    expect(actions.map(a => a.id)).toEqual(['mlportal:project:create']);
  });

  it('creates the project as the user, streams each step and outputs the repository', async () => {
    const [action] = actions;
    const checkpoints = new Map<string, unknown>();
    const { ctx, logger } = run('task-1', checkpoints);
    await action.handler(ctx as any);

    const outputs = outputsOf(ctx as any);
    const repoUrl = `${server.publicBaseUrl}/git/fraud/churn-model.git`;
    expect(outputs).toEqual({
      repoUrl,
      webUrl: repoUrl,
      catalogInfoUrl: `${repoUrl}/raw/main/catalog-info.yaml`,
      entityRef: 'system:default/churn-model',
      namespace: '',
      projectId: expect.stringMatching(/^prj_/),
      projectUrl: expect.stringMatching(/^http:\/\/localhost:\d+\/api\/v1\/projects\/prj_/),
    });
    const lines = logger.info.mock.calls.map(([message]) => String(message));
    for (const step of ['repository: done', 'namespace: skipped', 'binding: done', 'catalog: done']) {
      expect(lines.some(line => line.startsWith(step))).toBe(true);
    }
    expect(lines.find(line => line.startsWith('repository: done'))).toMatch(/^repository: done \(\d+\.\d s\)/);

    const project = await new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    }).getProject(outputs.projectId);
    expect(project).toMatchObject({ status: 'succeeded', createdBy: 'user:default/alice', team: 'fraud' });
    expect(project.quota?.gpus).toBe(1);

    // The task retried: the checkpoint holds the project, nothing is created again.
    const retried = run('task-1', checkpoints);
    await action.handler(retried.ctx as any);
    expect(outputsOf(retried.ctx as any)).toEqual(outputs);

    // Even with the checkpoint lost, the task id's Idempotency-Key yields the same project.
    const replayed = run('task-1', new Map());
    await action.handler(replayed.ctx as any);
    expect(outputsOf(replayed.ctx as any).projectId).toBe(outputs.projectId);

    const admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    const { items } = await admin.listProjects({ team: 'fraud' });
    expect(items.map(p => p.id)).toEqual([outputs.projectId]);
  }, 60_000);

  it('refuses a taken name from another task with the API error', async () => {
    const [action] = actions;
    const { ctx } = run('task-2', new Map());
    (ctx.input as any).gpuQuota = 2;
    await expect(action.handler(ctx as any)).rejects.toThrow(/already/i);
  }, 60_000);
});
