// The reporting side's repositories. TypeORM stays inside: callers pass and get the plain types of
// reporting.types.ts. A batch of events and its projection updates commit together through inTransaction, so
// the reporting service commits its log offsets only after everything the batch did is durable.
import type { DataSource, EntityManager } from 'typeorm';
import { createHash } from 'node:crypto';
import { blobDigest } from './blob-digest.js';
import { chunkContent, chunkDigests, type ContentChunk } from './content-chunks.js';
import { redactUrl } from './database-url.js';
import { BlobIntegrityError, SnapshotConflictError } from './store.errors.js';
import { openDataSource } from './data-source.js';
import {
  AssetEntity,
  BlobEntity,
  EventEntity,
  ExceptionEntity,
  FindingEntity,
  ScanEntity,
  SnapshotEntity,
} from './entities/index.js';
import type { ReportingStoreOptions } from './reporting-store.open.js';
import {
  SCAN_STATUSES,
  SEVERITIES,
  type NewEvent,
  type NewSnapshot,
  type SnapshotInfo,
  type SnapshotStorage,
  type StoredAsset,
  type StoredBlob,
  type StoredEvent,
  type StoredException,
  type FindingWrite,
  type StoredFinding,
  type FindingFilterQuery,
  type FindingPage,
  type FindingQuery,
  type StoredScan,
  type StoredSnapshot,
} from './reporting.types.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function buf(u: Uint8Array): Buffer {
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

/**
 * `ARRAY[$first, $first+1, ...]::bytea[]` for `count` parameters: a bytea[] parameter travels as hex text, twice
 * the bytes and an encoding pass on each side, while a Buffer parameter of its own travels as binary.
 */
// A statement's parameters are limited to 65,535; batches larger than this go in several statements.
const ROWS_PER_STATEMENT = 10_000;

function binaryArray(first: number, count: number): string {
  const params: string[] = [];
  for (let i = 0; i < count; i++) params.push(`$${first + i}::bytea`);
  return `ARRAY[${params.join(', ')}]::bytea[]`;
}

function need(value: unknown, what: string): void {
  if (typeof value !== 'string' || value === '') throw new Error(`${what} is empty`);
}

function checkOffset(offset: string, what: string): void {
  if (!/^\d{1,19}$/.test(offset)) throw new Error(`${what} "${offset}" is not a non-negative int64 decimal`);
}

const toEvent = (e: EventEntity): StoredEvent => ({
  eventId: e.eventId,
  eventType: e.eventType,
  topic: e.topic,
  partition: e.partition,
  logOffset: String(e.logOffset),
  scope: e.scope,
  subjectKey: e.subjectKey,
  occurredAt: e.occurredAt,
  recordedAt: e.recordedAt,
  payload: bytes(e.payload),
});

const toFinding = (f: FindingEntity): StoredFinding => ({
  scope: f.scope,
  findingId: f.findingId,
  source: f.source,
  ruleId: f.ruleId,
  severity: f.severity as StoredFinding['severity'],
  scanner: f.scanner,
  targetKey: f.targetKey,
  lastScanId: f.lastScanId,
  assetKey: f.assetKey,
  pciRequirements: f.pciRequirements,
  status: f.status as StoredFinding['status'],
  firstSeen: f.firstSeen,
  lastSeen: f.lastSeen,
  resolvedAt: f.resolvedAt,
  resolvedByScan: f.resolvedByScan,
  payload: bytes(f.payload),
});

const FINDING_COLUMNS = `scope, finding_id, source, rule_id, severity, scanner, target_key, last_scan_id, asset_key,
  pci_requirements, status, first_seen, last_seen, resolved_at, resolved_by_scan, payload, priority, related_finding_ids`;

interface FindingRow {
  scope: string;
  finding_id: string;
  source: string;
  rule_id: string;
  severity: string;
  scanner: string;
  target_key: string;
  last_scan_id: string | null;
  asset_key: string;
  pci_requirements: string[];
  status: string;
  first_seen: Date;
  last_seen: Date;
  resolved_at: Date | null;
  resolved_by_scan: string | null;
  payload: Buffer;
  priority: number | null;
  related_finding_ids: string[];
}

const fromFindingRow = (r: FindingRow): StoredFinding => ({
  scope: r.scope,
  findingId: r.finding_id,
  source: r.source,
  ruleId: r.rule_id,
  severity: r.severity as StoredFinding['severity'],
  scanner: r.scanner,
  targetKey: r.target_key,
  lastScanId: r.last_scan_id,
  assetKey: r.asset_key,
  pciRequirements: r.pci_requirements,
  status: r.status as StoredFinding['status'],
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  resolvedAt: r.resolved_at,
  resolvedByScan: r.resolved_by_scan,
  priority: r.priority === null ? null : Number(r.priority),
  relatedFindingIds: r.related_finding_ids,
  payload: bytes(r.payload),
});

const toScan = (s: ScanEntity): StoredScan => ({
  scanId: s.scanId,
  scanner: s.scanner,
  scope: s.scope,
  targetKey: s.targetKey,
  status: s.status as StoredScan['status'],
  requestedAt: s.requestedAt,
  completedAt: s.completedAt,
  findingIds: s.findingIds,
  payload: s.payload ? bytes(s.payload) : null,
});

