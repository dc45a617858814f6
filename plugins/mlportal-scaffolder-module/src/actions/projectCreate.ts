import type { AuthService, BackstageCredentials } from '@backstage/backend-plugin-api';
import type { UserOrServiceCredentials } from '@mlportal/plugin-mlportal-node';
import { createTemplateAction } from '@backstage/plugin-scaffolder-node';
import type { MlportalApiClient, Project } from '@mlportal/plugin-mlportal-common';
import { z } from 'zod/v3';
import { inputSchema, outputSchema, parseInput, projectRequest, teamOf } from './input';
import { StepProgress } from './progress';

/** The action's id. */
export const PROJECT_CREATE_ACTION_ID = 'mlportal:project:create';

/**
 * Where the action gets its mlportal client: acting as the given credentials (the
 * task's initiator), or as the scaffolder itself when there are none. The
 * `mlportal.client` service (@mlportal/plugin-mlportal-node) provides this.
 */
export interface MlportalClients {
  forCredentials(credentials: UserOrServiceCredentials): Promise<MlportalApiClient>;
}

/** What the action needs of the auth service: its own credentials, and principal checks. */
export type ActionAuth = Pick<AuthService, 'getOwnServiceCredentials' | 'isPrincipal'>;

/** Options of {@link createMlportalProjectCreateAction}. */
export interface ProjectCreateActionOptions {
  clients: MlportalClients;
  auth: ActionAuth;
  /** The mlportal URL people open, for the dry run's placeholder repository URL. */
  publicBaseUrl?: string;
  /** How often the event stream is reopened when it ends before `done`; 5 by default. */
  maxReconnects?: number;
}

/**
 * `mlportal:project:create`: creates an ML project through the mlportal Go API
 * (POST /api/v1/projects) as the task's initiating user, follows its bootstrap
 * saga into the task log and outputs the repository (clone and web URLs), the
 * address of its catalog-info.yaml, the namespace and the System.
 * The request is checkpointed and carries an Idempotency-Key from the task id,
 * so a retried task resumes the same project instead of creating another.
 * It does not register the catalog entity: the template's `catalog:register` step does.
 */
export function createMlportalProjectCreateAction(options: ProjectCreateActionOptions) {
  const maxReconnects = options.maxReconnects ?? 5;
  return createTemplateAction({
    id: PROJECT_CREATE_ACTION_ID,
    description:
      'Creates an mlportal ML project (repository, CI pipeline, namespace and quota, lifecycle ' +
      'template binding, catalog System) and streams its progress into the task log.',
    examples: [
      {
        description: 'A training project of the fraud team',
        example: [
          'steps:',
          '  - id: create',
          '    action: mlportal:project:create',
          '    input:',
          '      name: churn-model',
          '      owner: group:default/fraud',
          '      lifecycleTemplate: training',
          '      gpuQuota: 1',
        ].join('\n'),
      },
    ],
    supportsDryRun: true,
    schema: { input: inputSchema, output: outputSchema },
    async handler(ctx) {
      const input = parseInput(z, ctx.input);
      const team = teamOf(input);
      const request = projectRequest(input, team);

      if (ctx.isDryRun) {
        ctx.logger.info(
          `dry run: would create project ${input.name} in team ${team} with lifecycle template ` +
            `${request.template}${request.templateVersion ? ` ${request.templateVersion}` : ''} ` +
            `on the ${input.repoHost} repository host, as ${ctx.user?.ref ?? 'the scaffolder'}`,
        );
        const base = (options.publicBaseUrl ?? 'http://mlportal.invalid').replace(/\/+$/, '');
        const repoUrl = `${base}/git/${team}/${input.name}.git`;
        ctx.output('repoUrl', repoUrl);
        ctx.output('webUrl', repoUrl);
        ctx.output('catalogInfoUrl', defaultCatalogInfoUrl(repoUrl));
        ctx.output('entityRef', `system:default/${input.name}`);
        ctx.output('namespace', `${team}-${input.name}`);
        ctx.output('projectId', 'prj_dry-run');
        ctx.output('projectUrl', `${base}/api/v1/projects/prj_dry-run`);
        return;
      }

      const client = await clientFor(ctx, options);
      let created = false;
      const projectId = await ctx.checkpoint({
        key: `create-project-${input.name}`,
        fn: async () => {
          const project = await client.createProject(request, {
            idempotencyKey: `scaffolder-task-${ctx.task.id}-${input.name}`,
          });
          created = true;
          ctx.logger.info(`project ${project.name} is ${project.id} in team ${project.team}`);
          return project.id;
        },
      });

      if (!created) {
        // The task was retried after the project was made: resume it, never remake it.
        const existing = await client.getProject(projectId);
        ctx.logger.info(`resuming project ${existing.name} (${projectId}), ${existing.status}`);
        if (existing.status === 'failed') {
          await client.retryProject(projectId);
          ctx.logger.info(`retrying the failed saga of ${projectId} from its failed step`);
        }
      }

      const project = await follow(client, projectId, ctx, maxReconnects);
      if (project.status === 'failed') {
        const step = project.steps.find(s => s.status === 'failed');
        throw new Error(
          `project ${project.name} failed${step ? ` at step ${step.name}: ${step.error ?? 'no reason given'}` : ''}. ` +
            'Fix the cause and retry the task; it resumes the same project from the failed step.',
        );
      }
      if (!project.repoUrl) {
        throw new Error(`project ${project.name} succeeded without a repository URL`);
      }
      // A server that predates Project.webUrl and Project.catalogInfoUrl leaves them out.
      ctx.output('repoUrl', project.repoUrl);
      ctx.output('webUrl', project.webUrl || project.repoUrl);
      ctx.output('catalogInfoUrl', project.catalogInfoUrl || defaultCatalogInfoUrl(project.repoUrl));
      ctx.output('entityRef', project.entityRef ?? `system:default/${project.name}`);
      ctx.output('namespace', project.namespace ?? '');
      ctx.output('projectId', project.id);
      ctx.output(
        'projectUrl',
        `${new URL(project.repoUrl).origin}/api/v1/projects/${encodeURIComponent(project.id)}`,
      );
    },
  });
}

