import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { catalogProcessingExtensionPoint } from '@backstage/plugin-catalog-node';
import { mlportalClientServiceRef } from '@mlportal/plugin-mlportal-node';
import { MlportalEntityProvider } from './provider';
import { readMlportalCatalogSettings } from './settings';

/**
 * Adds the {@link MlportalEntityProvider} to the catalog: mlportal's models,
 * datasets and artifact store, fully on `mlportal.catalog.schedule` and in
 * deltas from the change feed. It calls mlportal as the catalog's own service
 * principal (`plugin:catalog`) through the `mlportal.client` service, so the
 * mlportal backend plugin package must be installed too.
 */
export const catalogModuleMlportal = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'mlportal',
  register(env) {
    env.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        mlportal: mlportalClientServiceRef,
        auth: coreServices.auth,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
      },
      async init({ catalog, mlportal, auth, config, logger, scheduler, lifecycle }) {
        const settings = readMlportalCatalogSettings(config);
        const provider = new MlportalEntityProvider({
          source: await mlportal.forCredentials(await auth.getOwnServiceCredentials()),
          settings,
          logger,
          taskRunner: scheduler.createScheduledTaskRunner(settings.schedule),
        });
        catalog.addEntityProvider(provider);
        lifecycle.addShutdownHook(() => provider.stop());
        logger.info(
          `mlportal entity provider: full sync ${JSON.stringify(settings.schedule.frequency)}, ` +
            `change feed ${settings.changes ? `followed (wait ${settings.wait})` : 'not followed'}`,
        );
      },
    });
  },
});
