import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { urlReaderFactoriesServiceRef } from '@backstage/backend-defaults/urlReader';
import { readMlportalBackendSettings } from '../service/config';
import { MlportalIdentityTokenIssuer } from '../service/tokenIssuer';
import { MlportalUrlReader } from './MlportalUrlReader';

/**
 * Adds {@link MlportalUrlReader} to every plugin's UrlReaderService, through
 * Backstage's `urlReaderFactoriesServiceRef`. The reader acts as the plugin
 * that reads (`plugin:catalog` for the catalog, `plugin:techdocs` for
 * TechDocs), with a token signed with `mlportal.backstage.privateKey`, and
 * answers URLs under `/git/` and models' docs (`/api/v1/models/<model>/docs`,
 * as trees) of `mlportal.server.baseUrl` and `mlportal.backstage.baseUrl`. Without a
 * private key configured it adds no reader and logs why. The package's default
 * export installs it with the plugin.
 */
export const mlportalUrlReaderFactory = createServiceFactory({
  service: urlReaderFactoriesServiceRef,
  deps: { auth: coreServices.auth },
  async factory({ auth }) {
    return ({ config, logger, treeResponseFactory }) => {
      if (!config.getOptionalString('mlportal.backstage.privateKey')) {
        logger.warn(
          "mlportal.backstage.privateKey is not set: files on mlportal's git server cannot be read " +
            '(catalog-info.yaml of mlportal projects will not register)',
        );
        return [];
      }
      const settings = readMlportalBackendSettings(config);
      const issuer = new MlportalIdentityTokenIssuer(settings);
      const publicBaseUrl = config.getOptionalString('mlportal.server.baseUrl');
      const reader = new MlportalUrlReader({
        treeResponseFactory,
        baseUrls: [settings.baseUrl, ...(publicBaseUrl ? [publicBaseUrl] : [])],
        apiBaseUrl: settings.baseUrl,
        async getToken() {
          const { principal } = await auth.getOwnServiceCredentials();
          return issuer.issueToken({ kind: 'service', subject: principal.subject });
        },
      });
      return [{ predicate: url => reader.predicate(url), reader }];
    };
  },
});