/**
 * Where mlportal's git server serves a repository's catalog-info.yaml on its
 * default branch, for a server that does not name it in the project.
 */
export function defaultCatalogInfoUrl(repoUrl: string): string {
  return `${repoUrl.replace(/\/+$/, '')}/raw/main/catalog-info.yaml`;
}

type HandlerContext = {
  user?: { ref?: string };
  getInitiatorCredentials(): Promise<BackstageCredentials>;
};

/** The client acting as the task's initiator, else as the scaffolder service. */
async function clientFor(
  ctx: HandlerContext,
  options: ProjectCreateActionOptions,
): Promise<MlportalApiClient> {
  let credentials: BackstageCredentials | undefined;
  try {
    credentials = await ctx.getInitiatorCredentials();
  } catch {
    credentials = undefined;
  }
  const { auth, clients } = options;
  if (credentials && (auth.isPrincipal(credentials, 'user') || auth.isPrincipal(credentials, 'service'))) {
    return clients.forCredentials(credentials as UserOrServiceCredentials);
  }
  return clients.forCredentials(
    (await auth.getOwnServiceCredentials()) as UserOrServiceCredentials,
  );
}

/**
 * Follows the project's event stream, logging each step transition, until the
 * `done` event; reopens a stream that ends early. Returns the finished project.
 */
async function follow(
  client: MlportalApiClient,
  projectId: string,
  ctx: { logger: { info(message: string): void; warn(message: string): void }; signal?: AbortSignal },
  maxReconnects: number,
): Promise<Project> {
  const progress = new StepProgress();
  for (let attempt = 0; ; attempt++) {
    for await (const event of client.watchProject(projectId, { signal: ctx.signal })) {
      if (event.type === 'step') {
        const line = progress.line(event.step);
        if (line) ctx.logger.info(line);
      } else if (event.type === 'done') {
        return event.project;
      } else {
        throw new Error(`mlportal stopped following project ${projectId}: ${event.error.error.message}`);
      }
    }
    if (ctx.signal?.aborted) throw new Error(`following project ${projectId} was cancelled`);
    const project = await client.getProject(projectId);
    if (project.status === 'succeeded' || project.status === 'failed') return project;
    if (attempt >= maxReconnects) {
      throw new Error(
        `the progress stream of project ${projectId} ended ${attempt + 1} times before the project ` +
          `finished (${project.status}); it carries on in mlportal: retry the task to follow it again`,
      );
    }
    ctx.logger.warn(`progress stream of ${projectId} ended early; reopening`);
  }
}
