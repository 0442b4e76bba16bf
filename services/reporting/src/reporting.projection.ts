import { create, toBinary } from '@vigil/contracts';
import { timestampDate } from '@vigil/contracts';
import {
  ExceptionRecordedSchema,
  FindingSchema,
  InventoryItemSchema,
  type Finding,
  ScanStatus,
  ScannerKind,
  SnapshotPublishedSchema,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  reportedFindingBytes,
  type EventEnvelope,
  type LogPosition,
} from '@vigil/contracts';
import type { ConsumedRecord, EventLog } from '@vigil/event-log';
import {
  assetKey,
  digestFromContent,
  evolve,
  initialState,
  inventoryKey,
  readyForSnapshot,
  reportedFindingOf,
  resolveFindings,
  scopeKey,
  type EntityType,
  type FindingOrder,
  type OpenFinding,
  type ReportState,
} from '@vigil/report';
import type {
  NewEvent,
  ReportingReader,
  ReportingStore,
  ReportingTransaction,
  SnapshotInfo,
  StoredEvent,
  EventSlice,
  FindingWrite,
  StoredScan,
} from '@vigil/store';
import { WriteQueue, yieldToIo } from './write-queue.js';
import type { SnapshotMaker } from './snapshot-maker.js';
import { scannerWord, severityWord, sourceWord } from './words.js';

export interface ProjectionLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
}

/** A folded SnapshotRequested that no snapshot of its scope covers yet. */
export interface PendingRequest {
  readonly requestId: string;
  readonly requestedBy: string;
  readonly reason: string;
  readonly scope: { tenant: string; cluster: string };
  readonly position: LogPosition;
}

/** One version checked by a rebuild: its stored hash and the one the replayed fold gives. */
export interface RebuiltVersion {
  readonly scope: string;
  readonly version: number;
  readonly stored: string;
  readonly rebuilt: string;
  // The stored previous_hash is the content hash of the stored version before it.
  readonly chained: boolean;
  readonly ok: boolean;
}

