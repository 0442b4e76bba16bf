import { create, toBinary } from '@vigil/contracts';
import { timestampDate } from '@vigil/contracts';
import {
  FindingSchema,
  ScanStatus,
  ScannerKind,
  SnapshotPublishedSchema,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type EventEnvelope,
  type LogPosition,
} from '@vigil/contracts';
import type { ConsumedRecord, EventLog } from '@vigil/event-log';
import {
  evolve,
  initialState,
  readyForSnapshot,
  resolveFindings,
  scopeKey,
  type ReportState,
} from '@vigil/report';
import type {
  NewEvent,
  ReportingReader,
  ReportingStore,
  ReportingTransaction,
  StoredFinding,
} from '@vigil/store';
import type { SnapshotMaker } from './snapshot-maker.js';
import { assetKey, scannerWord, severityWord, sourceWord } from './words.js';

export interface ProjectionLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

export interface ReportingProjectionOptions {
  store: ReportingStore;
  eventLog: EventLog;
  producer: { service: string; version: string; instance: string };
  snapshots: SnapshotMaker;
  logger: ProjectionLogger;
}

/**
 * The reporting side's consumer: every batch from the log goes into the event store and the projections in one
 * database transaction (the offset is committed by the event log only after it returns), and every completed scan
 * whose findings are all projected becomes the next snapshot version of its scope in that same transaction.
 *
 * The fold state (libs/report) is kept in memory and rebuilt from the event store at start, so that a snapshot
 * is a function of the recorded events only. A transaction that fails leaves the state ahead of the database, so
 * the state is rebuilt before the batch is tried again.
 */
export class ReportingProjection {
  private state: ReportState = initialState();
  private readonly positions = new Map<string, LogPosition>();
  // Events folded per scope, to tell cheaply whether another instance recorded more.
  private readonly folded = new Map<string, number>();
  private stale = true;

  constructor(private readonly o: ReportingProjectionOptions) {}

  /** The fold as of the last handled batch (read-only use: rebuild checks, diagnostics). */
  current(): ReportState {
    return this.state;
  }

  /** Rebuilds the fold from everything the event store holds. */
  async load(): Promise<void> {
    this.state = initialState();
    this.folded.clear();
    this.positions.clear();
    let count = 0;
    for (const scope of await this.o.store.scopes()) count += await this.catchUp(this.o.store, scope);
    this.stale = false;
    this.o.logger.info('reporting state loaded from the event store', { events: count });
  }

  /**
   * One batch, one transaction. Its new events go into the event store and the fold; then, holding the scope's
   * lock, the fold catches up with whatever another reporting instance committed for the scope (instances split
   * the partitions, so a scan's completion and its findings may arrive at different ones), the findings
   * projection is rewritten from the fold, and every completed scan that is ready and has no snapshot yet gets
   * the next version. Offsets are committed by the event log only after this returns.
   */
  readonly handle = async (records: ConsumedRecord[]): Promise<void> => {
    if (this.stale) await this.load();
    const decoded = records.map((r) => ({ record: r, envelope: decodeRecord(r) }));
    const published: EventEnvelope[] = [];
    try {
      await this.o.store.recordEvents(decoded.map(toNewEvent), async (tx, fresh) => {
        if (fresh.length === 0) return;
        const freshIds = new Set(fresh.map((e) => e.eventId));
        const scopes = [...new Set(fresh.map((e) => e.scope))].sort();
        for (const scope of scopes) await tx.lockScope(scope);
        for (const { record, envelope } of decoded) {
          if (!freshIds.delete(envelope.eventId)) continue;
          this.fold(envelope, record.topic, record.partition, record.offset);
          await this.project(tx, envelope);
        }
        for (const scope of scopes) {
          await this.catchUp(tx, scope);
          await this.syncFindings(tx, scope);
          published.push(...(await this.snapshotsDue(tx, scope)));
        }
      });
    } catch (err) {
      this.stale = true;
      throw err;
    }
    // After the commit: a crash here loses only the announcement, never the snapshot (it is in the database).
    if (published.length > 0) {
      await this.o.eventLog.publish(
        published.map((e) => ({ topic: TOPICS.snapshots, key: e.subjectKey, value: encodeEnvelope(e) })),
      );
    }
  };