const toAsset = (a: AssetEntity): StoredAsset => ({
  scope: a.scope,
  kind: a.kind,
  key: a.key,
  payload: bytes(a.payload),
  updatedAt: a.updatedAt,
});

const toException = (x: ExceptionEntity): StoredException => ({
  id: x.id,
  scope: x.scope,
  payload: bytes(x.payload),
  expiresAt: x.expiresAt,
  revokedAt: x.revokedAt,
});

const toSnapshot = (s: SnapshotEntity, content: Uint8Array): StoredSnapshot => ({
  scope: s.scope,
  version: s.version,
  frameworkVersion: s.frameworkVersion,
  contentHash: s.contentHash,
  previousHash: s.previousHash,
  logPosition: s.logPosition as StoredSnapshot['logPosition'],
  content,
  scanId: s.scanId,
  createdAt: s.createdAt,
});

// Scan events may be projected out of order (request and completion live on different topics); a scan's
// status only moves forward.
const SCAN_RANK_SQL = (col: string) => `CASE ${col} WHEN 'requested' THEN 0 WHEN 'started' THEN 1 ELSE 2 END`;

// The WHERE clause of a finding query's filters, with its parameters; param adds one more. For a page (ordered,
// limited) the requirement tests are written so that no GIN index can serve them: the priority index gives a
// page in its first entries for every filter but a rare one, and a planner that guesses the match rare (the
// statistics of a freshly loaded table) would otherwise take the GIN index and sort every matching finding for
// each page (1.3 s at 200,000 findings). A count has no order to keep, so it may use either.
function findingFilterSql(
  q: FindingFilterQuery,
  use: 'page' | 'count',
): {
  where: string;
  params: unknown[];
  param: (v: unknown) => string;
} {
  need(q.scope, 'finding query scope');
  const where = ['scope = $1', 'status = $2'];
  const params: unknown[] = [q.scope, q.status];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  if (q.severities?.length) {
    for (const s of q.severities)
      if (!SEVERITIES.includes(s))
        throw new Error(`finding query severity "${s}" is not one of ${SEVERITIES.join('|')}`);
    where.push(`severity = ANY(${param(q.severities)}::text[])`);
  }
  if (q.requirement) {
    // "6" is the principal requirement: every id under it, which pci_principals lists (the database derives it
    // from pci_requirements); both arrays have a GIN index.
    const column = q.requirement.includes('.') ? 'pci_requirements' : 'pci_principals';
    const id = param(q.requirement);
    where.push(use === 'page' ? `${id}::text = ANY(${column})` : `${column} @> ARRAY[${id}::text]`);
  }
  if (q.source) where.push(`source = ${param(q.source)}`);
  if (q.asset)
    where.push(
      q.asset.endsWith('/') ? `starts_with(asset_key, ${param(q.asset)})` : `asset_key = ${param(q.asset)}`,
    );
  if (q.correlated !== undefined)
    where.push(q.correlated ? `source = 'correlated'` : `source <> 'correlated'`);
  return { where: where.join(' AND '), params, param };
}

/** Reads shared by the store and its transactions. */
export class ReportingReader {
  constructor(protected readonly manager: EntityManager) {}

  async getBlob(digest: string): Promise<StoredBlob | undefined> {
    if (!DIGEST.test(digest))
      throw new Error(`invalid blob digest "${digest}": expected sha256:<64 lowercase hex>`);
    const row = await this.manager.findOneBy(BlobEntity, { digest });
    if (!row) return undefined;
    const actual = blobDigest(row.content);
    if (actual !== digest) throw new BlobIntegrityError(digest, actual);
    return {
      digest,
      mediaType: row.mediaType,
      size: Number(row.size),
      content: bytes(row.content),
      createdAt: row.createdAt,
    };
  }

  async scanById(scanId: string): Promise<StoredScan | undefined> {
    const row = await this.manager.findOneBy(ScanEntity, { scanId });
    return row ? toScan(row) : undefined;
  }

  async getFinding(scope: string, findingId: string): Promise<StoredFinding | undefined> {
    const row = await this.manager.findOneBy(FindingEntity, { scope, findingId });
    return row ? toFinding(row) : undefined;
  }

  /** The scope's findings in canonical order (target key, finding id); optionally only open or resolved ones. */
  async findingsForScope(scope: string, status?: StoredFinding['status']): Promise<StoredFinding[]> {
    const rows = await this.manager.find(FindingEntity, {
      where: status ? { scope, status } : { scope },
      order: { targetKey: 'ASC', findingId: 'ASC' },
    });
    return rows.map(toFinding);
  }

  /** Open findings last seen by this scanner on this target: the candidates a new completed scan may resolve. */
  async openFindingsFor(scanner: string, scope: string, targetKey: string): Promise<StoredFinding[]> {
    const rows = await this.manager.find(FindingEntity, {
      where: { scope, scanner, targetKey, status: 'open' },
      order: { findingId: 'ASC' },
    });
    return rows.map(toFinding);
  }

