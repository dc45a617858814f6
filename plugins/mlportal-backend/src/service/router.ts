import { randomUUID } from 'node:crypto';
import express, { ErrorRequestHandler } from 'express';
import Router from 'express-promise-router';
import type {
  HttpAuthService,
  LoggerService,
  UserInfoService,
} from '@backstage/backend-plugin-api';
import { isError } from '@backstage/errors';
import type { ErrorResponse } from '@mlportal/plugin-mlportal-common';
import { resolvePrincipal } from './principal';
import type { MlportalIdentityTokenIssuer } from './tokenIssuer';
import {
  FORWARDED_REQUEST_HEADERS,
  FORWARDED_RESPONSE_HEADERS,
  MlportalUpstream,
} from './upstream';

/** Dependencies of the plugin's router. */
export interface RouterOptions {
  httpAuth: HttpAuthService;
  userInfo: UserInfoService;
  logger: LoggerService;
  issuer: MlportalIdentityTokenIssuer;
  upstream: MlportalUpstream;
}

/** The largest request body forwarded; the Go API enforces its own, smaller limits. */
const MAX_BODY = '10mb';

/**
 * The plugin's routes, mounted at /api/mlportal:
 *   GET /health  — unauthenticated; whether the Go API answers GET /readyz.
 *   ALL /v1/*    — forwarded to {baseUrl}/api/v1/* as the calling user or service.
 * The router passes the Go API's answers on unchanged and adds no API of its own.
 */
export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { httpAuth, userInfo, logger, issuer, upstream } = options;
  const router = Router();

  router.get('/health', async (_req, res) => {
    const { reachable, detail } = await upstream.probe();
    res
      .status(reachable ? 200 : 503)
      .json({ status: reachable ? 'ok' : 'unavailable', checks: { api: detail } });
  });

  router.all('/v1/*', express.raw({ type: () => true, limit: MAX_BODY }), async (req, res) => {
    const credentials = await httpAuth.credentials(req, { allow: ['user', 'service'] });
    const principal = await resolvePrincipal(credentials, userInfo);
    const token = await issuer.issueToken(principal);

    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const value = req.header(name);
      if (value !== undefined) headers[name] = value;
    }
    const response = await upstream.forward({
      method: req.method,
      pathAndQuery: req.url,
      headers,
      body: Buffer.isBuffer(req.body) ? req.body : undefined,
      token,
    });

    res.status(response.status);
    for (const name of FORWARDED_RESPONSE_HEADERS) {
      const value = response.headers.get(name);
      if (value !== null) res.setHeader(name, value);
    }
    res.end(Buffer.from(await response.arrayBuffer()));
  });

  router.use(unavailableHandler(logger));
  return router;
}

/**
 * Answers a ServiceUnavailableError (the Go API could not be reached) in the
 * mlportal error shape, so clients handle it like any other mlportal error.
 * Every other error goes on to Backstage's error handler.
 */
function unavailableHandler(logger: LoggerService): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (!isError(error) || error.name !== 'ServiceUnavailableError' || res.headersSent) {
      next(error);
      return;
    }
    const requestId = randomUUID();
    logger.warn(`${req.method} ${req.originalUrl}: ${error.message}`, { requestId });
    const body: ErrorResponse = {
      error: { code: 'unavailable', message: error.message },
      requestId,
    };
    res.status(503).json(body);
  };
}
