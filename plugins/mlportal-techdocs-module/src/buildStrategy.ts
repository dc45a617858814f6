import type { Config } from '@backstage/config';
import type { Entity } from '@backstage/catalog-model';
import type { DocsBuildStrategy } from '@backstage/plugin-techdocs-node';

const TECHDOCS_REF = 'backstage.io/techdocs-ref';
/** `url:<base>/api/v1/models/<model>/docs`, the reference the mlportal catalog module writes. */
const DOCS_PATH = /\/api\/v1\/models\/[^/]+\/docs\/?$/;

/**
 * Whether an entity's TechDocs are the docs mlportal generates for a model:
 * its `backstage.io/techdocs-ref` is `url:<base>/api/v1/models/<model>/docs`
 * with `<base>` one of mlportal's URLs.
 */
export function isMlportalModelDocs(entity: Entity, baseUrls: string[]): boolean {
  const ref = entity.metadata.annotations?.[TECHDOCS_REF];
  if (!ref?.startsWith('url:')) return false;
  let url: URL;
  try {
    url = new URL(ref.slice('url:'.length));
  } catch {
    return false;
  }
  return baseUrls.some(base => {
    const b = new URL(base);
    const prefix = b.pathname.replace(/\/+$/, '');
    return (
      url.origin === b.origin &&
      url.pathname.startsWith(`${prefix}/api/v1/models/`) &&
      DOCS_PATH.test(url.pathname.slice(prefix.length))
    );
  });
}

/** mlportal's URLs from the configuration: `mlportal.server.baseUrl` and `mlportal.backstage.baseUrl`. */
export function mlportalBaseUrls(config: Config): string[] {
  const urls = [
    config.getOptionalString('mlportal.server.baseUrl'),
    config.getOptionalString('mlportal.backstage.baseUrl'),
  ].filter((u): u is string => !!u);
  return urls.length > 0 ? urls : ['http://localhost:8080'];
}

/**
 * Builds model docs from mlportal in Backstage (they exist nowhere else: no CI
 * publishes them), and every other entity as `techdocs.builder` says, as
 * TechDocs' default strategy does: `local` (the default) builds, `external`
 * only serves what CI published.
 */
export class MlportalDocsBuildStrategy implements DocsBuildStrategy {
  constructor(
    private readonly config: Config,
    private readonly baseUrls: string[] = mlportalBaseUrls(config),
  ) {}

  async shouldBuild({ entity }: { entity: Entity }): Promise<boolean> {
    if (isMlportalModelDocs(entity, this.baseUrls)) return true;
    return (this.config.getOptionalString('techdocs.builder') ?? 'local') === 'local';
  }
}