  /** Which of these finding ids are projected in the scope (a scan's snapshot waits until all of them are). */
  async projectedFindingIds(scope: string, findingIds: string[]): Promise<Set<string>> {
    if (findingIds.length === 0) return new Set();
    const rows: { finding_id: string }[] = await this.manager.query(
      'SELECT finding_id FROM findings WHERE scope = $1 AND finding_id = ANY($2::text[])',
      [scope, findingIds],
    );
    return new Set(rows.map((r) => r.finding_id));
  }

  async assetsForScope(scope: string): Promise<StoredAsset[]> {
    const rows = await this.manager.find(AssetEntity, {
      where: { scope },
      order: { kind: 'ASC', key: 'ASC' },
    });
    return rows.map(toAsset);
  }

  async exceptionsForScope(scope: string): Promise<StoredException[]> {
    const rows = await this.manager.find(ExceptionEntity, { where: { scope }, order: { id: 'ASC' } });
    return rows.map(toException);
  }

  /** The scope's recorded events in log order (topic, partition, offset), a page at a time. */
  async eventsForScope(
    scope: string,
    options: { limit?: number; offset?: number } = {},
  ): Promise<StoredEvent[]> {
    const rows = await this.manager
      .createQueryBuilder(EventEntity, 'e')
      .where('e.scope = :scope', { scope })
      .orderBy('e.topic', 'ASC')
      .addOrderBy('e.partition', 'ASC')
      .addOrderBy('e.logOffset', 'ASC')
      .skip(options.offset ?? 0)
      .take(options.limit ?? 10_000)
      .getMany();
    return rows.map(toEvent);
  }

  async latestSnapshot(scope: string): Promise<StoredSnapshot | undefined> {
    const row = await this.manager.findOne(SnapshotEntity, { where: { scope }, order: { version: 'DESC' } });
    return row ? toSnapshot(row, await this.snapshotContent(row)) : undefined;
  }

  async getSnapshot(scope: string, version: number): Promise<StoredSnapshot | undefined> {
    const row = await this.manager.findOneBy(SnapshotEntity, { scope, version });
    return row ? toSnapshot(row, await this.snapshotContent(row)) : undefined;
  }

  /** A version's content: inline, or put together from its chunks, each checked against its digest. */
  private async snapshotContent(row: SnapshotEntity): Promise<Uint8Array> {
    if (row.content) return bytes(row.content);
    const what = `snapshot ${row.version} of scope "${row.scope}"`;
    if (!row.chunks) throw new Error(`${what} has neither content nor chunks`);
    const digests = chunkDigests(row.chunks);
    const found: { digest: Buffer; content: Buffer }[] = await this.manager.query(
      'SELECT digest, content FROM snapshot_chunks WHERE digest = ANY($1::bytea[])',
      [[...new Set(digests.map((d) => d.toString('hex')))].map((h) => Buffer.from(h, 'hex'))],
    );
    const byDigest = new Map<string, Buffer>();
    for (const c of found) {
      const key = c.digest.toString('hex');
      const actual = createHash('sha256').update(c.content).digest('hex');
      if (actual !== key)
        throw new Error(`${what}: chunk sha256:${key} holds bytes whose digest is sha256:${actual}`);
      byDigest.set(key, c.content);
    }
    const parts = digests.map((d) => {
      const part = byDigest.get(d.toString('hex'));
      if (!part) throw new Error(`${what}: chunk sha256:${d.toString('hex')} is missing`);
      return part;
    });
    const content = Buffer.concat(parts);
    if (row.size !== null && Number(row.size) !== content.byteLength)
      throw new Error(`${what}: its chunks hold ${content.byteLength} bytes, the row says ${row.size}`);
    return content;
  }

  /** Every snapshot of the scope, oldest first, without content. */
  async listSnapshots(scope: string): Promise<SnapshotInfo[]> {
    const rows: {
      scope: string;
      version: number;
      framework_version: string;
      content_hash: string;
      previous_hash: string | null;
      log_position: SnapshotInfo['logPosition'];
      created_at: Date;
      scan_id: string;
      size: number;
    }[] = await this.manager.query(
      `SELECT scope, version, framework_version, content_hash, previous_hash, log_position, created_at, scan_id,
              COALESCE(size, octet_length(content)) AS size
         FROM snapshots WHERE scope = $1 ORDER BY version`,
      [scope],
    );
    return rows.map((r) => ({
      scope: r.scope,
      version: r.version,
      frameworkVersion: r.framework_version,
      contentHash: r.content_hash,
      previousHash: r.previous_hash,
      logPosition: r.log_position,
      createdAt: r.created_at,
      scanId: r.scan_id,
      size: Number(r.size),
    }));
  }

  /**
   * One snapshot's listing (the latest when version is undefined) without reading its content: no content
   * column, not even its length, which for a large scope would detoast megabytes per call.
   */
  async snapshotHead(scope: string, version?: number): Promise<Omit<SnapshotInfo, 'size'> | undefined> {
    const rows: {
      scope: string;
      version: number;
      framework_version: string;
      content_hash: string;
      previous_hash: string | null;
      log_position: SnapshotInfo['logPosition'];
      created_at: Date;
      scan_id: string;
    }[] = await this.manager.query(
      `SELECT scope, version, framework_version, content_hash, previous_hash, log_position, created_at, scan_id
         FROM snapshots WHERE scope = $1 ${version === undefined ? '' : 'AND version = $2'}
        ORDER BY version DESC LIMIT 1`,
      version === undefined ? [scope] : [scope, version],
    );
    const r = rows[0];
    return r
      ? {
          scope: r.scope,
          version: r.version,
          frameworkVersion: r.framework_version,
          contentHash: r.content_hash,
          previousHash: r.previous_hash,
          logPosition: r.log_position,
          createdAt: r.created_at,
          scanId: r.scan_id,
        }
      : undefined;
  }

