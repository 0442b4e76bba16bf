import { reportFromContent } from '@vigil/report';
import { coversPosition, parseScopeKey, publishSnapshotRequest, versionForRequest } from '@vigil/reporting';
import type { EventLog } from '@vigil/event-log';
import type { ReportingStore, StoredEvent } from '@vigil/store';
import { decodeEnvelope } from '@vigil/contracts';
import { table, type Output } from '../output.js';
import { UsageError } from '../usage-error.js';

/** Flags of `vigil snapshots` and `vigil diff` (the scope; --cluster is its default). */
export const SNAPSHOT_FLAGS = { scope: { type: 'string' } } as const;

export interface SnapshotRow {
  scope: string;
  version: number;
  createdAt: string;
  contentHash: string;
  previousHash: string;
  findings: { critical: number; high: number; medium: number; low: number; unknown: number; total: number };
  // What made the version: a completed scan, requests (API, CLI) or the schedule.
  trigger:
    { kind: 'scan'; scanId: string } | { kind: 'request' | 'schedule'; requestIds: string[]; by: string[] };
}

/** `vigil snapshots [--scope S]`: every version of the scope (or of every scope), oldest first. */
export async function snapshotsCommand(i: {
  store: ReportingStore;
  scope?: string | undefined;
  format: 'table' | 'json';
  out: Output;
}): Promise<number> {
  const scopes = i.scope !== undefined ? [checkedScope(i.scope)] : await i.store.scopes();
  const rows: SnapshotRow[] = [];
  for (const scope of scopes) rows.push(...(await snapshotRows(i.store, scope)));
  if (i.format === 'json') {
    i.out.result(JSON.stringify({ snapshots: rows }, null, 2));
    return 0;
  }
  if (rows.length === 0) {
    i.out.result(
      i.scope !== undefined ? `scope ${i.scope} has no snapshots yet` : 'no scope has a snapshot yet',
    );
    return 0;
  }
  i.out.result(
    table(
      [
        'scope',
        'version',
        'created',
        'content hash',
        'crit',
        'high',
        'med',
        'low',
        'unk',
        'total',
        'trigger',
      ],
      rows.map((r) => [
        r.scope,
        String(r.version),
        r.createdAt,
        r.contentHash.slice(0, 'sha256:'.length + 12),
        String(r.findings.critical),
        String(r.findings.high),
        String(r.findings.medium),
        String(r.findings.low),
        String(r.findings.unknown),
        String(r.findings.total),
        triggerText(r.trigger),
      ]),
    ),
  );
  return 0;
}

export async function snapshotRows(store: ReportingStore, scope: string): Promise<SnapshotRow[]> {
  const requests = await store.snapshotRequests(scope);
  const rows: SnapshotRow[] = [];
  let previous: { topic: string; partition: number; offset: string }[] = [];
  for (const info of await store.listSnapshots(scope)) {
    const stored = await store.getSnapshot(scope, info.version);
    if (!stored) throw new Error(`snapshot ${scope} v${info.version} is listed but cannot be read`);
    const c = reportFromContent(stored.content, stored.contentHash).findingCounts;
    // The requests a version answered are those its log position covers and the previous version's did not.
    const answered = requests.filter(
      (e) => coversPosition(info.logPosition, at(e)) && !coversPosition(previous, at(e)),
    );
    const asked = answered.map(requestOf);
    rows.push({
      scope,
      version: info.version,
      createdAt: info.createdAt.toISOString(),
      contentHash: info.contentHash,
      previousHash: info.previousHash ?? '',
      findings: {
        critical: c?.critical ?? 0,
        high: c?.high ?? 0,
        medium: c?.medium ?? 0,
        low: c?.low ?? 0,
        unknown: c?.unknown ?? 0,
        total: c?.total ?? 0,
      },
      trigger: info.scanId
        ? { kind: 'scan', scanId: info.scanId }
        : {
            kind: asked.length > 0 && asked.every((r) => r.by === 'schedule') ? 'schedule' : 'request',
            requestIds: asked.map((r) => r.id),
            by: [...new Set(asked.map((r) => r.by))],
          },
    });
    previous = info.logPosition;
  }
  return rows;
}

/**
 * `vigil snapshots create [--scope S]`: puts a SnapshotRequested on the log, lets the pipeline fold it, and prints
 * the version that answers it.
 */
export async function snapshotCreateCommand(i: {
  store: ReportingStore;
  eventLog: EventLog;
  scope: string;
  requestedBy: string;
  waitUntilCaughtUp: () => Promise<void>;
  format: 'table' | 'json';
  out: Output;
}): Promise<number> {
  const scope = parseScopeKey(checkedScope(i.scope));
  const request = await publishSnapshotRequest(
    i.eventLog,
    { service: 'vigil', version: '0.1.0', instance: `cli-${process.pid}` },
    scope,
    i.requestedBy,
    'cli',
  );
  await i.waitUntilCaughtUp();
  const made = await versionForRequest(i.store, request);
  if (!made)
    throw new Error(
      `vigil snapshots create: request ${request.requestId} is on the log but reporting made no version for it`,
    );
  if (i.format === 'json') {
    i.out.result(JSON.stringify({ scope: request.scope, requestId: request.requestId, ...made }, null, 2));
  } else {
    i.out.result(
      `scope ${request.scope}: version ${made.version} ${made.contentHash} (request ${request.requestId})`,
    );
  }
  return 0;
}

function checkedScope(scope: string): string {
  try {
    const s = parseScopeKey(scope);
    return s.tenant ? `${s.tenant}/${s.cluster}` : s.cluster;
  } catch (err) {
    throw new UsageError(`--scope: ${(err as Error).message}`);
  }
}

function at(e: StoredEvent): { topic: string; partition: number; offset: string } {
  return { topic: e.topic, partition: e.partition, offset: e.logOffset };
}

function requestOf(e: StoredEvent): { id: string; by: string } {
  const p = decodeEnvelope(e.payload).payload;
  return p.case === 'snapshotRequested'
    ? { id: p.value.requestId, by: p.value.requestedBy }
    : { id: e.eventId, by: '' };
}

function triggerText(t: SnapshotRow['trigger']): string {
  if (t.kind === 'scan') return `scan ${t.scanId}`;
  if (t.kind === 'schedule') return 'schedule';
  return t.requestIds.length > 0 ? `request ${t.requestIds.join(', ')} (${t.by.join(', ')})` : 'request';
}
