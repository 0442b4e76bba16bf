import { digestFromContent } from '@vigil/report';
import { coversPosition, parseScopeKey, publishSnapshotRequest, versionForRequest } from '@vigil/reporting';
import type { EventLog } from '@vigil/event-log';
import type { ReportingStore, Sql, StoredEvent } from '@vigil/store';
import { decodeEnvelope } from '@vigil/contracts';
import { table, type Output } from '../output.js';
import { VIGIL_VERSION } from '../pipeline.js';
import { UsageError, commandName } from '../usage-error.js';
import { requireKnownCluster } from './known-cluster.js';

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

/**
 * `vigil snapshots [--scope S | --cluster C]`: every version of the scope (or of every scope), oldest first. A
 * scope with no recorded events is refused as the commands that publish refuse it (known-cluster.ts): an empty
 * list for a mistyped name would read as "no snapshots yet".
 */
export async function snapshotsCommand(i: {
  store: ReportingStore;
  /** Which clusters have recorded events. */
  sql: Pick<Sql, 'query'>;
  scope?: string | undefined;
  format: 'table' | 'json';
  out: Output;
}): Promise<number> {
  const command = commandName('snapshots');
  const scope = i.scope !== undefined ? checkedScope(i.scope, command) : undefined;
  if (scope !== undefined) await requireKnownCluster(i.sql, scope, command, 'nothing to list');
  const scopes = scope !== undefined ? [scope] : await i.store.scopes();
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
    // The counts only: a digest reads them without decoding the findings (most of a large content).
    const c = digestFromContent(stored.content, stored.contentHash).findingCounts;
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

/** What a command needs to have reporting make a version now (the pipeline of this process folds the request). */
export interface SnapshotRequester {
  store: ReportingStore;
  eventLog: EventLog;
  /** Who asks, for the record: `cli:<os user>` from the CLI. */
  requestedBy: string;
  waitUntilCaughtUp: () => Promise<void>;
}

export interface RequestedVersion {
  scope: string;
  requestId: string;
  version: number;
  contentHash: string;
}

/**
 * Puts a SnapshotRequested for the scope on the log (with the reason: "cli" for `vigil snapshots create`, the
 * exception or attestation for those commands), lets the pipeline fold it, and returns the version that answers it.
 * `command` names the caller in the error when reporting made none.
 */
export async function requestSnapshot(
  i: SnapshotRequester & { scope: string; reason: string; command: string },
): Promise<RequestedVersion> {
  const request = await publishSnapshotRequest(
    i.eventLog,
    { service: 'vigil', version: VIGIL_VERSION, instance: `cli-${process.pid}` },
    parseScopeKey(i.scope),
    i.requestedBy,
    i.reason,
  );
  await i.waitUntilCaughtUp();
  const made = await versionForRequest(i.store, request);
  if (!made)
    throw new Error(
      `${i.command}: request ${request.requestId} is on the log but reporting made no version for it`,
    );
  return { scope: request.scope, requestId: request.requestId, ...made };
}

/**
 * `vigil snapshots create [--scope S]`: puts a SnapshotRequested on the log, lets the pipeline fold it, and prints
 * the version that answers it. (main.ts refuses a scope with no recorded events first: see known-cluster.ts.)
 */
export async function snapshotCreateCommand(
  i: SnapshotRequester & { scope: string; format: 'table' | 'json'; out: Output },
): Promise<number> {
  const command = commandName('snapshots', 'create');
  const scope = checkedScope(i.scope, command);
  const made = await requestSnapshot({ ...i, scope, reason: 'cli', command });
  if (i.format === 'json') {
    i.out.result(JSON.stringify(made, null, 2));
  } else {
    i.out.result(
      `scope ${made.scope}: version ${made.version} ${made.contentHash} (request ${made.requestId})`,
    );
  }
  return 0;
}

export function checkedScope(scope: string, command: string): string {
  try {
    const s = parseScopeKey(scope);
    return s.tenant ? `${s.tenant}/${s.cluster}` : s.cluster;
  } catch (err) {
    throw new UsageError(`${command}: --scope: ${(err as Error).message}`);
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