  /** The open findings' ids with the scanner and target that last saw them, without payloads. */
  async openFindingKeys(scope: string): Promise<{ findingId: string; scanner: string; targetKey: string }[]> {
    const rows: { finding_id: string; scanner: string; target_key: string }[] = await this.manager.query(
      `SELECT finding_id, scanner, target_key FROM findings WHERE scope = $1 AND status = 'open' ORDER BY finding_id`,
      [scope],
    );
    return rows.map((r) => ({ findingId: r.finding_id, scanner: r.scanner, targetKey: r.target_key }));
  }

  /**
   * One page of a scope's findings, filtered and ordered in SQL: priority desc (unscored last), severity
   * (critical first), finding id. The keyset position makes every page an index range, however deep. It does not
   * count what matches: that is countFindings, asked only by a caller that shows a total.
   */
  async queryFindings(q: FindingQuery): Promise<FindingPage> {
    if (!Number.isInteger(q.limit) || q.limit < 1)
      throw new Error(`finding query limit ${q.limit} is not positive`);
    const { where, params, param } = findingFilterSql(q, 'page');
    const order = 'ORDER BY priority_key DESC, severity_rank, finding_id';
    const limit = param(q.limit + 1);
    let sql = `SELECT ${FINDING_COLUMNS} FROM findings WHERE ${where} ${order} LIMIT ${limit}`;
    if (q.after) {
      const p = param(q.after.priority ?? -1);
      const rank = SEVERITIES.indexOf(q.after.severity);
      const id = param(q.after.findingId);
      // "After (p, s, id)" in this mixed-direction order is an OR no index bound expresses: as one condition it
      // scanned every entry before the position (180 ms for a page deep in 200,000 findings). As disjoint ranges
      // in order (the rest of the position's priority and severity, each later severity the filter allows at that
      // priority, then every lower priority), each an index range cut at the page size, every page is short.
      const later = (q.severities?.length ? q.severities.map((x) => SEVERITIES.indexOf(x)) : [0, 1, 2, 3, 4])
        .filter((r) => r > rank)
        .sort((a, b) => a - b);
      const range = (condition: string) =>
        `(SELECT ${FINDING_COLUMNS}, priority_key, severity_rank FROM findings WHERE ${where} AND ${condition}
           ${order} LIMIT ${limit})`;
      const ranges = [
        range(`priority_key = ${p} AND severity_rank = ${param(rank)} AND finding_id > ${id}`),
        ...[...new Set(later)].map((r) => range(`priority_key = ${p} AND severity_rank = ${param(r)}`)),
        range(`priority_key < ${p}`),
      ];
      sql = `SELECT * FROM (${ranges.join(' UNION ALL ')}) AS page ${order} LIMIT ${limit}`;
    }
    const rows: FindingRow[] = await this.manager.query(sql, params);
    return { rows: rows.slice(0, q.limit).map(fromFindingRow), hasMore: rows.length > q.limit };
  }

  /** How many of a scope's findings match the filters of a finding query (its position and limit do not count). */
  async countFindings(q: FindingFilterQuery): Promise<number> {
    const { where, params } = findingFilterSql(q, 'count');
    const counted: { n: string }[] = await this.manager.query(
      `SELECT count(*) AS n FROM findings WHERE ${where}`,
      params,
    );
    return Number(counted[0]?.n ?? 0);
  }

  /** The findings of a scope with these ids (any status), by id. */
  async findingsByIds(scope: string, findingIds: readonly string[]): Promise<StoredFinding[]> {
    if (findingIds.length === 0) return [];
    const rows: FindingRow[] = await this.manager.query(
      `SELECT ${FINDING_COLUMNS} FROM findings WHERE scope = $1 AND finding_id = ANY($2::text[]) ORDER BY finding_id`,
      [scope, findingIds],
    );
    return rows.map(fromFindingRow);
  }

  /** The correlated findings of a scope that name this finding among those they join, highest priority first. */
  async findingsReferencing(scope: string, findingId: string): Promise<StoredFinding[]> {
    const rows: FindingRow[] = await this.manager.query(
      `SELECT ${FINDING_COLUMNS} FROM findings WHERE scope = $1 AND related_finding_ids @> ARRAY[$2::text]
        ORDER BY priority_key DESC, severity_rank, finding_id`,
      [scope, findingId],
    );
    return rows.map(fromFindingRow);
  }

