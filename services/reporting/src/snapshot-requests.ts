import { randomUUID } from 'node:crypto';
import {
  ScopeSchema,
  SnapshotRequestedSchema,
  TOPICS,
  create,
  encodeEnvelope,
  newEnvelope,
} from '@vigil/contracts';
import type { EventLog } from '@vigil/event-log';
import type { ReportingReader } from '@vigil/store';
import { coversPosition } from './reporting.projection.js';

export interface Producer {
  service: string;
  version: string;
  instance: string;
}

export interface PublishedRequest {
  readonly requestId: string;
  readonly eventId: string;
  readonly scope: string;
}

/** "tenant/cluster" or "cluster", as scopeKey writes it. */
export function parseScopeKey(key: string): { tenant: string; cluster: string } {
  const trimmed = key.trim();
  const slash = trimmed.indexOf('/');
  const scope =
    slash >= 0
      ? { tenant: trimmed.slice(0, slash), cluster: trimmed.slice(slash + 1) }
      : { tenant: '', cluster: trimmed };
  if (!scope.cluster || scope.cluster.includes('/'))
    throw new Error(`scope "${key}" is not "cluster" or "tenant/cluster"`);
  return scope;
}

/**
 * Puts a SnapshotRequested on the log. The reporting projection makes the version when it folds it, so the
 * version sits at a log position like any other and a rebuild from the log makes it again.
 */
export async function publishSnapshotRequest(
  eventLog: EventLog,
  producer: Producer,
  scope: { tenant: string; cluster: string },
  requestedBy: string,
  reason: string,
): Promise<PublishedRequest> {
  const requestId = randomUUID();
  const key = scope.tenant ? `${scope.tenant}/${scope.cluster}` : scope.cluster;
  const envelope = newEnvelope({
    payload: {
      case: 'snapshotRequested',
      value: create(SnapshotRequestedSchema, {
        requestId,
        scope: create(ScopeSchema, scope),
        requestedBy,
        reason,
      }),
    },
    scope,
    subjectKey: key,
    producer,
  });
  await eventLog.publish([{ topic: TOPICS.snapshots, key, value: encodeEnvelope(envelope) }]);
  return { requestId, eventId: envelope.eventId, scope: key };
}

/**
 * The version that answers a request: the first of its scope whose log position covers the request's record.
 * Undefined while the projection has not folded the request.
 */
export async function versionForRequest(
  store: ReportingReader,
  request: PublishedRequest,
): Promise<{ version: number; contentHash: string } | undefined> {
  const recorded = (await store.snapshotRequests(request.scope)).find((e) => e.eventId === request.eventId);
  if (!recorded) return undefined;
  const at = { topic: recorded.topic, partition: recorded.partition, offset: recorded.logOffset };
  for (const s of await store.listSnapshots(request.scope))
    if (coversPosition(s.logPosition, at)) return { version: s.version, contentHash: s.contentHash };
  return undefined;
}

/** Polls until the request has its version, or gives up after waitMs (the request stays on the log). */
export async function waitForRequest(
  store: ReportingReader,
  request: PublishedRequest,
  waitMs: number,
): Promise<{ version: number; contentHash: string } | undefined> {
  const deadline = Date.now() + waitMs;
  let pause = 20;
  for (;;) {
    const made = await versionForRequest(store, request);
    if (made || Date.now() >= deadline) return made;
    await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(1, deadline - Date.now()))));
    pause = Math.min(pause * 2, 250);
  }
}

export class SnapshotRequestPending extends Error {
  override readonly name = 'SnapshotRequestPending';
  constructor(
    readonly request: PublishedRequest,
    waitMs: number,
  ) {
    super(
      `snapshot request ${request.requestId} for scope "${request.scope}" is on the log, but reporting had not ` +
        `made its version within ${waitMs} ms (it is behind the log); the version will follow`,
    );
  }
}

/**
 * REPORTING_SNAPSHOT_INTERVAL: requests a snapshot of each scope that has recorded events newer than its latest
 * snapshot. Requests that pile up before the projection reaches them make one version between them.
 */
export class SnapshotSchedule {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly o: {
      store: ReportingReader;
      eventLog: EventLog;
      producer: Producer;
      intervalMs: number;
      logger: {
        info(msg: string, f?: Record<string, unknown>): void;
        warn(msg: string, f?: Record<string, unknown>): void;
      };
    },
  ) {}

  start(): void {
    if (this.o.intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      // A tick still publishing (a slow log) is not doubled up.
      this.running ??= this.tick()
        .then(() => undefined)
        .catch((err: unknown) =>
          this.o.logger.warn('scheduled snapshot requests failed', { error: (err as Error).message }),
        )
        .finally(() => (this.running = undefined));
    }, this.o.intervalMs);
    this.timer.unref();
  }

  /** One round: returns the scopes a request was published for. */
  async tick(): Promise<string[]> {
    const scopes = await this.o.store.scopesWithNewEvents();
    for (const scope of scopes)
      await publishSnapshotRequest(
        this.o.eventLog,
        this.o.producer,
        parseScopeKey(scope),
        'schedule',
        'schedule',
      );
    if (scopes.length > 0) this.o.logger.info('scheduled snapshots requested', { scopes });
    return scopes;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
