import { MlportalApiError } from './errors';

function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}) {
  return new Response(typeof body === 'string' ? body : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

describe('MlportalApiError.fromResponse', () => {
  it('parses the mlportal error shape', async () => {
    const error = await MlportalApiError.fromResponse(
      jsonResponse(400, {
        error: {
          code: 'invalid_argument',
          message: 'the team is invalid',
          details: [{ field: 'name', reason: 'must be a DNS-1123 label' }],
        },
        requestId: 'req-1',
      }),
    );
    expect(error).toBeInstanceOf(MlportalApiError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('MlportalApiError');
    expect(error.status).toBe(400);
    expect(error.code).toBe('invalid_argument');
    expect(error.message).toBe('the team is invalid');
    expect(error.details).toEqual([{ field: 'name', reason: 'must be a DNS-1123 label' }]);
    expect(error.requestId).toBe('req-1');
  });

  it('defaults details to an empty list', async () => {
    const error = await MlportalApiError.fromResponse(
      jsonResponse(403, {
        error: { code: 'permission_denied', message: 'platform admins only' },
        requestId: 'req-2',
      }),
    );
    expect(error.details).toEqual([]);
    expect(error.code).toBe('permission_denied');
  });

  it('falls back to a code from the status and the X-Request-Id header for other bodies', async () => {
    const error = await MlportalApiError.fromResponse(
      new Response('<html>Bad Gateway</html>', {
        status: 502,
        statusText: 'Bad Gateway',
        headers: { 'x-request-id': 'proxy-7' },
      }),
    );
    expect(error.status).toBe(502);
    expect(error.code).toBe('unavailable');
    expect(error.message).toBe('mlportal API request failed with HTTP 502 Bad Gateway');
    expect(error.requestId).toBe('proxy-7');
  });

  it.each([
    [401, 'unauthenticated'],
    [404, 'not_found'],
    [412, 'precondition_failed'],
    [418, 'invalid_request'],
    [500, 'internal'],
  ])('maps a bare %d to %s', async (status, code) => {
    const error = await MlportalApiError.fromResponse(new Response('', { status }));
    expect(error.code).toBe(code);
  });

  it('ignores JSON that is not the error shape', async () => {
    const error = await MlportalApiError.fromResponse(
      jsonResponse(404, { error: { name: 'NotFoundError', message: 'no such route' } }),
    );
    expect(error.code).toBe('not_found');
    expect(error.message).toBe('mlportal API request failed with HTTP 404');
  });
});