  /** How many events the scope has recorded (a fold that has seen fewer is behind another writer). */
  async countEvents(scope: string): Promise<number> {
    // Kept by a trigger on events (migration SnapshotChunks1765400000000): count(*) cost the scope's size.
    const rows: { n: string }[] = await this.manager.query(
      'SELECT events AS n FROM scope_event_counts WHERE scope = $1',
      [scope],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** The scope's SnapshotRequested events in log order: what `vigil snapshots` names as a version's trigger. */
  async snapshotRequests(scope: string): Promise<StoredEvent[]> {
    const rows = await this.manager.find(EventEntity, {
      where: { scope, eventType: 'vigil.v1.SnapshotRequested' },
      order: { topic: 'ASC', partition: 'ASC', logOffset: 'ASC' },
    });
    return rows.map(toEvent);
  }

  /**
   * Scopes with an event recorded after their latest snapshot was made (or with no snapshot yet), sorted: what a
   * scheduled snapshot is for. Snapshot requests and announcements do not count, or a schedule would feed itself.
   */
  async scopesWithNewEvents(): Promise<string[]> {
    const rows: { scope: string }[] = await this.manager.query(
      `SELECT e.scope FROM events e
         LEFT JOIN (SELECT scope, max(created_at) AS at FROM snapshots GROUP BY scope) s ON s.scope = e.scope
        WHERE e.event_type NOT IN ('vigil.v1.SnapshotRequested', 'vigil.v1.SnapshotPublished')
          AND (s.at IS NULL OR e.recorded_at > s.at)
        GROUP BY e.scope ORDER BY 1`,
    );
    return rows.map((r) => r.scope);
  }

  /** Scopes that have anything recorded, sorted. */
  async scopes(): Promise<string[]> {
    const rows: { scope: string }[] = await this.manager.query(
      'SELECT scope FROM events UNION SELECT scope FROM snapshots ORDER BY 1',
    );
    return rows.map((r) => r.scope);
  }
}

/** Writes, only available inside ReportingStore.inTransaction (and the store's single-statement helpers). */
export class ReportingTransaction extends ReportingReader {
  /**
   * Serializes, until this transaction ends, the writers of one scope's projections: a second reporting instance
   * (or a one-shot vigil beside `vigil up`) waits here, then sees everything the first committed.
   */
  async lockScope(scope: string): Promise<void> {
    need(scope, 'scope');
    await this.manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `vigil.reporting:${scope}`,
    ]);
  }

  /**
   * Empties the query projections (findings, scans, assets, exceptions) for a rebuild. The event store and the
   * snapshots stay: they are what the rebuild replays and what it checks against.
   */
  async dropProjections(): Promise<void> {
    await this.manager.query('TRUNCATE findings, scans, assets, exceptions');
  }

  /** Stores bytes under their SHA-256 digest; storing the same bytes again is a no-op. Returns the digest. */
  async putBlob(content: Uint8Array, mediaType: string): Promise<string> {
    need(mediaType, 'blob media type');
    const digest = blobDigest(content);
    await this.manager
      .createQueryBuilder()
      .insert()
      .into(BlobEntity)
      .values({ digest, mediaType, size: String(content.byteLength), content: buf(content) })
      .orIgnore()
      .execute();
    return digest;
  }

  /**
   * Records events once each: an event id already stored is skipped (at-least-once delivery redelivers).
   * Returns the ids inserted now, so the caller applies projection updates only for those. A different event
   * at an already recorded (topic, partition, offset) is an error, not a duplicate.
   */
  async insertEvents(events: NewEvent[]): Promise<Set<string>> {
    if (events.length === 0) return new Set();
    if (events.length > ROWS_PER_STATEMENT) {
      const inserted = new Set<string>();
      for (let i = 0; i < events.length; i += ROWS_PER_STATEMENT)
        for (const id of await this.insertEvents(events.slice(i, i + ROWS_PER_STATEMENT))) inserted.add(id);
      return inserted;
    }
    for (const e of events) {
      need(e.eventId, 'event id');
      need(e.eventType, `event ${e.eventId}: event type`);
      need(e.topic, `event ${e.eventId}: topic`);
      need(e.scope, `event ${e.eventId}: scope`);
      checkOffset(e.logOffset, `event ${e.eventId}: log offset`);
      if (!Number.isInteger(e.partition) || e.partition < 0)
        throw new Error(`event ${e.eventId}: partition ${e.partition} is invalid`);
      if (!(e.occurredAt instanceof Date) || Number.isNaN(e.occurredAt.getTime()))
        throw new Error(`event ${e.eventId}: occurredAt is not a valid date`);
    }
    // One statement per batch: the columns travel as arrays, the payloads as binary parameters of their own.
    const rows: { event_id: string }[] = await this.manager.query(
      `INSERT INTO events (event_id, event_type, topic, partition, log_offset, scope, subject_key, occurred_at, payload)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::bigint[], $6::text[], $7::text[],
                            $8::timestamptz[], ${binaryArray(9, events.length)})
       ON CONFLICT (event_id) DO NOTHING
       RETURNING event_id`,
      [
        events.map((e) => e.eventId),
        events.map((e) => e.eventType),
        events.map((e) => e.topic),
        events.map((e) => e.partition),
        events.map((e) => e.logOffset),
        events.map((e) => e.scope),
        events.map((e) => e.subjectKey),
        events.map((e) => e.occurredAt.toISOString()),
        ...events.map((e) => buf(e.payload)),
      ],
    );
    return new Set(rows.map((r) => r.event_id));
  }

