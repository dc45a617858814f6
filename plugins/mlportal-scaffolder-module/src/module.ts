import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import { mlportalClientServiceRef } from '@mlportal/plugin-mlportal-node';
import { createMlportalProjectCreateAction } from './actions/projectCreate';

/**
 * Adds the `mlportal:project:create` action to the scaffolder. It calls the Go API
 * through the `mlportal.client` service (configured by `mlportal.backstage`).
 */
export const scaffolderModuleMlportal = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'mlportal',
  register(env) {
    env.registerInit({
      deps: {
        scaffolder: scaffolderActionsExtensionPoint,
        mlportal: mlportalClientServiceRef,
        auth: coreServices.auth,
        config: coreServices.rootConfig,
      },
      async init({ scaffolder, mlportal, auth, config }) {
        scaffolder.addActions(
          createMlportalProjectCreateAction({
            clients: mlportal,
            auth,
            publicBaseUrl:
              config.getOptionalString('mlportal.server.baseUrl') ??
              config.getOptionalString('mlportal.backstage.baseUrl'),
          }),
        );
      },
    });
  },
});
