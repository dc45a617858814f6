import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { techdocsBuildsExtensionPoint } from '@backstage/plugin-techdocs-node';
import { MlportalDocsBuildStrategy } from './buildStrategy';

/**
 * Lets TechDocs build the docs mlportal generates for every model in
 * Backstage, also when `techdocs.builder` is `external` for the rest. The
 * docs are read by TechDocs' stock `url` preparer through the mlportal URL
 * reader (@mlportal/plugin-mlportal-backend), which must be installed too;
 * the generator (`techdocs.generator.runIn`) needs mkdocs with
 * mkdocs-techdocs-core.
 */
export const techdocsModuleMlportal = createBackendModule({
  pluginId: 'techdocs',
  moduleId: 'mlportal',
  register(env) {
    env.registerInit({
      deps: {
        builds: techdocsBuildsExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ builds, config, logger }) {
        const strategy = new MlportalDocsBuildStrategy(config);
        builds.setBuildStrategy(strategy);
        logger.info(
          `TechDocs builds mlportal's model docs here; other entities follow techdocs.builder ` +
            `(${config.getOptionalString('techdocs.builder') ?? 'local'})`,
        );
      },
    });
  },
});