  /** True when the event was new. */
  async insertEvent(event: NewEvent): Promise<boolean> {
    return (await this.insertEvents([event])).has(event.eventId);
  }

  /**
   * Inserts or replaces findings by (scope, finding id). first_seen keeps the earliest value ever written, so
   * re-projecting in any order gives the same row; every other column is the caller's.
   */
  async upsertFindings(findings: FindingWrite[]): Promise<void> {
    if (findings.length === 0) return;
    const byKey = new Map<string, FindingWrite>();
    for (const f of findings) {
      need(f.scope, 'finding scope');
      need(f.findingId, 'finding id');
      if (!SEVERITIES.includes(f.severity))
        throw new Error(
          `finding ${f.findingId}: severity "${f.severity}" is not one of ${SEVERITIES.join('|')}`,
        );
      if (f.status !== 'open' && f.status !== 'resolved')
        throw new Error(`finding ${f.findingId}: status "${f.status}" is not open|resolved`);
      if (f.priority !== undefined && f.priority !== null && !Number.isFinite(f.priority))
        throw new Error(`finding ${f.findingId}: priority ${f.priority} is not a number`);
      if ((f.status === 'resolved') !== (f.resolvedAt !== null))
        throw new Error(`finding ${f.findingId}: resolvedAt must be set exactly when the status is resolved`);
      if (!(f.payload instanceof Uint8Array)) {
        const { eventId, offset, length } = f.payload;
        need(eventId, `finding ${f.findingId}: payload event id`);
        if (!Number.isInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 1)
          throw new Error(
            `finding ${f.findingId}: payload slice ${offset}+${length} of event ${eventId} is not a byte range`,
          );
      }
      // One statement cannot update a row twice; the last write in the batch wins, as it would row by row.
      byKey.set(`${f.scope}\u0000${f.findingId}`, f);
    }
    const all = [...byKey.values()];
    for (let i = 0; i < all.length; i += ROWS_PER_STATEMENT)
      await this.writeFindings(all.slice(i, i + ROWS_PER_STATEMENT));
  }

  private async writeFindings(list: FindingWrite[]): Promise<void> {
    const slices = list.map((f) => (f.payload instanceof Uint8Array ? undefined : f.payload));
    // A slice whose event is not recorded, or is shorter than the slice, would store empty or cut bytes: the
    // payload column is NOT NULL and the length is checked, so the statement fails instead.
    await this.manager.query(
      `INSERT INTO findings AS f (scope, finding_id, source, rule_id, severity, scanner, target_key, last_scan_id,
                                  asset_key, pci_requirements, status, first_seen, last_seen, resolved_at,
                                  resolved_by_scan, payload, priority,
                                  related_finding_ids)
       SELECT u.scope, u.finding_id, u.source, u.rule_id, u.severity, u.scanner, u.target_key, u.last_scan_id,
              u.asset_key, COALESCE(ARRAY(SELECT jsonb_array_elements_text(u.pci)), '{}'), u.status, u.first_seen,
              u.last_seen, u.resolved_at, u.resolved_by_scan,
              CASE WHEN u.payload IS NOT NULL THEN u.payload
                   WHEN length(e.payload) >= u.slice_at + u.slice_length
                     THEN substring(e.payload FROM u.slice_at + 1 FOR u.slice_length) END,
              u.priority, COALESCE(ARRAY(SELECT jsonb_array_elements_text(u.related)), '{}')
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                     $9::text[], $10::jsonb[], $11::text[], $12::timestamptz[], $13::timestamptz[],
                     $14::timestamptz[], $15::text[], ${binaryArray(21, list.length)}, $16::float8[], $17::jsonb[],
                     $18::text[], $19::int[], $20::int[])
           AS u(scope, finding_id, source, rule_id, severity, scanner, target_key, last_scan_id, asset_key, pci,
                status, first_seen, last_seen, resolved_at, resolved_by_scan, payload, priority, related,
                slice_event, slice_at, slice_length)
         LEFT JOIN events e ON e.event_id = u.slice_event
       ON CONFLICT (scope, finding_id) DO UPDATE SET
         source = EXCLUDED.source, rule_id = EXCLUDED.rule_id, severity = EXCLUDED.severity,
         scanner = EXCLUDED.scanner, target_key = EXCLUDED.target_key, last_scan_id = EXCLUDED.last_scan_id,
         asset_key = EXCLUDED.asset_key, pci_requirements = EXCLUDED.pci_requirements, status = EXCLUDED.status,
         first_seen = LEAST(f.first_seen, EXCLUDED.first_seen), last_seen = EXCLUDED.last_seen,
         resolved_at = EXCLUDED.resolved_at, resolved_by_scan = EXCLUDED.resolved_by_scan, payload = EXCLUDED.payload,
         priority = EXCLUDED.priority, related_finding_ids = EXCLUDED.related_finding_ids`,
      [
        list.map((f) => f.scope),
        list.map((f) => f.findingId),
        list.map((f) => f.source),
        list.map((f) => f.ruleId),
        list.map((f) => f.severity),
        list.map((f) => f.scanner),
        list.map((f) => f.targetKey),
        list.map((f) => f.lastScanId),
        list.map((f) => f.assetKey),
        // text[][] cannot be ragged, so each row's requirement list travels as one JSON array.
        list.map((f) => JSON.stringify(f.pciRequirements)),
        list.map((f) => f.status),
        list.map((f) => f.firstSeen.toISOString()),
        list.map((f) => f.lastSeen.toISOString()),
        list.map((f) => f.resolvedAt?.toISOString() ?? null),
        list.map((f) => f.resolvedByScan),
        list.map((f) => f.priority ?? null),
        list.map((f) => JSON.stringify(f.relatedFindingIds ?? [])),
        slices.map((s) => s?.eventId ?? null),
        slices.map((s) => s?.offset ?? null),
        slices.map((s) => s?.length ?? null),
        ...list.map((f) => (f.payload instanceof Uint8Array ? buf(f.payload) : null)),
      ],
    );
  }

