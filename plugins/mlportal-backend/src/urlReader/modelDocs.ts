import { Readable } from 'node:stream';
import type {
  UrlReaderServiceReadTreeOptions,
  UrlReaderServiceReadTreeResponse,
} from '@backstage/backend-plugin-api';
import type { ReadTreeResponseFactory } from '@backstage/backend-defaults/urlReader';
import { NotModifiedError } from '@backstage/errors';
import type { DocsTree } from '@mlportal/plugin-mlportal-common';
import { refusal, unreachable } from './responses';

/** What {@link readModelDocsTree} needs. */
export interface ModelDocsRequest {
  /** The URL as the caller gave it, for messages. */
  url: string;
  /** Where to send the request: `<apiBaseUrl>/api/v1/models/<model>/docs`. */
  target: string;
  apiBaseUrl: string;
  fetch: typeof fetch;
  token: string;
  etag?: string;
  signal?: UrlReaderServiceReadTreeOptions['signal'];
  filter?: UrlReaderServiceReadTreeOptions['filter'];
  treeResponseFactory: ReadTreeResponseFactory;
}

/**
 * Reads a model's TechDocs source from mlportal (a JSON list of files) as a
 * Backstage tree with the docs' ETag. A 304, or the ETag the caller already
 * has, throws NotModifiedError. File paths must be relative and stay inside
 * the tree.
 */
export async function readModelDocsTree(
  request: ModelDocsRequest,
): Promise<UrlReaderServiceReadTreeResponse> {
  const headers: Record<string, string> = {
    Authorization: `Bearer ${request.token}`,
    Accept: 'application/json',
  };
  if (request.etag) headers['If-None-Match'] = request.etag;
  let response: Response;
  try {
    response = await request.fetch(request.target, {
      headers,
      signal: request.signal as AbortSignal | undefined,
    });
  } catch (error) {
    throw unreachable(error, request.apiBaseUrl, request.url);
  }
  const etag = response.headers.get('etag') ?? '';
  if (response.status === 304 || (response.ok && request.etag && etag === request.etag)) {
    await response.body?.cancel();
    throw new NotModifiedError(`${request.url} is unchanged (ETag ${request.etag})`);
  }
  if (!response.ok) {
    throw await refusal(response, request.url);
  }
  const tree = (await response.json()) as DocsTree;
  const files = tree.files.filter(file => {
    checkPath(file.path, request.url);
    return request.filter?.(file.path, { size: Buffer.byteLength(file.content) }) ?? true;
  });
  const inner = await request.treeResponseFactory.fromReadableArray(
    files.map(file => ({ path: file.path, data: Readable.from([Buffer.from(file.content, 'utf8')]) })),
  );
  return {
    etag,
    files: () => inner.files(),
    archive: () => inner.archive(),
    dir: options => inner.dir(options),
  };
}

/** Refuses absolute paths and `..`: mlportal's docs tree is relative by contract. */
function checkPath(path: string, url: string): void {
  const parts = path.split(/[\\/]/);
  if (path === '' || path.startsWith('/') || /^[a-zA-Z]:/.test(path) || parts.includes('..')) {
    throw new Error(
      `mlportal's docs tree at ${url} names the file "${path}", which is not a relative path ` +
        'inside the tree; this is a bug in the mlportal server',
    );
  }
}
