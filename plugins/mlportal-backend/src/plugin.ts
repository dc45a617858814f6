import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { readMlportalBackendSettings } from './service/config';
import { createRouter } from './service/router';
import { MlportalIdentityTokenIssuer } from './service/tokenIssuer';
import { MlportalUpstream } from './service/upstream';

/**
 * The mlportal backend plugin: forwards /api/mlportal/v1/* to the mlportal Go API
 * as the calling Backstage user or service.
 */
export const mlportalPlugin = createBackendPlugin({
  pluginId: 'mlportal',
  register(env) {
    env.registerInit({
      deps: {
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        userInfo: coreServices.userInfo,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
      },
      async init({ httpRouter, httpAuth, userInfo, config, logger }) {
        const settings = readMlportalBackendSettings(config);
        httpRouter.use(
          await createRouter({
            httpAuth,
            userInfo,
            logger,
            issuer: new MlportalIdentityTokenIssuer(settings),
            upstream: new MlportalUpstream({ baseUrl: settings.baseUrl }),
          }),
        );
        httpRouter.addAuthPolicy({ path: '/health', allow: 'unauthenticated' });
        logger.info(`forwarding /api/mlportal/v1 to ${settings.baseUrl}/api/v1`);
      },
    });
  },
});