  async upsertFinding(finding: FindingWrite): Promise<void> {
    await this.upsertFindings([finding]);
  }

  /** Marks open findings resolved by a completed scan; returns the ids that changed. */
  async resolveFindings(
    scope: string,
    findingIds: string[],
    by: { scanId: string; at: Date },
  ): Promise<string[]> {
    if (findingIds.length === 0) return [];
    need(by.scanId, 'resolving scan id');
    const result = await this.manager
      .createQueryBuilder()
      .update(FindingEntity)
      .set({ status: 'resolved', resolvedAt: by.at, resolvedByScan: by.scanId })
      .where('scope = :scope AND finding_id = ANY(:ids) AND status = :open', {
        scope,
        ids: findingIds,
        open: 'open',
      })
      .returning(['findingId'])
      .execute();
    return (result.raw as { finding_id: string }[]).map((r) => r.finding_id).sort();
  }

  /**
   * Inserts or advances a scan. Missing times and finding ids keep what is stored; the status never moves
   * backwards (a late "started" does not undo "completed").
   */
  async upsertScan(scan: StoredScan): Promise<void> {
    need(scan.scanId, 'scan id');
    need(scan.scanner, `scan ${scan.scanId}: scanner`);
    need(scan.scope, `scan ${scan.scanId}: scope`);
    need(scan.targetKey, `scan ${scan.scanId}: target key`);
    if (!SCAN_STATUSES.includes(scan.status))
      throw new Error(
        `scan ${scan.scanId}: status "${scan.status}" is not one of ${SCAN_STATUSES.join('|')}`,
      );
    const advances = `${SCAN_RANK_SQL('EXCLUDED.status')} >= ${SCAN_RANK_SQL('s.status')}`;
    await this.manager.query(
      `INSERT INTO scans AS s (scan_id, scanner, scope, target_key, status, requested_at, completed_at, finding_ids, payload)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (scan_id) DO UPDATE SET
         status = CASE WHEN ${advances} THEN EXCLUDED.status ELSE s.status END,
         requested_at = COALESCE(s.requested_at, EXCLUDED.requested_at),
         completed_at = COALESCE(EXCLUDED.completed_at, s.completed_at),
         finding_ids = COALESCE(EXCLUDED.finding_ids, s.finding_ids),
         payload = CASE WHEN ${advances} THEN COALESCE(EXCLUDED.payload, s.payload) ELSE s.payload END`,
      [
        scan.scanId,
        scan.scanner,
        scan.scope,
        scan.targetKey,
        scan.status,
        scan.requestedAt,
        scan.completedAt,
        scan.findingIds,
        scan.payload ? buf(scan.payload) : null,
      ],
    );
  }

  async upsertAsset(asset: StoredAsset): Promise<void> {
    need(asset.scope, 'asset scope');
    need(asset.kind, 'asset kind');
    need(asset.key, 'asset key');
    await this.manager
      .createQueryBuilder()
      .insert()
      .into(AssetEntity)
      .values({ ...asset, payload: buf(asset.payload) })
      .orUpdate(['payload', 'updated_at'], ['scope', 'kind', 'key'])
      .execute();
  }

  async upsertException(exception: StoredException): Promise<void> {
    need(exception.id, 'exception id');
    need(exception.scope, `exception ${exception.id}: scope`);
    await this.manager
      .createQueryBuilder()
      .insert()
      .into(ExceptionEntity)
      .values({ ...exception, payload: buf(exception.payload) })
      .orUpdate(['scope', 'payload', 'expires_at', 'revoked_at'], ['id'])
      .execute();
  }

  /** Returns false when there is no such exception or it was already revoked. */
  async revokeException(id: string, at: Date): Promise<boolean> {
    const r = await this.manager
      .createQueryBuilder()
      .update(ExceptionEntity)
      .set({ revokedAt: at })
      .where('id = :id AND revoked_at IS NULL', { id })
      .execute();
    return (r.affected ?? 0) > 0;
  }

