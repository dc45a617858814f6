import { parseEntityRef } from '@backstage/catalog-model';
import { InputError } from '@backstage/errors';
import type { ProjectCreate } from '@mlportal/plugin-mlportal-common';
import type { z as zod } from 'zod/v3';

type Z = typeof zod;

/** A DNS-1123 label as mlportal accepts for names: a-z, 0-9, `-`, 2–63, starting with a letter. */
export const DNS_LABEL = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** The repository hosts the action knows; only `local` works today. */
export const REPO_HOSTS = ['local', 'github'] as const;

/** Why `github` is refused, with what to do instead. */
export const GITHUB_NOT_AVAILABLE =
  'repoHost "github" is not yet available: mlportal creates repositories on its own git ' +
  'server for now. Choose repoHost "local".';

/** The action's input schema, as a zod callback (plugin-scaffolder-node 0.13). */
export const inputSchema = (z: Z) =>
  z.object({
    name: z
      .string()
      .regex(DNS_LABEL, {
        message:
          'must be a DNS label: 2–63 characters of a-z, 0-9 and "-", starting with a letter ' +
          'and not ending with "-"',
      })
      .describe('The project name, a DNS label: the repository, namespace and System name.'),
    owner: z
      .string()
      .min(1)
      .describe('The owning group entity ref (group:default/fraud); its name is the mlportal team.'),
    team: z
      .string()
      .regex(DNS_LABEL, { message: 'must be an mlportal team name (a DNS label)' })
      .optional()
      .describe('The mlportal team, when it differs from the owner group name.'),
    lifecycleTemplate: z
      .string()
      .regex(DNS_LABEL, { message: 'must be a lifecycle template name' })
      .default('training')
      .describe('The lifecycle template: training, batch-inference or realtime-serving.'),
    templateVersion: z
      .string()
      .min(1)
      .optional()
      .describe('The lifecycle template version; the latest release when absent.'),
    framework: z
      .enum(['scikit-learn'])
      .default('scikit-learn')
      .describe('The ML framework of the skeleton; only scikit-learn today.'),
    gpuQuota: z
      .number()
      .int()
      .min(0)
      .max(1024)
      .optional()
      .describe("The GPU quota of the project's namespace; it must fit the team's ceiling."),
    repoHost: z
      .enum(REPO_HOSTS)
      .default('local')
      .refine(host => host !== 'github', { message: GITHUB_NOT_AVAILABLE })
      .describe('Where the repository lives: local (mlportal’s git server). github is not yet available.'),
    description: z
      .string()
      .max(200)
      .regex(/^[^"\\\n]*$/, { message: 'must be one line without " or \\' })
      .optional()
      .describe('One line saying what the project predicts.'),
  });

/** The action's output schema. */
export const outputSchema = (z: Z) =>
  z.object({
    repoUrl: z.string().describe('The clone URL of the repository.'),
    webUrl: z
      .string()
      .describe('Where people browse the repository; its clone URL when mlportal names no other.'),
    catalogInfoUrl: z
      .string()
      .describe(
        "The project's catalog-info.yaml on the default branch, for catalog:register " +
          '(<repoUrl>/raw/main/catalog-info.yaml on mlportal’s git server).',
      ),
    entityRef: z.string().describe('The Backstage System of the project: system:default/<name>.'),
    namespace: z.string().describe('The Kubernetes namespace; empty in local mode.'),
    projectId: z.string().describe('The mlportal project id (prj_…).'),
    projectUrl: z
      .string()
      .describe('The project in the mlportal API, with the state of every step.'),
  });

/** The validated input. */
export type ProjectCreateInput = zod.output<ReturnType<typeof inputSchema>>;

/**
 * Validates raw action input with {@link inputSchema}. The scaffolder checks the
 * JSON Schema derived from it, which loses refinements (the github refusal), so
 * the handler validates again; an InputError lists every offending field.
 */
export function parseInput(z: Z, raw: unknown): ProjectCreateInput {
  const result = inputSchema(z).safeParse(raw);
  if (!result.success) {
    const reasons = result.error.issues.map(
      issue => `${issue.path.join('.') || 'input'}: ${issue.message}`,
    );
    throw new InputError(`invalid input to mlportal:project:create: ${reasons.join('; ')}`);
  }
  return result.data;
}

/**
 * The mlportal team of the project: the explicit `team`, else the name of the
 * owner group (`group:default/fraud` → `fraud`).
 */
export function teamOf(input: Pick<ProjectCreateInput, 'owner' | 'team'>): string {
  if (input.team) return input.team;
  let ref;
  try {
    ref = parseEntityRef(input.owner, { defaultKind: 'group', defaultNamespace: 'default' });
  } catch (error) {
    throw new InputError(`owner "${input.owner}" is not an entity ref: ${(error as Error).message}`);
  }
  if (ref.kind.toLocaleLowerCase('en-US') !== 'group') {
    throw new InputError(
      `owner "${input.owner}" is not a group: pick a group as owner, or name the mlportal team in "team"`,
    );
  }
  if (!DNS_LABEL.test(ref.name)) {
    throw new InputError(
      `owner group "${ref.name}" is not an mlportal team name (a DNS label): name the team in "team"`,
    );
  }
  return ref.name;
}

/** The request body of POST /api/v1/projects for the input. */
export function projectRequest(input: ProjectCreateInput, team: string): ProjectCreate {
  const request: ProjectCreate = { team, name: input.name, template: input.lifecycleTemplate };
  if (input.templateVersion) request.templateVersion = input.templateVersion;
  if (input.description) request.description = input.description;
  if (input.gpuQuota !== undefined) {
    request.quota = { gpus: input.gpuQuota };
  }
  return request;
}
