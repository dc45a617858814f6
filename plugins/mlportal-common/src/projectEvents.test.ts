import { parseProjectEvents, ProjectEvent } from './projectEvents';
import { MlportalApiClient } from './client';

const encoder = new TextEncoder();

async function* chunks(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield encoder.encode(part);
}

async function collect(body: AsyncIterable<Uint8Array>): Promise<ProjectEvent[]> {
  const events: ProjectEvent[] = [];
  for await (const event of parseProjectEvents(body)) events.push(event);
  return events;
}

const step = { name: 'repository', status: 'running', attempts: 1 };
const project = { id: 'prj_1', name: 'churn', status: 'succeeded', steps: [] };

describe('parseProjectEvents', () => {
  it('parses step and done events split across chunks, skipping keep-alives', async () => {
    const text =
      `event: step\ndata: ${JSON.stringify(step)}\n\n` +
      ': keep-alive\n\n' +
      `event: done\r\ndata: ${JSON.stringify(project)}\r\n\r\n`;
    const events = await collect(chunks(text.slice(0, 7), text.slice(7, 40), text.slice(40)));
    expect(events).toEqual([
      { type: 'step', step },
      { type: 'done', project },
    ]);
  });

  it('reports server errors and ignores unknown events', async () => {
    const error = { error: { code: 'unavailable', message: 'store down' }, requestId: 'r1' };
    const events = await collect(
      chunks(`event: other\ndata: {}\n\nevent: error\ndata: ${JSON.stringify(error)}`),
    );
    expect(events).toEqual([{ type: 'error', error }]);
  });
});

describe('MlportalApiClient projects', () => {
  it('creates a project with an Idempotency-Key and follows its events', async () => {
    const calls: { url: string; init: RequestInit }[] = [];
    const api = new MlportalApiClient({
      baseUrl: 'http://mlportal/api',
      getToken: async () => 'tok',
      fetch: async (input, init) => {
        calls.push({ url: String(input), init: init ?? {} });
        if (String(input).endsWith('/events')) {
          return new Response(`event: done\ndata: ${JSON.stringify(project)}\n\n`, {
            headers: { 'Content-Type': 'text/event-stream' },
          });
        }
        return Response.json(project, { status: 201 });
      },
    });
    await expect(
      api.createProject({ team: 'fraud', name: 'churn', template: 'training' }, { idempotencyKey: 'k1' }),
    ).resolves.toMatchObject({ id: 'prj_1' });
    expect(calls[0].url).toBe('http://mlportal/api/v1/projects');
    expect((calls[0].init.headers as Record<string, string>)['Idempotency-Key']).toBe('k1');

    const events: ProjectEvent[] = [];
    for await (const event of api.watchProject('prj_1')) events.push(event);
    expect(events).toEqual([{ type: 'done', project }]);
    expect(calls[1].url).toBe('http://mlportal/api/v1/projects/prj_1/events');
    expect((calls[1].init.headers as Record<string, string>).Accept).toBe('text/event-stream');
  });
});
