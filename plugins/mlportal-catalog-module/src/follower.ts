import type { LoggerService } from '@backstage/backend-plugin-api';
import type { Change, ChangeList, ListChangesQuery, LongPollOptions } from '@mlportal/plugin-mlportal-common';

/** The part of the mlportal client the follower uses. */
export interface ChangeFeed {
  listChanges(query: ListChangesQuery, options?: LongPollOptions): Promise<ChangeList>;
}

/** Options of {@link ChangeFollower}. */
export interface ChangeFollowerOptions {
  feed: ChangeFeed;
  /** Applies a page of changes; a throw retries the same page after a pause. */
  apply(changes: Change[]): Promise<void>;
  logger: LoggerService;
  /** The long poll's `wait`, e.g. `25s`. */
  wait: string;
  /** Retries back off from `minBackoffMs` (default 1 s), doubling, up to this. */
  maxBackoffMs: number;
  minBackoffMs?: number;
  /** Page size; the feed's maximum by default. */
  limit?: number;
  /** How long to wait for an answer beyond `wait` before giving up on a poll (default 15 s). */
  graceMs?: number;
}

const MAX_LIMIT = 1000;

/**
 * Follows mlportal's change feed (`GET /api/v1/changes`): long-polls from its
 * cursor, hands each page to `apply`, and moves the cursor only once a page
 * is applied, so an error or a restart of the loop resumes where it stopped.
 * Errors back off exponentially (with jitter) up to `maxBackoffMs`. `stop()`
 * ends the loop and any poll or pause in flight.
 *
 * The first cursor is the feed's head ({@link ChangeFollower.head}): the
 * provider's full sync, which runs after the head is known, covers the
 * history before it.
 */
export class ChangeFollower {
  private cursor: string | undefined;
  private headPromise: Promise<string> | undefined;
  private readonly stopController = new AbortController();
  private loop: Promise<void> | undefined;
  private failures = 0;

  constructor(private readonly options: ChangeFollowerOptions) {}

  /** The cursor the next poll starts after; undefined before the head is known. */
  get position(): string | undefined {
    return this.cursor;
  }

  /**
   * Fast-forwards to the end of the feed once, without applying what it skips,
   * and returns the cursor. Later calls return the cursor the follower has.
   */
  async head(): Promise<string> {
    if (this.cursor !== undefined) return this.cursor;
    this.headPromise ??= this.fastForward().catch(error => {
      this.headPromise = undefined;
      throw error;
    });
    return this.headPromise;
  }

  /** Starts the loop (once). */
  start(): void {
    this.loop ??= this.run();
  }

  /** Stops the loop, aborting a poll or pause in flight, and waits for it. */
  async stop(): Promise<void> {
    this.stopController.abort(new Error('the mlportal change follower is stopping'));
    await this.loop;
  }

  private get stopped(): boolean {
    return this.stopController.signal.aborted;
  }

  private async fastForward(): Promise<string> {
    let after: string | undefined;
    for (;;) {
      const page = await this.options.feed.listChanges(
        { ...(after ? { after } : {}), limit: MAX_LIMIT },
        { signal: this.stopController.signal },
      );
      after = page.next;
      if (page.items.length === 0) break;
    }
    this.cursor = after;
    this.options.logger.info(`following mlportal's change feed from its head (${after})`);
    return after;
  }

  private async run(): Promise<void> {
    const { feed, apply, logger, wait } = this.options;
    const limit = this.options.limit ?? MAX_LIMIT;
    const graceMs = this.options.graceMs ?? 15_000;
    while (!this.stopped) {
      try {
        const after = await this.head();
        const signal = AbortSignal.any([
          this.stopController.signal,
          AbortSignal.timeout(parseSeconds(wait) * 1000 + graceMs),
        ]);
        const page = await feed.listChanges({ after, wait, limit }, { signal });
        if (page.items.length > 0) {
          await apply(page.items);
        }
        this.cursor = page.next;
        if (this.failures > 0) {
          logger.info(`mlportal's change feed is answering again after ${this.failures} failed attempts`);
        }
        this.failures = 0;
      } catch (error) {
        if (this.stopped) break;
        this.failures += 1;
        const delay = this.backoff();
        logger.warn(
          `following mlportal's change feed failed (attempt ${this.failures}); retrying from cursor ` +
            `${this.cursor ?? '(head)'} in ${Math.round(delay / 100) / 10} s: ${String(
              (error as Error)?.message ?? error,
            )}`,
        );
        await pause(delay, this.stopController.signal);
      }
    }
  }

  /** Exponential backoff with ±20 % jitter, capped. */
  private backoff(): number {
    const min = this.options.minBackoffMs ?? 1000;
    const base = Math.min(this.options.maxBackoffMs, min * 2 ** Math.min(this.failures - 1, 30));
    return Math.min(this.options.maxBackoffMs, base * (0.8 + Math.random() * 0.4));
  }
}

function parseSeconds(wait: string): number {
  const match = /^(\d+)s$/.exec(wait);
  return match ? Number(match[1]) : 30;
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}
