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
import { Entity } from '@backstage/catalog-model';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import catalogModuleTemplateKind from '@backstage/plugin-catalog-backend-module-scaffolder-entity-model';
import scaffolderPlugin from '@backstage/plugin-scaffolder-backend';
import { MlportalApiClient } from '@mlportal/plugin-mlportal-common';
// The mlportal backend plugin package, installed next to the module as in an app: it
// provides the mlportal.client service and the URL reader the catalog reads the
// project's catalog-info.yaml with. Test composition only: the module's own code
// depends on @mlportal/plugin-mlportal-node.
// eslint-disable-next-line @backstage/no-mixed-plugin-imports
import mlportalBackend from '@mlportal/plugin-mlportal-backend';
import { MlportalServer, startMlportalServer } from '@mlportal/plugin-mlportal-node/testUtils';
import request from 'supertest';
import { parse } from 'yaml';
import { DNS_LABEL } from './actions/input';
import { scaffolderModuleMlportal } from './module';

/**
 * The real scaffolder and catalog backends with this module and the mlportal
 * backend plugin, running the real template
 * (scaffolder-templates/ml-project/template.yaml) against a real `mlportal serve`.
 * The catalog holds the template from a file location, as an app's config would.
 */
const TEMPLATE_FILE = path.resolve(__dirname, '../../../scaffolder-templates/ml-project/template.yaml');
const template = parse(fs.readFileSync(TEMPLATE_FILE, 'utf8')) as Entity;

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

/** Polls until check returns a value; fails with what it last saw after the deadline. */
async function eventually<T>(what: string, check: () => Promise<T | undefined>, seconds = 60): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${seconds} s`);
    await new Promise(resolve => setTimeout(resolve, 200));
  }
}

describe('the ml-project template in real scaffolder and catalog backends', () => {
  let server: MlportalServer;
  let backend: TestBackend;

  /** The catalog's entity, or undefined while it has none by that ref. */
  async function entity(kind: string, name: string): Promise<Entity | undefined> {
    const res = await request(backend.server)
      .get(`/api/catalog/entities/by-name/${kind}/default/${name}`)
      .set('Authorization', alice);
    return res.status === 200 ? (res.body as Entity) : undefined;
  }

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
        catalogPlugin,
        catalogModuleTemplateKind,
        scaffolderPlugin,
        scaffolderModuleMlportal,
        mlportalBackend,
        userInfo,
        mockServices.rootConfig.factory({
          data: {
            backend: { baseUrl: 'http://localhost:7007' },
            catalog: {
              // mlportal projects register a System and a Component.
              rules: [{ allow: ['Component', 'System', 'API', 'Resource', 'Location'] }],
              locations: [{ type: 'file', target: TEMPLATE_FILE, rules: [{ allow: ['Template'] }] }],
            },
            mlportal: {
              // Repository URLs start with the public URL; the backend reaches the server directly.
              server: { baseUrl: server.publicBaseUrl },
              backstage: { baseUrl: server.baseUrl, privateKey: server.privateKeyPem },
            },
          },
        }),
      ],
    });
    await eventually('the template in the catalog', () => entity('template', 'ml-project'));
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
          url: `${server.publicBaseUrl}/git/fraud/fraud-detector.git`,
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

  it('runs the template as alice: the project is made and its System lands in the catalog', async () => {
    const created = await request(backend.server)
      .post('/api/scaffolder/v2/tasks')
      .set('Authorization', alice)
      .send({ templateRef: 'template:default/ml-project', values });
    expect(created.status).toBe(201);
    const taskId = created.body.id;

    const task = await eventually('the task to finish', async () => {
      const res = await request(backend.server)
        .get(`/api/scaffolder/v2/tasks/${taskId}`)
        .set('Authorization', alice);
      return ['completed', 'failed', 'cancelled'].includes(res.body.status) ? res.body : undefined;
    });

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
    const catalogInfoUrl = `${items[0].repoUrl}/raw/main/catalog-info.yaml`;
    expect(log).toContain(`Registering ${catalogInfoUrl} in the catalog`);

    // The links the person sees at the end.
    const completion = events.find(e => e.type === 'completion');
    expect(completion?.body?.output?.links).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ title: 'Repository', url: items[0].repoUrl }),
        expect.objectContaining({ entityRef: 'system:default/fraud-detector' }),
      ]),
    );

    // The catalog read catalog-info.yaml from mlportal's git server: the System and its Component.
    const system = await eventually('the System in the catalog', () => entity('system', 'fraud-detector'));
    expect(system.metadata.annotations).toMatchObject({
      'backstage.io/managed-by-location': `url:${catalogInfoUrl}`,
      'mlportal.io/project': 'fraud-detector',
      'mlportal.io/team': 'fraud',
    });
    expect(system.spec?.owner).toBe('group:default/fraud');
    const component = await eventually('the Component in the catalog', () =>
      entity('component', 'fraud-detector-training'),
    );
    expect(component.spec?.system).toBe('fraud-detector');
  }, 120_000);
});
