import { Watch } from '@kubernetes/client-node';
import { type LoadError } from '../load/manifest-loader.js';
import { type Json, type LoadedObject } from '../model/k8s-object.js';
import {
  CredentialsRejectedError,
  liveSource,
  listKind,
  resolveKinds,
  unauthorized,
  type ReadClusterOptions,
  type ServedKind,
  type SkippedKind,
} from './cluster-reader.js';
import { connect, type KubeConnection } from './kube-connection.js';
import { groupVersionPath, selectKinds, type LiveKind } from './live-kinds.js';

export type ClusterEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';

export interface ClusterEvent {
  type: ClusterEventType;
  kind: LiveKind;
  object: LoadedObject;
  /** "list": the first list of the kind; "relist": what changed across a re-list after 410 Gone; "watch": an event. */
  phase: 'list' | 'relist' | 'watch';
}

/** A kind that cannot be read or watched right now (403, a failed request); the other kinds go on. */
export interface ClusterWatchError {
  type: 'ERROR';
  kind: LiveKind;
  error: LoadError;
  /** Whether the kind will be retried (transient failure) or is no longer watched (403, not served). */
  retrying: boolean;
}

export interface WatchClusterOptions extends ReadClusterOptions {
  /** How long each watch request asks the server to hold it open (timeoutSeconds); re-opened after. Default 300. */
  watchTimeoutSeconds?: number;
  /** First delay before retrying a failed list or watch, doubled per failure up to 30 s. Default 1000 ms. */
  retryDelayMs?: number;
  /** Told once which kinds the server does not serve (they are not watched). */
  onSkipped?: (skipped: SkippedKind[]) => void;
}

/**
 * List-then-watch of every audited kind: first an ADDED event per listed object, then the server's watch events
 * from the list's resourceVersion (bookmarks move it on). A 410 Gone re-lists and reports the difference as
 * ADDED/MODIFIED/DELETED. Ends when the signal aborts or the consumer stops iterating; throws when credentials
 * are rejected or the server is unreachable before the first list.
 */
