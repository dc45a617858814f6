import fs from 'node:fs';
import path from 'node:path';
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
import { Entity, stringifyEntityRef } from '@backstage/catalog-model';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
// The mlportal.client service the module needs; in an app, installing the mlportal
// backend plugin package provides it, as here. Test composition only: the module's
// own code depends on @mlportal/plugin-mlportal-node.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import { mlportalClientServiceFactory } from '@mlportal/plugin-mlportal-backend';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import request from 'supertest';
import { parse } from 'yaml';
import { DNS_LABEL } from './actions/input';
import { scaffolderModuleMlportal } from './module';

/**
 * The real scaffolder backend with this module, running the real template
 * (scaffolder-templates/ml-project/template.yaml) against a real `mlportal serve`.
 * The catalog is an in-memory stand-in holding the template and the users.
 */
const TEMPLATE_FILE = path.resolve(__dirname, '../../../scaffolder-templates/ml-project/template.yaml');
const template = parse(fs.readFileSync(TEMPLATE_FILE, 'utf8')) as Entity;

const entities: Record<string, Entity> = {
  'template:default/ml-project': template,
  'user:default/alice': {
    apiVersion: 'backstage.io/v1alpha1',
    kind: 'User',
    metadata: { name: 'alice', namespace: 'default' },
    spec: { memberOf: ['fraud'] },
  },
};

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

const values = {
  name: 'fraud-detector',
  owner: 'group:default/fraud',
  lifecycleTemplate: 'training',
  framework: 'scikit-learn',
  gpuQuota: 1,
  repoHost: 'local',
};

const alice = mockCredentials.user.header('user:default/alice');

describe('the ml-project template in a real scaffolder backend', () => {
  let server: MlportalServer;
  let backend: TestBackend;
  const addLocation = jest.fn(async (location: { type: string; target: string }) => ({
    location: { id: 'loc-1', ...location },
    entities: [],
    exists: false,
  }));

  beforeAll(async () => {
    server = await startMlportalServer();
    await new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    }).createTeam({
      name: 'fraud',
      backstageGroup: 'group:default/fraud',
      members: [{ subject: 'group:default/fraud', role: 'developer' }],
    });
    backend = await startTestBackend({
      features: [
        scaffolderPlugin,
        scaffolderModuleMlportal,
        mlportalClientServiceFactory,
        userInfo,
        catalogServiceMock.mock({
          getEntityByRef: async (ref: any) =>
            entities[(typeof ref === 'string' ? ref : stringifyEntityRef(ref)).toLocaleLowerCase('en-US')],
          addLocation: addLocation as any,
        }).factory,
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            mlportal: {
              server: { baseUrl: server.baseUrl },
              backstage: { baseUrl: server.baseUrl, privateKey: server.privateKeyPem },
            },
          },
        }),
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await backend?.stop();
    await server?.stop();
  });

  it("keeps the template's project name rule the action's", () => {
    const [project] = (template as any).spec.parameters;
    expect(project.properties.name.pattern).toBe(DNS_LABEL.source);
  });

  it('dry-runs the template: validates, logs the plan, creates nothing', async () => {
    const res = await request(backend.server)
      .post('/api/scaffolder/v2/dry-run')
      .set('Authorization', alice)
      .send({ template, values, directoryContents: [] });
    expect(res.status).toBe(200);
    const messages: string[] = res.body.log.map((entry: any) => entry.body.message);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringContaining(
          'dry run: would create project fraud-detector in team fraud with lifecycle template training',
        ),
      ]),
    );
    expect(res.body.output.links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          title: 'Repository',
          url: `${server.baseUrl}/git/fraud/fraud-detector.git`,
        }),
        expect.objectContaining({ entityRef: 'system:default/fraud-detector' }),
      ]),
    );
    const admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    expect((await admin.listProjects({ team: 'fraud' })).items).toEqual([]);
  }, 60_000);

  it('refuses the github host in a dry run with a clear message', async () => {
    const github = { ...template, spec: { ...(template as any).spec } } as any;
    github.spec.parameters = github.spec.parameters.map((page: any) => ({
      ...page,
      properties: {
        ...page.properties,
        ...(page.properties.repoHost && {
          repoHost: { ...page.properties.repoHost, enum: ['local', 'github'] },
        }),
      },
    }));
    const res = await request(backend.server)
      .post('/api/scaffolder/v2/dry-run')
      .set('Authorization', alice)
      .send({ template: github, values: { ...values, repoHost: 'github' }, directoryContents: [] });
    const text = JSON.stringify(res.body);
    expect(text).toContain('repoHost \\"github\\" is not yet available');
  }, 60_000);

  it('runs the template as alice: the project is made, its steps are in the task log', async () => {
    const created = await request(backend.server)
      .post('/api/scaffolder/v2/tasks')
      .set('Authorization', alice)
      .send({ templateRef: 'template:default/ml-project', values });
    expect(created.status).toBe(201);
    const taskId = created.body.id;

    let task: any;
    const deadline = Date.now() + 60_000;
    do {
      await new Promise(resolve => setTimeout(resolve, 200));
      task = (await request(backend.server).get(`/api/scaffolder/v2/tasks/${taskId}`).set('Authorization', alice))
        .body;
    } while (!['completed', 'failed', 'cancelled'].includes(task.status) && Date.now() < deadline);

    const events = (
      await request(backend.server).get(`/api/scaffolder/v2/tasks/${taskId}/events`).set('Authorization', alice)
    ).body as any[];
    // Task log lines as the scaffolder stores them: `info: <message>`, coloured.
    const log = events
      .map(e => String(e.body?.message ?? ''))
      // eslint-disable-next-line no-control-regex
      .map(line => line.replace(/\u001b\[[0-9;]*m/g, '').replace(/^info: /, ''));
    expect({ status: task.status, log }).toMatchObject({ status: 'completed' });
    for (const step of ['repository: done', 'namespace: skipped', 'binding: done', 'catalog: done']) {
      expect(log.some(line => line.startsWith(step))).toBe(true);
    }

    const admin = new MlportalApiClient({
      baseUrl: `${server.baseUrl}/api`,
      getToken: async () => server.adminToken,
    });
    const { items } = await admin.listProjects({ team: 'fraud' });
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({
      name: 'fraud-detector',
      status: 'succeeded',
      createdBy: 'user:default/alice',
      quota: expect.objectContaining({ gpus: 1 }),
    });
    expect(addLocation).toHaveBeenCalledWith(
      { type: 'url', target: `${items[0].repoUrl}/catalog-info.yaml` },
      expect.anything(),
    );
  }, 90_000);
});