export interface RebuildResult {
  readonly versions: RebuiltVersion[];
  readonly events: number;
  readonly ok: boolean;
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
  // Snapshot requests by scope, in fold order; dropped once a snapshot of the scope covers their position.
  private readonly requests = new Map<string, PendingRequest[]>();
  // When each exception was revoked (the revoking event's time): the exceptions table keeps it.
  private readonly revokedAt = new Map<string, Date>();
  // Inventory keys and exception ids a batch touched, by scope: their rows are rewritten from the fold.
  private touched = new Map<string, { inventory: Set<string>; exceptions: Set<string> }>();
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
    this.requests.clear();
    this.revokedAt.clear();
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
    this.touched = new Map();
    let published: EventEnvelope[] = [];
    try {
      published = await this.o.store.inTransaction((tx) =>
        withWrites((writes) => this.apply(tx, records, writes)),
      );
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

  /**
   * One batch inside its transaction. The writes are queued, not awaited one by one, so that Postgres inserts one
   * slice's events while the next slice is decoded, and writes one slice's finding rows while the next is folded
   * (on two cores the projection was waiting on the database for a third of its time, and the database on it for
   * the rest).
   */
  private async apply(
    tx: ReportingTransaction,
    records: ConsumedRecord[],
    writes: WriteQueue,
  ): Promise<EventEnvelope[]> {
    const decoded: { record: ConsumedRecord; envelope: EventEnvelope }[] = [];
    const inserted = new Set<string>();
    for (let i = 0; i < records.length; i += SLICE) {
      const slice = records.slice(i, i + SLICE).map((r) => ({ record: r, envelope: decodeRecord(r) }));
      for (const d of slice) decoded.push(d);
      const events = slice.map(toNewEvent);
      writes.push(async () => {
        for (const id of await tx.insertEvents(events)) inserted.add(id);
      });
      await yieldToIo();
    }
    await writes.drain();
    // Only what was recorded now is folded and projected; a batch may carry one event twice (a producer retry),
    // and it counts once, as its first copy.
    const fresh = decoded.filter(({ envelope }) => inserted.delete(envelope.eventId));
    if (fresh.length === 0) return [];
    // A snapshot request names its scope in its payload, which is the scope whose version it asks for.
    const requested = fresh.flatMap(({ envelope: e }) =>
      e.payload.case === 'snapshotRequested' && e.payload.value.scope?.cluster
        ? [scopeKey(e.payload.value.scope)]
        : [],
    );
    const freshByScope = new Map<string, number>();
    for (const { envelope } of fresh) {
      const scope = scopeOf(envelope);
      freshByScope.set(scope, (freshByScope.get(scope) ?? 0) + 1);
    }
    const scopes = [...new Set([...freshByScope.keys(), ...requested])].sort();
    for (const scope of scopes) await tx.lockScope(scope);
    // What another instance recorded for the scope may have opened and resolved findings this fold never synced
    // open. The batch's own events are in the table already and not folded yet: they are not news.
    for (const scope of scopes)
      if ((await this.catchUp(tx, scope, freshByScope.get(scope) ?? 0)) > 0)
        syncMemos.get(this.state)?.delete(scope);
    const touched = new Set<string>();
    for (let i = 0; i < fresh.length; i++) {
      const { record, envelope } = fresh[i]!;
      this.fold(envelope, record.topic, record.partition, record.offset);
      this.project(tx, envelope, writes);
      touched.add(scopeOf(envelope));
      // The queue moves on by one write each time the connection's answer is read: read it often.
      if ((i + 1) % YIELD_EVERY === 0) await yieldToIo();
      if ((i + 1) % SLICE !== 0 && i !== fresh.length - 1) continue;
      for (const scope of [...touched].sort()) await this.syncFindings(tx, scope, writes);
      touched.clear();
    }
    for (const scope of scopes) {
      await this.syncFindings(tx, scope, writes);
      this.syncAssetsAndExceptions(tx, scope, writes);
    }
    await writes.drain();
    const out: EventEnvelope[] = [];
    for (const scope of scopes) out.push(...(await this.snapshotsDue(tx, scope)));
    return out;
  }

  /** Snapshot requests folded that no version of their scope covers yet (until the next batch makes one). */
  pendingRequests(scope: string): readonly PendingRequest[] {
    return this.requests.get(scope) ?? [];
  }

  /**
   * `vigil reporting rebuild`: drops the query projections (never the event store, never the snapshots), replays
   * the stored events through the same fold, version by version up to each snapshot's log position, and checks
   * that every stored content hash comes out again. The projections are rewritten from the replay on the way, in
   * one transaction with the scopes locked, so a running consumer waits and then sees the rebuilt tables.
   *
   * The event store is the replayed log: it holds every record the reporting group consumed with its topic,
   * partition and offset (on the embedded deployment it is the log's own copy; with Kafka, the broker's retention
   * may already have dropped what the store keeps).
   */
  async rebuild(onVersion?: (v: RebuiltVersion) => void): Promise<RebuildResult> {
    const outcome = await this.o.store.inTransaction(async (tx) => {
      const scopes = await tx.scopes();
      for (const scope of scopes) await tx.lockScope(scope);
      await tx.dropProjections();
      this.state = initialState();
      this.folded.clear();
      this.positions.clear();
      this.requests.clear();
      this.revokedAt.clear();
      const versions: RebuiltVersion[] = [];
      let events = 0;
      for (const scope of scopes) {
        const byPartition = new Map<string, StoredEvent[]>();
        for (let offset = 0; ;) {
          const page = await tx.eventsForScope(scope, { offset, limit: 5000 });
          for (const e of page) {
            const key = `${e.topic}\u0000${e.partition}`;
            const list = byPartition.get(key) ?? [];
            list.push(e);
            byPartition.set(key, list);
          }
          offset += page.length;
          if (page.length < 5000) break;
        }
        const cursors = new Map<string, number>();
        // Folds every stored event of the scope at or before the position (all of them without one).
        const foldUpTo = async (position?: SnapshotInfo['logPosition']) => {
          const batch: StoredEvent[] = [];
          for (const [key, list] of byPartition) {
            const bound = position?.find((p) => `${p.topic}\u0000${p.partition}` === key);
            if (position && !bound) continue;
            let i = cursors.get(key) ?? 0;
            while (i < list.length && (!bound || BigInt(list[i]!.logOffset) <= BigInt(bound.offset)))
              batch.push(list[i++]!);
            cursors.set(key, i);
          }
          this.touched = new Map();
          await withWrites(async (writes) => {
            for (const e of batch) {
              const envelope = decodeStored(e);
              if (!this.fold(envelope, e.topic, e.partition, e.logOffset)) continue;
              events++;
              this.project(tx, envelope, writes);
            }
            await this.syncFindings(tx, scope, writes);
            this.syncAssetsAndExceptions(tx, scope, writes);
          });
        };
        let previous: SnapshotInfo | undefined;
        for (const stored of await tx.listSnapshots(scope)) {
          await foldUpTo(stored.logPosition);
          const rebuilt = this.o.snapshots.contentHash(
            this.state,
            this.state.scopes.get(scope)?.scope ?? scopeFromKey(scope),
            previous ? { version: previous.version, contentHash: previous.contentHash } : undefined,
            stored.logPosition,
            await recordedShape(tx, scope, stored.version),
          );
          const chained = (stored.previousHash ?? '') === (previous?.contentHash ?? '');
          const v: RebuiltVersion = {
            scope,
            version: stored.version,
            stored: stored.contentHash,
            rebuilt,
            chained,
            ok: chained && rebuilt === stored.contentHash,
          };
          versions.push(v);
          onVersion?.(v);
          previous = stored;
        }
        await foldUpTo();
      }
      return { versions, events };
    });
    // The fold now holds every stored event, but positions of other instances' records may be newer: reload.
    this.stale = true;
    return { ...outcome, ok: outcome.versions.every((v) => v.ok) };
  }

  private fold(envelope: EventEnvelope, topic: string, partition: number, offset: string): boolean {
    if (this.state.seenEventIds.has(envelope.eventId)) return false;
    evolve(this.state, envelope);
    const scope = scopeOf(envelope);
    this.folded.set(scope, (this.folded.get(scope) ?? 0) + 1);
    const p = envelope.payload;
    // This service's own announcements are output, not input: counting them in the log position would make a
    // snapshot's content depend on how many announcements a crash between commit and publish lost.
    if (p.case === 'snapshotPublished') return true;
    this.advance(topic, partition, offset);
    if (p.case === 'snapshotRequested') {
      const target = p.value.scope?.cluster
        ? { tenant: p.value.scope.tenant, cluster: p.value.scope.cluster }
        : { tenant: envelope.scope?.tenant ?? '', cluster: envelope.scope?.cluster ?? 'default' };
      const key = scopeKey(target);
      const list = this.requests.get(key) ?? [];
      list.push({
        requestId: p.value.requestId,
        requestedBy: p.value.requestedBy,
        reason: p.value.reason,
        scope: target,
        position: { topic, partition, offset } as LogPosition,
      });
      this.requests.set(key, list);
    } else if (p.case === 'exceptionRevoked') {
      const at = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(0);
      const prior = this.revokedAt.get(p.value.exceptionId);
      if (!prior || at < prior) this.revokedAt.set(p.value.exceptionId, at);
    }
    return true;
  }

  /** Folds the scope's recorded events this instance has not seen; evolve skips the ones it has. */
  private async catchUp(reader: ReportingReader, scope: string, recordedNow = 0): Promise<number> {
    if ((this.folded.get(scope) ?? 0) + recordedNow >= (await reader.countEvents(scope))) return 0;
    let added = 0;
    for (let offset = 0; ;) {
      const page = await reader.eventsForScope(scope, { offset, limit: 5000 });
      for (const e of page) if (this.fold(decodeStored(e), e.topic, e.partition, e.logOffset)) added++;
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

  private touch(scope: string): { inventory: Set<string>; exceptions: Set<string> } {
    let t = this.touched.get(scope);
    if (!t) {
      t = { inventory: new Set(), exceptions: new Set() };
      this.touched.set(scope, t);
    }
    return t;
  }

  /** The query projections: what the API filters on. The fold stays the one place that decides resolution. */
  private project(tx: ReportingTransaction, envelope: EventEnvelope, writes: WriteQueue): void {
    const p = envelope.payload;
    const scope = scopeOf(envelope);
    const at = envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(0);
    switch (p.case) {
      case 'inventoryObserved': {
        const keys = this.touch(
          scopeKey(p.value.scope?.cluster ? p.value.scope : { cluster: scope }),
        ).inventory;
        for (const item of p.value.items) {
          const key = inventoryKey(item);
          if (key !== undefined) keys.add(key);
        }
        break;
      }
      case 'exceptionRecorded':
      case 'exceptionRevoked':
        this.touch(scopeKey(p.value.scope?.cluster ? p.value.scope : { cluster: scope })).exceptions.add(
          p.value.exceptionId,
        );
        break;
      case 'scanRequested':
        writes.push(
          upsertScan(tx, {
            scanId: p.value.scanId,
            scanner: scannerWord(p.value.scanner),
            scope,
            targetKey: p.value.target?.key ?? '',
            status: 'requested',
            requestedAt: at,
            completedAt: null,
            findingIds: null,
            payload: null,
          }),
        );
        break;
      case 'scanStarted':
        writes.push(
          upsertScan(tx, {
            scanId: p.value.scanId,
            scanner: scannerWord(p.value.scanner),
            scope,
            targetKey: p.value.targetKey,
            status: 'started',
            requestedAt: null,
            completedAt: null,
            findingIds: null,
            payload: null,
          }),
        );
        break;
      case 'scanCompleted': {
        const c = p.value;
        writes.push(
          upsertScan(tx, {
            scanId: c.scanId,
            scanner: scannerWord(c.scanner),
            scope,
            targetKey: c.targetKey,
            status: c.status === ScanStatus.OK ? 'completed' : 'failed',
            requestedAt: null,
            completedAt: c.completedAt ? timestampDate(c.completedAt) : at,
            findingIds: [...c.findingIds],
            payload: encodeEnvelope(envelope),
          }),
        );
        break;
      }
      default:
        break;
    }
  }

  /** Writes the fold's current view of the scope's findings (open and resolved) into the findings table. */
  private async syncFindings(tx: ReportingTransaction, scope: string, writes: WriteQueue): Promise<void> {
    const state = this.state.scopes.get(scope);
    if (!state) return;
    const resolution = resolveFindings(state);
    const { groups } = resolution;
    // Rewriting every open finding on every batch made projection quadratic in the scope's size. The memo holds
    // what this fold last wrote of each open row; the resolution says which findings it re-resolved since then,
    // and only those are compared (and written when they differ). The memo hangs off the fold object: a failed
    // transaction rebuilds the fold, and with it a memo that trusts nothing.
    const memos = syncMemos.get(this.state) ?? new Map<string, SyncMemo>();
    syncMemos.set(this.state, memos);
    const memo = memos.get(scope);
    const since =
      memo && memo.epoch !== undefined && resolution.openById
        ? resolution.changedSince?.(memo.epoch)
        : undefined;
    const rows: FindingWrite[] = [];
    const write = (o: OpenFinding, synced: Map<string, SyncedRow>, before: SyncedRow | undefined) => {
      const f = o.finding;
      const lastScanId = o.scanIds[o.scanIds.length - 1] ?? null;
      const scan = state.scans.get(lastScanId ?? '');
      const row: SyncedRow = {
        finding: f,
        lastScanId,
        scanner: scan?.scanner !== undefined ? scannerWord(scan.scanner) : '',
        targetKey: scan?.targetKey ?? '',
      };
      synced.set(f.id, row);
      if (
        before &&
        before.finding === f &&
        before.lastScanId === lastScanId &&
        before.scanner === row.scanner &&
        before.targetKey === row.targetKey
      )
        return;
      rows.push(storedRow(scope, o, row));
    };
    // What the fold no longer holds open was resolved by the latest ok scan of the finding's scanner and target.
    const candidates: { findingId: string; scanner: string; targetKey: string }[] = [];
    let rowsNow: Map<string, SyncedRow>;
    if (memo && since && resolution.openById) {
      rowsNow = memo.rows;
      const open = resolution.openById;
      for (const id of since) {
        const before = rowsNow.get(id);
        const o = open.get(id);
        if (o) write(o, rowsNow, before);
        else if (before?.finding) {
          rowsNow.delete(id);
          candidates.push({ findingId: id, scanner: before.scanner, targetKey: before.targetKey });
        }
      }
      // Rows still open in the table that were not resolvable yet are tried again.
      for (const id of memo.unresolved) {
        const row = rowsNow.get(id);
        if (row && !row.finding && !open.has(id)) {
          rowsNow.delete(id);
          candidates.push({ findingId: id, ...row });
        }
      }
    } else {
      rowsNow = new Map();
      for (const o of resolution.open) write(o, rowsNow, memo?.rows.get(o.finding.id));
      // The candidates are what this fold last saw open (or, on its first sync, every open row of the table).
      if (memo) {
        for (const [findingId, row] of memo.rows)
          if (!rowsNow.has(findingId)) candidates.push({ findingId, ...row });
      } else {
        // A read: it has to see the writes queued before it.
        await writes.drain();
        for (const row of await tx.openFindingKeys(scope))
          if (!rowsNow.has(row.findingId)) candidates.push(row);
      }
    }
    if (rows.length > 0) writes.push(() => tx.upsertFindings(rows));
    const groupOf = new Map(
      [...groups.values()].map((g) => [`${scannerWord(g.scanner)}\u0000${g.targetKey}`, g]),
    );
    const byScan = new Map<string, { at: Date; ids: string[] }>();
    const unresolved = new Set<string>();
    for (const row of candidates) {
      const latest = groupOf.get(`${row.scanner}\u0000${row.targetKey}`)?.latestOk;
      if (!latest?.completed) {
        // Not resolvable yet: keep it a candidate for the next batch, as the table still holds it open.
        rowsNow.set(row.findingId, {
          finding: undefined,
          lastScanId: null,
          scanner: row.scanner,
          targetKey: row.targetKey,
        });
        unresolved.add(row.findingId);
        continue;
      }
      const entry = byScan.get(latest.scanId) ?? {
        at: latest.completed.completedAt ? timestampDate(latest.completed.completedAt) : new Date(0),
        ids: [],
      };
      entry.ids.push(row.findingId);
      byScan.set(latest.scanId, entry);
    }
    for (const [scanId, { at, ids }] of byScan)
      writes.push(() => tx.resolveFindings(scope, ids, { scanId, at }));
    memos.set(scope, { rows: rowsNow, epoch: resolution.epoch, unresolved });
  }

  /**
   * Rewrites the asset and exception rows the batch touched from the fold, which has already picked the winner
   * of two reports of the same item (later occurred-at, then event id), so arrival order cannot.
   */
  private syncAssetsAndExceptions(tx: ReportingTransaction, scope: string, writes: WriteQueue): void {
    const state = this.state.scopes.get(scope);
    const t = this.touched.get(scope);
    if (!state || !t) return;
    for (const key of [...t.inventory].sort()) {
      const record = state.inventory.get(key);
      if (!record) continue;
      const asset = {
        scope,
        kind: record.item.item.case ?? 'unknown',
        key,
        payload: toBinary(InventoryItemSchema, record.item),
        updatedAt: dateOf(record.occurredAt),
      };
      writes.push(() => tx.upsertAsset(asset));
    }
    for (const id of [...t.exceptions].sort()) {
      const x = state.exceptions.get(id);
      // A revocation folded before its acceptance has no row to mark until the acceptance arrives.
      if (!x) continue;
      const exception = {
        id,
        scope,
        payload: toBinary(ExceptionRecordedSchema, x.recorded),
        expiresAt: x.recorded.expiresAt ? timestampDate(x.recorded.expiresAt) : new Date(8.64e15),
        revokedAt: state.revocations.has(id) ? (this.revokedAt.get(id) ?? new Date(0)) : null,
      };
      writes.push(() => tx.upsertException(exception));
    }
  }

  /** Every completed scan of the scope whose findings are all folded and that has no snapshot yet, in order. */
  private async snapshotsDue(tx: ReportingTransaction, scope: string): Promise<EventEnvelope[]> {
    const out = await this.scanSnapshotsDue(tx, scope);
    const pending = this.requests.get(scope);
    if (!pending?.length) return out;
    // A request is met by any version of its scope made after it was folded, including a scan's in this batch.
    // The head only: the latest version's content can be hundreds of megabytes, and only its position is needed.
    const latest = await tx.snapshotHead(scope);
    const open = pending.filter((r) => !latest || !coversPosition(latest.logPosition, r.position));
    this.requests.delete(scope);
    if (open.length === 0) return out;
    const state = this.state.scopes.get(scope);
    const first = open[0]!;
    const made = await this.o.snapshots.make(tx, this.state, state ? { ...state.scope } : first.scope, {
      scanId: '',
      logPosition: this.logPosition(),
    });
    const at = state?.asOf;
    out.push(this.announcement(made, state ? { ...state.scope } : first.scope, at));
    this.o.logger.info('snapshot made on request', {
      scope,
      version: made.published.version,
      requests: open.map((r) => r.requestId),
    });
    return out;
  }

  private announcement(
    made: Awaited<ReturnType<SnapshotMaker['make']>>,
    scope: { tenant: string; cluster: string },
    at: { seconds: bigint; nanos: number } | undefined,
  ): EventEnvelope {
    return newEnvelope({
      payload: { case: 'snapshotPublished', value: create(SnapshotPublishedSchema, made.published) },
      scope,
      subjectKey: made.subjectKey,
      producer: this.o.producer,
      clock: () => (at ? new Date(Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6)) : new Date()),
    });
  }

  private async scanSnapshotsDue(tx: ReportingTransaction, scope: string): Promise<EventEnvelope[]> {
    const state = this.state.scopes.get(scope);
    if (!state) return [];
    const made = new Set((await tx.listSnapshots(scope)).map((s) => s.scanId).filter((id) => id));
    // The correlator's completions update what is open but are not a scan cycle of their own: the next scan's,
    // scheduled or requested snapshot includes them (one `vigil scan` makes one version). Nor is a failed scan
    // (its input could not be read): it resolves nothing, and the next version records it.
    const due = [...state.scans.values()]
      .filter(
        (s) =>
          s.completed &&
          s.completed.status !== ScanStatus.FAILED &&
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
      out.push(this.announcement(made, { ...state.scope }, scan.completedOccurredAt));
    }
    return out;
  }
}

/**
 * The entity type and finding order a stored version recorded, read through its digest (its findings are not
 * decoded). A version made before versions recorded its entity type gets the deployment's; one made before they
 * recorded their order has its findings by id. Nothing for a version whose content does not match its hash (the
 * rebuild then says it does not reproduce).
 */
async function recordedShape(
  reader: ReportingReader,
  scope: string,
  version: number,
): Promise<{ entityType?: EntityType; findingOrder?: FindingOrder }> {
  const stored = await reader.getSnapshot(scope, version);
  if (!stored) return {};
  let digest: ReturnType<typeof digestFromContent>;
  try {
    digest = digestFromContent(stored.content, stored.contentHash);
  } catch {
    return {};
  }
  const e = digest.entityType;
  return {
    ...(e === 'merchant' || e === 'service_provider' ? { entityType: e } : {}),
    findingOrder: digest.findingOrder === 'asset' ? 'asset' : 'id',
  };
}

/** The scope an event belongs to: its envelope's, or the default cluster's. */
function scopeOf(envelope: EventEnvelope): string {
  return scopeKey(envelope.scope ?? { cluster: 'default' });
}

/** A scan row's write, as a queued write: the row is built now, from the event being projected. */
function upsertScan(tx: ReportingTransaction, scan: StoredScan): () => Promise<void> {
  return () => tx.upsertScan(scan);
}

/**
 * Runs fn with a write queue and waits for its writes; when fn fails, the writes not yet started are skipped and
 * the running one is waited for, so none runs after the transaction has ended.
 */
async function withWrites<T>(fn: (writes: WriteQueue) => Promise<T>): Promise<T> {
  const writes = new WriteQueue();
  let result: T;
  try {
    result = await fn(writes);
  } catch (err) {
    await writes.settle();
    throw err;
  }
  await writes.drain();
  return result;
}

// Events per slice of a batch, whose events and finding rows are written in one statement each; and how many
// events are decoded or folded between two looks at the connection, so that the database is never left waiting
// long for the next queued write.
const SLICE = 100;
const YIELD_EVERY = 20;

/** True when the snapshot's log position includes the given record (same partition, offset at or past it). */
export function coversPosition(
  position: readonly { topic: string; partition: number; offset: string }[],
  at: { topic: string; partition: number; offset: string },
): boolean {
  return position.some(
    (p) => p.topic === at.topic && p.partition === at.partition && BigInt(p.offset) >= BigInt(at.offset),
  );
}

function compareTime(
  a: { seconds: bigint; nanos: number } | undefined,
  b: { seconds: bigint; nanos: number } | undefined,
): number {
  const x = a ? a.seconds * 1_000_000_000n + BigInt(a.nanos) : -1n;
  const y = b ? b.seconds * 1_000_000_000n + BigInt(b.nanos) : -1n;
  return x < y ? -1 : x > y ? 1 : 0;
}

function dateOf(at: { seconds: bigint; nanos: number } | undefined): Date {
  return at ? new Date(Number(at.seconds) * 1000 + Math.floor(at.nanos / 1e6)) : new Date(0);
}

function scopeFromKey(key: string): { tenant: string; cluster: string } {
  const slash = key.indexOf('/');
  return slash >= 0
    ? { tenant: key.slice(0, slash), cluster: key.slice(slash + 1) }
    : { tenant: '', cluster: key };
}

// Where the encoded findings of the FindingReported events decoded here are: a slice of their event's payload, which
// the event store holds, so the findings projection has the database copy the bytes instead of encoding every
// finding again and sending it a second time (together, a third of the projection's CPU).
const receivedFindings = new WeakMap<Finding, EventSlice>();

function decoded(bytes: Uint8Array): EventEnvelope {
  const envelope = decodeEnvelope(bytes);
  if (envelope.payload.case === 'findingReported' && envelope.payload.value.finding) {
    const raw = reportedFindingBytes(bytes);
    if (raw)
      receivedFindings.set(envelope.payload.value.finding, {
        eventId: envelope.eventId,
        offset: raw.byteOffset - bytes.byteOffset,
        length: raw.byteLength,
      });
  }
  return envelope;
}

function encodedFinding(f: Finding): Uint8Array | EventSlice {
  const reported = reportedFindingOf(f);
  return (reported && receivedFindings.get(reported)) ?? toBinary(FindingSchema, f);
}

function decodeStored(e: StoredEvent): EventEnvelope {
  try {
    return decoded(e.payload);
  } catch (err) {
    throw new Error(
      `stored event ${e.eventId} (${e.topic}[${e.partition}]@${e.logOffset}): ${(err as Error).message}`,
    );
  }
}

function decodeRecord(r: ConsumedRecord): EventEnvelope {
  try {
    return decoded(r.value);
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
    scope: scopeOf(envelope),
    subjectKey: envelope.subjectKey,
    occurredAt: envelope.occurredAt ? timestampDate(envelope.occurredAt) : new Date(record.timestamp),
    payload: record.value,
  };
}

/** What syncFindings last wrote of an open finding (finding undefined: open in the table, no longer in the fold). */
interface SyncedRow {
  finding: Finding | undefined;
  lastScanId: string | null;
  scanner: string;
  targetKey: string;
}

interface SyncMemo {
  rows: Map<string, SyncedRow>;
  // The resolution the rows were last synced from; undefined when it cannot say what changed since.
  epoch: number | undefined;
  // Rows the table holds open that no ok scan could resolve yet.
  unresolved: Set<string>;
}

const syncMemos = new WeakMap<ReportState, Map<string, SyncMemo>>();

function storedRow(scope: string, o: OpenFinding, row: SyncedRow): FindingWrite {
  const f = o.finding;
  return {
    scope,
    findingId: f.id,
    source: sourceWord(f.source),
    ruleId: f.ruleId,
    severity: severityWord(f.severity),
    scanner: row.scanner,
    targetKey: row.targetKey,
    lastScanId: row.lastScanId,
    assetKey: assetKey(f.asset),
    pciRequirements: [...f.pciRequirements],
    status: 'open',
    firstSeen: f.firstSeen ? timestampDate(f.firstSeen) : new Date(0),
    lastSeen: f.lastSeen ? timestampDate(f.lastSeen) : new Date(0),
    resolvedAt: null,
    resolvedByScan: null,
    priority: findingPriority(f),
    relatedFindingIds: [...f.relatedFindingIds],
    payload: encodedFinding(f),
  };
}

// The correlator's contextual priority (libs/correlate publication): the "priority" evidence of the correlated
// findings it publishes, 0-100. Stored as a column so the API sorts and pages by it in SQL.
function findingPriority(f: Finding): number | null {
  const value = f.evidence.find((e) => e.key === 'priority')?.value;
  const n = value === undefined || value === '' ? NaN : Number(value);
  return Number.isFinite(n) ? n : null;
}
