import { create, toBinary } from '@vigil/contracts';
import { timestampDate } from '@vigil/contracts';
import {
  FindingSchema,
  ScanStatus,
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
  scopeStateOf,
  type ReportState,
} from '@vigil/report';
import type { NewEvent, ReportingStore, ReportingTransaction, StoredFinding } from '@vigil/store';
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
  private stale = true;

  constructor(private readonly o: ReportingProjectionOptions) {}

  /** The fold as of the last handled batch (read-only use: rebuild checks, diagnostics). */
  current(): ReportState {
    return this.state;
  }

  /** Rebuilds the fold from everything the event store holds. */
  async load(): Promise<void> {
    const state = initialState();
    this.positions.clear();
    let count = 0;
    for (const scope of await this.o.store.scopes()) {
      for (let offset = 0; ;) {
        const page = await this.o.store.eventsForScope(scope, { offset, limit: 5000 });
        for (const e of page) {
          evolve(state, decodeEnvelope(e.payload));
          this.advance(e.topic, e.partition, e.logOffset);
        }
        count += page.length;
        offset += page.length;
        if (page.length < 5000) break;
      }
    }
    this.state = state;
    this.pendingScans.clear();
    // Every scan that was ready got its snapshot in the transaction that made it ready; the rest still wait.
    for (const scope of state.scopes.values()) {
      for (const scan of scope.scans.values()) {
        if (scan.completed && !readyForSnapshot(state, scan.scanId)) this.pendingScans.set(scan.scanId, true);
      }
    }
    this.stale = false;
    this.o.logger.info('reporting state loaded from the event store', { events: count });
  }

  readonly handle = async (records: ConsumedRecord[]): Promise<void> => {
    if (this.stale) await this.load();
    const decoded = records.map((r) => ({ record: r, envelope: decodeRecord(r) }));
    const published: EventEnvelope[] = [];
    try {
      await this.o.store.recordEvents(decoded.map(toNewEvent), async (tx, fresh) => {
        const freshIds = new Set(fresh.map((e) => e.eventId));
        for (const { record, envelope } of decoded) {
          if (!freshIds.delete(envelope.eventId)) continue;
          evolve(this.state, envelope);
          this.advance(record.topic, record.partition, record.offset);
          await this.project(tx, envelope);
          published.push(...(await this.snapshotIfReady(tx, envelope)));
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
        await this.syncFindings(tx, scope, envelope);
        break;
      }
      case 'findingReported':
        await this.syncFindings(tx, scope, envelope);
        break;
      default:
        break;
    }
  }

  /** Writes the fold's current view of the scope's findings (open and resolved) into the findings table. */
  private async syncFindings(
    tx: ReportingTransaction,
    scope: string,
    envelope: EventEnvelope,
  ): Promise<void> {
    const state = scopeStateOf(this.state, envelope.scope ?? { cluster: 'default' });
    if (!state) return;
    const { open } = resolveFindings(state);
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
    const stored = await tx.findingsForScope(scope, 'open');
    const gone = stored.filter((s) => !openIds.has(s.findingId)).map((s) => s.findingId);
    if (gone.length > 0 && envelope.payload.case === 'scanCompleted') {
      const at = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(0);
      await tx.resolveFindings(scope, gone, { scanId: envelope.payload.value.scanId, at });
    }
  }

  private async snapshotIfReady(tx: ReportingTransaction, envelope: EventEnvelope): Promise<EventEnvelope[]> {
    // A scan becomes ready when its completion arrives with every finding already projected, or when the last
    // missing finding arrives after it.
    const candidates: string[] = [];
    const p = envelope.payload;
    if (p.case === 'scanCompleted') candidates.push(p.value.scanId);
    if (p.case === 'findingReported') {
      for (const scanId of this.pendingScans.keys()) candidates.push(scanId);
    }
    const out: EventEnvelope[] = [];
    for (const scanId of candidates) {
      if (!readyForSnapshot(this.state, scanId)) {
        this.pendingScans.set(scanId, true);
        continue;
      }
      this.pendingScans.delete(scanId);
      const made = await this.o.snapshots.make(
        tx,
        this.state,
        envelope.scope ?? { tenant: '', cluster: 'default' },
        {
          scanId,
          logPosition: this.logPosition(),
        },
      );
      out.push(
        newEnvelope({
          payload: { case: 'snapshotPublished', value: create(SnapshotPublishedSchema, made.published) },
          scope: envelope.scope ?? { tenant: '', cluster: 'default' },
          subjectKey: made.subjectKey,
          producer: this.o.producer,
          clock: () => (envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date()),
        }),
      );
    }
    return out;
  }

  private readonly pendingScans = new Map<string, true>();
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