export async function* watchCluster(
  opts: WatchClusterOptions = {},
): AsyncGenerator<ClusterEvent | ClusterWatchError, void, undefined> {
  const kinds = selectKinds(opts.kinds);
  const conn = connect(opts);
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  if (opts.signal?.aborted) return;
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const request = { signal: stop.signal, timeoutMs: opts.timeoutMs, pageSize: opts.pageSize };
  const queue = new EventQueue<ClusterEvent | ClusterWatchError>();
  try {
    let resolved: Awaited<ReturnType<typeof resolveKinds>>;
    try {
      resolved = await resolveKinds(conn, kinds, request);
    } catch (err) {
      if (stop.signal.aborted) return;
      throw err;
    }
    if (resolved.skipped.length) opts.onSkipped?.(resolved.skipped);
    const watchers = resolved.served.map((s) =>
      new KindWatcher(conn, s, queue, stop.signal, request, opts).run().catch((err: unknown) => {
        if (!stop.signal.aborted) queue.fail(err);
      }),
    );
    void Promise.all(watchers).then(() => queue.close());
    yield* queue;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

class KindWatcher {
  // What the last list and the watch events say exists, so a re-list can tell what changed meanwhile.
  private readonly known = new Map<string, LoadedObject>();
  private readonly file: string;

  constructor(
    private readonly conn: KubeConnection,
    private readonly served: ServedKind,
    private readonly queue: EventQueue<ClusterEvent | ClusterWatchError>,
    private readonly signal: AbortSignal,
    private readonly request: { signal: AbortSignal; timeoutMs?: number; pageSize?: number },
    private readonly opts: WatchClusterOptions,
  ) {
    this.file = liveSource(conn.context, served.info.kind);
  }

  async run(): Promise<void> {
    let rv = await this.list('list');
    const baseDelay = this.opts.retryDelayMs ?? 1000;
    let delay = baseDelay;
    while (rv !== undefined && !this.signal.aborted) {
      const opened = Date.now();
      const outcome = await this.watchOnce(rv);
      if (this.signal.aborted) return;
      if (outcome.gone) {
        rv = await this.list('relist');
        delay = baseDelay;
        continue;
      }
      if (!outcome.error) {
        // The server ended the watch (its timeout): carry on from the last resourceVersion seen. A watch that a
        // proxy keeps cutting at once would otherwise become a busy loop of requests.
        rv = outcome.resourceVersion;
        if (Date.now() - opened < 1000 && !outcome.events) await sleep(baseDelay, this.signal);
        delay = baseDelay;
        continue;
      }
      const code = (outcome.error as { statusCode?: number }).statusCode;
      if (code === 401) throw unauthorized(this.conn, this.path(), outcome.error.message);
      const forbidden = code === 403;
      this.queue.push({
        type: 'ERROR',
        kind: this.served.info.kind,
        retrying: !forbidden,
        error: {
          file: this.file,
          message: forbidden
            ? `cannot watch ${this.served.info.kind} (${this.served.info.resource} in API group "${this.served.info.group}"): 403; the auditor needs verb watch on it`
            : `watch of ${this.served.info.kind} failed: ${outcome.error.message}; retrying`,
        },
      });
      if (forbidden) return;
      rv = outcome.resourceVersion;
      await sleep(delay, this.signal);
      delay = Math.min(delay * 2, 30_000);
    }
  }

  private path(): string {
    const { info, version } = this.served;
    return `${groupVersionPath(info.group, version)}/${info.resource}`;
  }

  /** Lists the kind and emits it (all ADDED first time, the difference on a re-list); undefined stops the kind. */
  private async list(phase: 'list' | 'relist'): Promise<string | undefined> {
    let delay = this.opts.retryDelayMs ?? 1000;
    for (;;) {
      let outcome: Awaited<ReturnType<typeof listKind>>;
      try {
        outcome = await listKind(this.conn, this.served, this.request);
      } catch (err) {
        // Before anything was listed the caller learns of it by a throw; later a transient failure is retried.
        if (phase === 'list' || this.signal.aborted) throw err;
        if (err instanceof CredentialsRejectedError) throw err;
        this.queue.push({
          type: 'ERROR',
          kind: this.served.info.kind,
          retrying: true,
          error: { file: this.file, message: `re-list failed: ${(err as Error).message}; retrying` },
        });
        await sleep(delay, this.signal);
        if (this.signal.aborted) return undefined;
        delay = Math.min(delay * 2, 30_000);
        continue;
      }
      if (!outcome.ok) {
        const message = 'error' in outcome ? outcome.error.message : `not watched: ${outcome.skipped.reason}`;
        this.queue.push({
          type: 'ERROR',
          kind: this.served.info.kind,
          retrying: false,
          error: { file: this.file, message },
        });
        return undefined;
      }
      const seen = new Set<string>();
      for (const o of outcome.objects) {
        const key = objectKey(o.raw);
        seen.add(key);
        const before = this.known.get(key);
        this.known.set(key, o);
        if (!before) this.emit('ADDED', o, phase);
        else if (resourceVersionOf(before.raw) !== resourceVersionOf(o.raw)) this.emit('MODIFIED', o, phase);
      }
      for (const [key, o] of [...this.known]) {
        if (seen.has(key)) continue;
        this.known.delete(key);
        this.emit('DELETED', o, phase);
      }
      return outcome.resourceVersion;
    }
  }

  private emit(type: ClusterEventType, object: LoadedObject, phase: ClusterEvent['phase']): void {
    this.queue.push({ type, kind: this.served.info.kind, object, phase });
  }

  private watchOnce(
    resourceVersion: string,
  ): Promise<{ resourceVersion: string; events: number; gone?: boolean; error?: Error }> {
    const { info, version } = this.served;
    const apiVersion = info.group ? `${info.group}/${version}` : version;
    let last = resourceVersion;
    let gone = false;
    let statusError: Error | undefined;
    let events = 0;
    return new Promise((resolve) => {
      let controller: AbortController | undefined;
      const onAbort = () => controller?.abort();
      this.signal.addEventListener('abort', onAbort, { once: true });
      const finish = (error?: Error) => {
        this.signal.removeEventListener('abort', onAbort);
        resolve({ resourceVersion: last, events, gone, ...(error ? { error } : {}) });
      };
      const query = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.opts.watchTimeoutSeconds ?? 300,
      };
      new Watch(this.conn.kubeConfig)
        .watch(
          this.path(),
          query,
          (type: string, object: unknown) => {
            const raw = (object ?? {}) as Json;
            if (type === 'ERROR') {
              // A watch from a compacted resourceVersion answers 200 and then this Status event.
              if (raw['code'] === 410) gone = true;
              else
                statusError = Object.assign(new Error(String(raw['message'] ?? 'watch error event')), {
                  statusCode: raw['code'],
                });
              return;
            }
            if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED' && type !== 'BOOKMARK') return;
            events++;
            const rv = resourceVersionOf(raw);
            if (rv) last = rv;
            const loaded: LoadedObject = {
              raw: { apiVersion, kind: info.kind, ...raw },
              source: { file: this.file, document: 0, line: undefined, item: undefined },
            };
            if (type === 'DELETED') this.known.delete(objectKey(loaded.raw));
            else if (type !== 'BOOKMARK') this.known.set(objectKey(loaded.raw), loaded);
            this.emit(type, loaded, 'watch');
          },
          (err: unknown) => {
            const e = err as (Error & { statusCode?: number }) | null;
            if (e?.statusCode === 410) gone = true;
            if (gone || this.signal.aborted) finish();
            else finish(e ?? statusError);
          },
        )
        .then(
          (c) => {
            controller = c;
            if (this.signal.aborted) c.abort();
          },
          (err: unknown) => finish(err as Error),
        );
    });
  }
}

function objectKey(raw: Json): string {
  const meta = (raw['metadata'] ?? {}) as Json;
  return `${String(meta['namespace'] ?? '')}/${String(meta['name'] ?? '')}`;
}

function resourceVersionOf(raw: Json): string | undefined {
  const rv = ((raw['metadata'] ?? {}) as Json)['resourceVersion'];
  return typeof rv === 'string' && rv ? rv : undefined;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** An unbounded push queue read as an async iterable; fail() makes the reader throw, close() ends it. */
class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiting: ((err: unknown) => void) | undefined;
  private closed = false;
  private failure: { err: unknown } | undefined;

  push(item: T): void {
    if (this.closed) return;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failWaiting = undefined;
      w({ value: item, done: false });
    } else this.items.push(item);
  }

  close(): void {
    this.closed = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = this.failWaiting = undefined;
      w({ value: undefined, done: true });
    }
  }

  fail(err: unknown): void {
    if (this.closed) return;
    this.failure = { err };
    this.closed = true;
    if (this.failWaiting) {
      const f = this.failWaiting;
      this.waiting = this.failWaiting = undefined;
      f(err);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.items.length) return Promise.resolve({ value: this.items.shift()!, done: false });
        if (this.failure) return Promise.reject(this.failure.err);
        if (this.closed) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => {
          this.waiting = resolve;
          this.failWaiting = reject;
        });
      },
    };
  }
}