  private fold(envelope: EventEnvelope, topic: string, partition: number, offset: string): boolean {
    if (this.state.seenEventIds.has(envelope.eventId)) return false;
    evolve(this.state, envelope);
    const scope = scopeKey(envelope.scope ?? { cluster: 'default' });
    this.folded.set(scope, (this.folded.get(scope) ?? 0) + 1);
    this.advance(topic, partition, offset);
    return true;
  }

  /** Folds the scope's recorded events this instance has not seen; evolve skips the ones it has. */
  private async catchUp(reader: ReportingReader, scope: string): Promise<number> {
    if ((this.folded.get(scope) ?? 0) >= (await reader.countEvents(scope))) return 0;
    let added = 0;
    for (let offset = 0; ;) {
      const page = await reader.eventsForScope(scope, { offset, limit: 5000 });
      for (const e of page)
        if (this.fold(decodeEnvelope(e.payload), e.topic, e.partition, e.logOffset)) added++;
      offset += page.length;
      if (page.length < 5000) break;
    }
    return added;
  }

  private advance(topic: string, partition: number, offset: string): void {
    const key = `${topic}/${partition}`;
    const prior = this.positions.get(key);
    if (!prior || BigInt(offset) > BigInt(prior.offset))
      this.positions.set(key, { topic, partition, offset } as LogPosition);
  }

  private logPosition(): LogPosition[] {
    return [...this.positions.values()].sort((a, b) =>
      a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1,
    );
  }

  /** The query projections: what the API filters on. The fold stays the one place that decides resolution. */
  private async project(tx: ReportingTransaction, envelope: EventEnvelope): Promise<void> {
    const p = envelope.payload;
    const scope = scopeKey(envelope.scope ?? { cluster: 'default' });
    const at = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(0);
    switch (p.case) {
      case 'scanRequested':
        await tx.upsertScan({
          scanId: p.value.scanId,
          scanner: scannerWord(p.value.scanner),
          scope,
          targetKey: p.value.target?.key ?? '',
          status: 'requested',
          requestedAt: at,
          completedAt: null,
          findingIds: null,
          payload: null,
        });
        break;
      case 'scanStarted':
        await tx.upsertScan({
          scanId: p.value.scanId,
          scanner: scannerWord(p.value.scanner),
          scope,
          targetKey: p.value.targetKey,
          status: 'started',
          requestedAt: null,
          completedAt: null,
          findingIds: null,
          payload: null,
        });
        break;
      case 'scanCompleted': {
        const c = p.value;
        await tx.upsertScan({
          scanId: c.scanId,
          scanner: scannerWord(c.scanner),
          scope,
          targetKey: c.targetKey,
          status: c.status === ScanStatus.OK ? 'completed' : 'failed',
          requestedAt: null,
          completedAt: c.completedAt ? timestampDate(c.completedAt) : at,
          findingIds: [...c.findingIds],
          payload: encodeEnvelope(envelope),
        });
        break;
      }
      default:
        break;
    }
  }