  /**
   * Appends the next snapshot of its scope. Under a per-scope lock held to the end of the transaction, the
   * version must be the latest + 1 and previousHash the latest's content hash; otherwise SnapshotConflictError.
   */
  async insertSnapshot(s: NewSnapshot): Promise<SnapshotStorage> {
    need(s.scope, 'snapshot scope');
    need(s.contentHash, `snapshot ${s.version}: content hash`);
    need(s.frameworkVersion, `snapshot ${s.version}: framework version`);
    if (!Number.isInteger(s.version) || s.version < 1)
      throw new Error(`snapshot version ${s.version} is not a positive integer`);
    await this.manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `vigil.snapshots:${s.scope}`,
    ]);
    const latest: { version: number; content_hash: string }[] = await this.manager.query(
      'SELECT version, content_hash FROM snapshots WHERE scope = $1 ORDER BY version DESC LIMIT 1',
      [s.scope],
    );
    const prev = latest[0];
    const expected = (prev?.version ?? 0) + 1;
    if (s.version !== expected) {
      throw new SnapshotConflictError(s.scope, s.version, expected, `the next version is ${expected}`);
    }
    const expectedPrevious = prev?.content_hash ?? null;
    if (s.previousHash !== expectedPrevious) {
      throw new SnapshotConflictError(
        s.scope,
        s.version,
        expected,
        `previousHash must be ${expectedPrevious === null ? 'null for the first version' : `${expectedPrevious} (version ${prev?.version})`}, got ${s.previousHash}`,
      );
    }
    // Consecutive versions share most of their content: only the chunks not stored yet travel.
    const chunks = chunkContent(s.content);
    const known: { digest: Buffer }[] = await this.manager.query(
      'SELECT digest FROM snapshot_chunks WHERE digest = ANY($1::bytea[])',
      [chunks.map((c) => c.digest)],
    );
    const stored = new Set(known.map((k) => k.digest.toString('hex')));
    const fresh = new Map<string, ContentChunk>();
    for (const c of chunks) {
      const key = c.digest.toString('hex');
      if (!stored.has(key)) fresh.set(key, c);
    }
    // Bounded statements: a first version of a large scope is hundreds of megabytes.
    const pending = [...fresh.values()];
    for (let i = 0; i < pending.length;) {
      const batch: ContentChunk[] = [];
      for (let size = 0; i < pending.length && size < 32 * 1024 * 1024; i++) {
        batch.push(pending[i]!);
        size += pending[i]!.bytes.byteLength;
      }
      await this.manager.query(
        `INSERT INTO snapshot_chunks (digest, content)
         SELECT * FROM unnest(${binaryArray(1, batch.length)}, ${binaryArray(batch.length + 1, batch.length)})
         ON CONFLICT (digest) DO NOTHING`,
        [...batch.map((c) => c.digest), ...batch.map((c) => buf(c.bytes))],
      );
    }
    await this.manager
      .createQueryBuilder()
      .insert()
      .into(SnapshotEntity)
      .values({
        scope: s.scope,
        version: s.version,
        frameworkVersion: s.frameworkVersion,
        contentHash: s.contentHash,
        previousHash: s.previousHash,
        logPosition: s.logPosition,
        content: null,
        chunks: Buffer.concat(chunks.map((c) => c.digest)),
        size: String(s.content.byteLength),
        scanId: s.scanId ?? '',
      })
      .execute();
    return {
      chunks: chunks.length,
      newChunks: pending.length,
      newBytes: pending.reduce((n, c) => n + c.bytes.byteLength, 0),
    };
  }
}

/** The reporting side's database. Open with openReportingStore; run migrations first (runMigrations). */
export class ReportingStore extends ReportingReader {
  private constructor(
    private readonly ds: DataSource,
    private readonly url: string,
  ) {
    super(ds.manager);
  }

  static async open(url: string, options: ReportingStoreOptions = {}): Promise<ReportingStore> {
    const ds = await openDataSource(url, {
      max: options.max,
      applicationName: options.applicationName ?? 'vigil:reporting',
    });
    return new ReportingStore(ds, url);
  }

  /** Runs fn in one transaction: everything it wrote commits together or not at all. */
  async inTransaction<T>(fn: (tx: ReportingTransaction) => Promise<T>): Promise<T> {
    return this.ds.transaction((manager) => fn(new ReportingTransaction(manager)));
  }

  /**
   * One batch from the log: records the events and, in the same transaction, lets apply update the projections
   * for the events that were new (redelivered ones are skipped, so a replayed batch changes nothing).
   */
  async recordEvents<T>(
    batch: NewEvent[],
    apply: (tx: ReportingTransaction, fresh: NewEvent[]) => Promise<T>,
  ): Promise<T> {
    return this.inTransaction(async (tx) => {
      const inserted = await tx.insertEvents(batch);
      // A batch may carry one event twice (a producer retry); it counts once, as its first copy.
      const fresh = batch.filter((e) => inserted.delete(e.eventId));
      return apply(tx, fresh);
    });
  }

  putBlob(content: Uint8Array, mediaType: string): Promise<string> {
    return new ReportingTransaction(this.ds.manager).putBlob(content, mediaType);
  }

  insertSnapshot(snapshot: NewSnapshot): Promise<SnapshotStorage> {
    return this.inTransaction((tx) => tx.insertSnapshot(snapshot));
  }

  async ping(): Promise<boolean> {
    try {
      await this.ds.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  /** The database this store talks to, password removed. */
  get database(): string {
    return redactUrl(this.url);
  }

  async close(): Promise<void> {
    if (this.ds.isInitialized) await this.ds.destroy();
  }
}
