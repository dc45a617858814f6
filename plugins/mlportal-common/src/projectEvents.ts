import type { ErrorResponse, Project, ProjectStep } from './types';

/**
 * One server-sent event of `GET /api/v1/projects/{id}/events`: a step as it
 * stands, the finished project, or an error the server met while following it.
 */
export type ProjectEvent =
  | { type: 'step'; step: ProjectStep }
  | { type: 'done'; project: Project }
  | { type: 'error'; error: ErrorResponse };

/**
 * Parses a `text/event-stream` body (the subset mlportal writes: `event:` and
 * `data:` lines, blank-line separated, `:` comments as keep-alives) into
 * {@link ProjectEvent}s. Events of other names are skipped; it does not reconnect.
 */
export async function* parseProjectEvents(
  body: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>,
): AsyncGenerator<ProjectEvent> {
  const decoder = new TextDecoder();
  let buffer = '';
  let name = 'message';
  let data: string[] = [];

  const dispatch = (): ProjectEvent | undefined => {
    const text = data.join('\n');
    const type = name;
    name = 'message';
    data = [];
    if (text === '') return undefined;
    const value = JSON.parse(text);
    switch (type) {
      case 'step':
        return { type, step: value as ProjectStep };
      case 'done':
        return { type, project: value as Project };
      case 'error':
        return { type, error: value as ErrorResponse };
      default:
        return undefined;
    }
  };

  /** Applies one `field: value` line; `:` comments (keep-alives) are skipped. */
  const field = (line: string) => {
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const key = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (key === 'event') name = value;
    else if (key === 'data') data.push(value);
  };

  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    for (let newline = buffer.search(/\r?\n/); newline >= 0; newline = buffer.search(/\r?\n/)) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(buffer[newline] === '\r' ? newline + 2 : newline + 1);
      if (line === '') {
        const event = dispatch();
        if (event) yield event;
      } else {
        field(line);
      }
    }
  }
  // A stream cut before its final blank line: take what arrived.
  buffer += decoder.decode();
  if (buffer !== '') field(buffer);
  const last = dispatch();
  if (last) yield last;
}