  /** Writes the fold's current view of the scope's findings (open and resolved) into the findings table. */
  private async syncFindings(tx: ReportingTransaction, scope: string): Promise<void> {
    const state = this.state.scopes.get(scope);
    if (!state) return;
    const { open, groups } = resolveFindings(state);
    const openIds = new Set(open.map((o) => o.finding.id));
    const rows: StoredFinding[] = [];
    for (const o of open) {
      const f = o.finding;
      const scan = state.scans.get(o.scanIds[o.scanIds.length - 1] ?? '');
      rows.push({
        scope,
        findingId: f.id,
        source: sourceWord(f.source),
        ruleId: f.ruleId,
        severity: severityWord(f.severity),
        scanner: scan?.scanner !== undefined ? scannerWord(scan.scanner) : '',
        targetKey: scan?.targetKey ?? '',
        lastScanId: o.scanIds[o.scanIds.length - 1] ?? null,
        assetKey: assetKey(f.asset),
        pciRequirements: [...f.pciRequirements],
        status: 'open',
        firstSeen: f.firstSeen ? timestampDate(f.firstSeen) : new Date(0),
        lastSeen: f.lastSeen ? timestampDate(f.lastSeen) : new Date(0),
        resolvedAt: null,
        resolvedByScan: null,
        payload: toBinary(FindingSchema, f),
      });
    }
    await tx.upsertFindings(rows);
    // What the fold no longer holds open was resolved by the latest ok scan of the finding's scanner and target.
    const byScan = new Map<string, { at: Date; ids: string[] }>();
    for (const row of await tx.findingsForScope(scope, 'open')) {
      if (openIds.has(row.findingId)) continue;
      const group = [...groups.values()].find(
        (g) => scannerWord(g.scanner) === row.scanner && g.targetKey === row.targetKey,
      );
      const latest = group?.latestOk;
      if (!latest?.completed) continue;
      const entry = byScan.get(latest.scanId) ?? {
        at: latest.completed.completedAt ? timestampDate(latest.completed.completedAt) : new Date(0),
        ids: [],
      };
      entry.ids.push(row.findingId);
      byScan.set(latest.scanId, entry);
    }
    for (const [scanId, { at, ids }] of byScan) await tx.resolveFindings(scope, ids, { scanId, at });
  }

  /** Every completed scan of the scope whose findings are all folded and that has no snapshot yet, in order. */
  private async snapshotsDue(tx: ReportingTransaction, scope: string): Promise<EventEnvelope[]> {
    const state = this.state.scopes.get(scope);
    if (!state) return [];
    const made = new Set((await tx.listSnapshots(scope)).map((s) => s.scanId).filter((id) => id));
    // The correlator's completions update what is open but are not a scan cycle of their own: the next scan's,
    // scheduled or requested snapshot includes them (one `vigil scan` makes one version).
    const due = [...state.scans.values()]
      .filter(
        (s) =>
          s.completed &&
          s.scanner !== ScannerKind.CORRELATOR &&
          !made.has(s.scanId) &&
          readyForSnapshot(this.state, s.scanId),
      )
      .sort(
        (a, b) =>
          compareTime(a.completedOccurredAt, b.completedOccurredAt) ||
          (a.scanId < b.scanId ? -1 : a.scanId > b.scanId ? 1 : 0),
      );
    const out: EventEnvelope[] = [];
    for (const scan of due) {
      const made = await this.o.snapshots.make(
        tx,
        this.state,
        { ...state.scope },
        {
          scanId: scan.scanId,
          logPosition: this.logPosition(),
        },
      );
      const at = scan.completedOccurredAt;
      out.push(
        newEnvelope({
          payload: { case: 'snapshotPublished', value: create(SnapshotPublishedSchema, made.published) },
          scope: { ...state.scope },
          subjectKey: made.subjectKey,
          producer: this.o.producer,
          clock: () => (at ? new Date(Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6)) : new Date()),
        }),
      );
    }
    return out;
  }
}

function compareTime(
  a: { seconds: bigint; nanos: number } | undefined,
  b: { seconds: bigint; nanos: number } | undefined,
): number {
  const x = a ? a.seconds * 1_000_000_000n + BigInt(a.nanos) : -1n;
  const y = b ? b.seconds * 1_000_000_000n + BigInt(b.nanos) : -1n;
  return x < y ? -1 : x > y ? 1 : 0;
}

function decodeRecord(r: ConsumedRecord): EventEnvelope {
  try {
    return decodeEnvelope(r.value);
  } catch (err) {
    throw new Error(`${r.topic}[${r.partition}]@${r.offset}: ${(err as Error).message}`);
  }
}

function toNewEvent({ record, envelope }: { record: ConsumedRecord; envelope: EventEnvelope }): NewEvent {
  return {
    eventId: envelope.eventId,
    eventType: envelope.eventType,
    topic: record.topic,
    partition: record.partition,
    logOffset: record.offset,
    scope: scopeKey(envelope.scope ?? { cluster: 'default' }),
    subjectKey: envelope.subjectKey,
    occurredAt: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(record.timestamp),
    payload: record.value,
  };
}
