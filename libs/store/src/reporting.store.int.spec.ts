// Against the real Postgres at DATABASE_URL: migrations, the blob table, the event store, projections and the
// snapshot chain, each on a fresh database.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { migrationStatus, runMigrations } from './migrations.runner.js';
import { freshTestDatabase } from './int-test-database.js';
import { createSql } from './pg-sql.adapter.js';
import { openReportingStore, type ReportingStore } from './reporting-store.open.js';
import { BlobIntegrityError, SnapshotConflictError } from './store.errors.js';
import type { FindingWrite, NewEvent, NewSnapshot, StoredFinding } from './reporting.types.js';
import type { Sql } from './sql.port.js';

let db: { url: string; drop(): Promise<void> };
let store: ReportingStore;
let sql: Sql;

before(async () => {
  db = await freshTestDatabase('store_int');
});
after(async () => {
  await store?.close();
  await sql?.close();
  await db?.drop();
});

const enc = (s: string) => new TextEncoder().encode(s);

function event(id: string, offset: number, scope = 'prod'): NewEvent {
  return {
    eventId: id,
    eventType: 'vigil.v1.ScanCompleted',
    topic: 'vigil.scans',
    partition: 0,
    logOffset: String(offset),
    scope,
    subjectKey: 'image:nginx:1.27',
    occurredAt: new Date('2026-12-01T10:00:00.000Z'),
    payload: enc(`envelope ${id}`),
  };
}

function finding(id: string, over: Partial<FindingWrite> = {}): FindingWrite {
  return {
    scope: 'prod',
    findingId: id,
    source: 'image',
    ruleId: 'CVE-2024-6387',
    severity: 'HIGH',
    scanner: 'image-scanner',
    targetKey: 'nginx:1.27',
    lastScanId: 'scan-1',
    assetKey: 'image:sha256:abc',
    pciRequirements: ['6.3.3', '11.3.1'],
    status: 'open',
    firstSeen: new Date('2026-12-01T10:00:00.000Z'),
    lastSeen: new Date('2026-12-01T10:00:00.000Z'),
    resolvedAt: null,
    resolvedByScan: null,
    payload: enc(`finding ${id}`),
    ...over,
  };
}

function snapshot(version: number, previousHash: string | null, scope = 'prod'): NewSnapshot {
  const content = enc(`snapshot ${scope} ${version}`);
  return {
    scope,
    version,
    frameworkVersion: '4.0.1',
    contentHash: 'sha256:' + createHash('sha256').update(content).digest('hex'),
    previousHash,
    logPosition: [{ topic: 'vigil.scans', partition: 0, offset: String(version * 10) }],
    content,
  };
}

describe('migrations', () => {
  it('apply on an empty database, then are a no-op', async () => {
    const before = await migrationStatus(db.url);
    assert.deepEqual(before.applied, []);
    assert.deepEqual(before.pending, [
      'ReportingStore1764752400000',
      'SnapshotScanId1764763200000',
      'AdvisoryDb1764813600000',
      'ApiTokens1764914400000',
      'FindingPriority1765000000000',
      'AdvisoryVersionKeys1765100000000',
      'FindingPrincipals1765200000000',
      'SnapshotChunks1765400000000',
      'AdvisoryMatchEntries1765600000000',
    ]);
    assert.deepEqual(await runMigrations(db.url), [
      'ReportingStore1764752400000',
      'SnapshotScanId1764763200000',
      'AdvisoryDb1764813600000',
      'ApiTokens1764914400000',
      'FindingPriority1765000000000',
      'AdvisoryVersionKeys1765100000000',
      'FindingPrincipals1765200000000',
      'SnapshotChunks1765400000000',
      'AdvisoryMatchEntries1765600000000',
    ]);
    assert.deepEqual(await runMigrations(db.url), []);
    const status = await migrationStatus(db.url);
    assert.deepEqual(
      status.applied.map((a) => a.name),
      [
        'ReportingStore1764752400000',
        'SnapshotScanId1764763200000',
        'AdvisoryDb1764813600000',
        'ApiTokens1764914400000',
        'FindingPriority1765000000000',
        'AdvisoryVersionKeys1765100000000',
        'FindingPrincipals1765200000000',
        'SnapshotChunks1765400000000',
        'AdvisoryMatchEntries1765600000000',
      ],
    );
    assert.deepEqual(status.pending, []);
    sql = createSql(db.url, { max: 2 });
    const tables = await sql.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    assert.deepEqual(
      tables.rows.map((r) => r.table_name),
      [
        'advisories',
        'advisory_db_state',
        'advisory_packages',
        'advisory_sources',
        'api_tokens',
        'assets',
        'blobs',
        'events',
        'exceptions',
        'findings',
        'scans',
        'schema_migrations',
        'scope_event_counts',
        'snapshot_chunks',
        'snapshots',
      ],
    );
    store = await openReportingStore(db.url, { max: 4 });
  });
});

describe('blobs', () => {
  it('round-trip under their SHA-256 digest, idempotently', async () => {
    const sbom = enc('{"bomFormat":"CycloneDX","specVersion":"1.6"}');
    const digest = await store.putBlob(sbom, 'application/vnd.cyclonedx+json');
    assert.equal(digest, 'sha256:' + createHash('sha256').update(sbom).digest('hex'));
    assert.equal(await store.putBlob(sbom, 'application/vnd.cyclonedx+json'), digest);
    const count = await sql.query<{ n: string }>('SELECT count(*) AS n FROM blobs');
    assert.equal(count.rows[0]?.n, '1');
    const blob = await store.getBlob(digest);
    assert.ok(blob);
    assert.deepEqual(Buffer.from(blob.content), Buffer.from(sbom));
    assert.equal(blob.size, sbom.byteLength);
    assert.equal(blob.mediaType, 'application/vnd.cyclonedx+json');
    assert.equal(await store.getBlob('sha256:' + '0'.repeat(64)), undefined);
  });

  it('refuse to return content that no longer matches its digest', async () => {
    const digest = await store.putBlob(enc('package list v1'), 'text/plain');
    await sql.query('UPDATE blobs SET content = $1 WHERE digest = $2', [
      Buffer.from('package list v2'),
      digest,
    ]);
    const actual = 'sha256:' + createHash('sha256').update('package list v2').digest('hex');
    await assert.rejects(store.getBlob(digest), (err: Error) => {
      assert.ok(err instanceof BlobIntegrityError);
      assert.equal(err.message, `blob ${digest} is corrupt: its content hashes to ${actual}`);
      return true;
    });
  });

  it('reject a malformed digest with the reason', async () => {
    await assert.rejects(
      store.getBlob('md5:abc'),
      /invalid blob digest "md5:abc": expected sha256:<64 lowercase hex>/,
    );
  });
});

describe('event store', () => {
  it('records an event id once and tells which events were new', async () => {
    const first = await store.recordEvents([event('e-1', 0), event('e-2', 1)], async (_tx, fresh) =>
      fresh.map((e) => e.eventId),
    );
    assert.deepEqual(first, ['e-1', 'e-2']);
    // Redelivery of the same batch plus one new event, which also appears twice in the batch.
    const second = await store.recordEvents(
      [event('e-1', 0), event('e-2', 1), event('e-3', 2), event('e-3', 2)],
      async (_tx, fresh) => fresh.map((e) => e.eventId),
    );
    assert.deepEqual(second, ['e-3']);
    const rows = await sql.query<{ event_id: string; log_offset: string }>(
      'SELECT event_id, log_offset FROM events ORDER BY log_offset',
    );
    assert.deepEqual(rows.rows, [
      { event_id: 'e-1', log_offset: '0' },
      { event_id: 'e-2', log_offset: '1' },
      { event_id: 'e-3', log_offset: '2' },
    ]);
    const read = await store.eventsForScope('prod');
    assert.deepEqual(Buffer.from(read[2]!.payload).toString(), 'envelope e-3');
    assert.equal(read[2]!.occurredAt.toISOString(), '2026-12-01T10:00:00.000Z');
  });

  it('rejects a different event at an already recorded log position', async () => {
    await assert.rejects(
      store.inTransaction((tx) => tx.insertEvent(event('e-other', 0))),
      /events_log_position_key/,
    );
  });

  it('rolls back the events when the projection update fails', async () => {
    await assert.rejects(
      store.recordEvents([event('e-4', 3)], async (tx) => {
        await tx.upsertFinding(finding('f-x'));
        throw new Error('projection failed');
      }),
      /projection failed/,
    );
    const n = await sql.query<{ n: string }>(
      "SELECT (SELECT count(*) FROM events WHERE event_id = 'e-4') + (SELECT count(*) FROM findings WHERE finding_id = 'f-x') AS n",
    );
    assert.equal(n.rows[0]?.n, '0');
  });
});

describe('findings and scans', () => {
  it('upsert findings, keeping the earliest first_seen', async () => {
    await store.inTransaction(async (tx) => {
      await tx.upsertFindings([
        finding('f-1'),
        finding('f-2', { severity: 'CRITICAL', pciRequirements: [] }),
      ]);
      await tx.upsertFinding(
        finding('f-1', {
          firstSeen: new Date('2026-12-02T00:00:00Z'),
          lastSeen: new Date('2026-12-02T00:00:00Z'),
          lastScanId: 'scan-2',
        }),
      );
    });
    const f1 = await store.getFinding('prod', 'f-1');
    assert.equal(f1?.firstSeen.toISOString(), '2026-12-01T10:00:00.000Z');
    assert.equal(f1?.lastSeen.toISOString(), '2026-12-02T00:00:00.000Z');
    assert.equal(f1?.lastScanId, 'scan-2');
    assert.deepEqual(f1?.pciRequirements, ['6.3.3', '11.3.1']);
    assert.deepEqual((await store.getFinding('prod', 'f-2'))?.pciRequirements, []);
  });

  it('lists open findings of one scanner and target, and resolves them by a later scan', async () => {
    await store.inTransaction((tx) => tx.upsertFinding(finding('f-3', { targetKey: 'redis:7' })));
    const open = await store.openFindingsFor('image-scanner', 'prod', 'nginx:1.27');
    assert.deepEqual(
      open.map((f) => f.findingId),
      ['f-1', 'f-2'],
    );
    const at = new Date('2026-12-03T00:00:00Z');
    const resolved = await store.inTransaction((tx) =>
      tx.resolveFindings('prod', ['f-2', 'f-3-not-here'], { scanId: 'scan-3', at }),
    );
    assert.deepEqual(resolved, ['f-2']);
    const f2 = await store.getFinding('prod', 'f-2');
    assert.equal(f2?.status, 'resolved');
    assert.equal(f2?.resolvedByScan, 'scan-3');
    assert.equal(f2?.resolvedAt?.toISOString(), at.toISOString());
    assert.deepEqual(
      (await store.findingsForScope('prod', 'open')).map((f) => f.findingId),
      ['f-1', 'f-3'],
    );
    assert.deepEqual([...(await store.projectedFindingIds('prod', ['f-1', 'f-9']))], ['f-1']);
  });

  it('stores a payload given as a slice of a recorded event, and refuses a slice that is not there', async () => {
    // 'envelope e-slice' holds the bytes 'e-slice' at offset 9.
    await store.recordEvents([event('e-slice', 40)], async (tx) => {
      await tx.upsertFindings([
        finding('f-slice', { payload: { eventId: 'e-slice', offset: 9, length: 7 } }),
        finding('f-bytes', { payload: enc('own bytes') }),
      ]);
    });
    assert.equal(Buffer.from((await store.getFinding('prod', 'f-slice'))!.payload).toString(), 'e-slice');
    assert.equal(Buffer.from((await store.getFinding('prod', 'f-bytes'))!.payload).toString(), 'own bytes');
    for (const payload of [
      { eventId: 'e-slice', offset: 9, length: 8 },
      { eventId: 'e-not-recorded', offset: 0, length: 1 },
    ])
      await assert.rejects(
        store.inTransaction((tx) => tx.upsertFinding(finding('f-slice', { payload }))),
        /null value in column "payload"/,
      );
    await assert.rejects(
      store.inTransaction((tx) =>
        tx.upsertFinding(finding('f-slice', { payload: { eventId: 'e-slice', offset: -1, length: 7 } })),
      ),
      /finding f-slice: payload slice -1\+7 of event e-slice is not a byte range/,
    );
    // Nothing of the refused writes stayed.
    assert.equal(Buffer.from((await store.getFinding('prod', 'f-slice'))!.payload).toString(), 'e-slice');
    // Resolved, so that the tests after this one find the open findings they expect.
    await store.inTransaction((tx) =>
      tx.resolveFindings('prod', ['f-slice', 'f-bytes'], { scanId: 'scan-slice', at: new Date(0) }),
    );
  });

  it('rejects a finding with an unknown severity, naming it', async () => {
    await assert.rejects(
      store.inTransaction((tx) =>
        tx.upsertFinding(finding('f-bad', { severity: 'SEVERE' as StoredFinding['severity'] })),
      ),
      /finding f-bad: severity "SEVERE" is not one of CRITICAL\|HIGH\|MEDIUM\|LOW\|UNKNOWN/,
    );
  });

  it('moves a scan forward only, whatever order its events arrive in', async () => {
    const base = {
      scanId: 'scan-9',
      scanner: 'image-scanner',
      scope: 'prod',
      targetKey: 'nginx:1.27',
    } as const;
    await store.inTransaction(async (tx) => {
      await tx.upsertScan({
        ...base,
        status: 'completed',
        requestedAt: null,
        completedAt: new Date('2026-12-01T10:05:00Z'),
        findingIds: ['f-1'],
        payload: enc('completed'),
      });
      await tx.upsertScan({
        ...base,
        status: 'requested',
        requestedAt: new Date('2026-12-01T10:00:00Z'),
        completedAt: null,
        findingIds: null,
        payload: enc('requested'),
      });
    });
    const scan = await store.scanById('scan-9');
    assert.equal(scan?.status, 'completed');
    assert.equal(scan?.requestedAt?.toISOString(), '2026-12-01T10:00:00.000Z');
    assert.deepEqual(scan?.findingIds, ['f-1']);
    assert.equal(Buffer.from(scan!.payload!).toString(), 'completed');
  });

  it('keeps assets and exceptions per scope', async () => {
    const at = new Date('2026-12-01T00:00:00Z');
    await store.inTransaction(async (tx) => {
      await tx.upsertAsset({
        scope: 'prod',
        kind: 'workload',
        key: 'payments/api',
        payload: enc('v1'),
        updatedAt: at,
      });
      await tx.upsertAsset({
        scope: 'prod',
        kind: 'workload',
        key: 'payments/api',
        payload: enc('v2'),
        updatedAt: at,
      });
      await tx.upsertException({
        id: 'x-1',
        scope: 'prod',
        payload: enc('accept'),
        expiresAt: new Date('2027-01-01T00:00:00Z'),
        revokedAt: null,
      });
    });
    const assets = await store.assetsForScope('prod');
    assert.equal(assets.length, 1);
    assert.equal(Buffer.from(assets[0]!.payload).toString(), 'v2');
    assert.equal(await store.inTransaction((tx) => tx.revokeException('x-1', at)), true);
    assert.equal(await store.inTransaction((tx) => tx.revokeException('x-1', at)), false);
    assert.equal((await store.exceptionsForScope('prod'))[0]?.revokedAt?.toISOString(), at.toISOString());
  });
});

describe('snapshots', () => {
  it('form a chain: version = latest + 1 and previousHash = latest hash', async () => {
    const s1 = snapshot(1, null);
    await store.insertSnapshot(s1);
    const s2 = snapshot(2, s1.contentHash);
    await store.insertSnapshot(s2);
    await assert.rejects(
      store.insertSnapshot(snapshot(4, s2.contentHash)),
      /snapshot 4 of scope "prod" rejected: the next version is 3/,
    );
    await assert.rejects(store.insertSnapshot(snapshot(3, s1.contentHash)), (err: Error) => {
      assert.ok(err instanceof SnapshotConflictError);
      assert.match(err.message, new RegExp(`previousHash must be ${s2.contentHash} \\(version 2\\)`));
      return true;
    });
    const latest = await store.latestSnapshot('prod');
    assert.equal(latest?.version, 2);
    assert.deepEqual(latest?.logPosition, [{ topic: 'vigil.scans', partition: 0, offset: '20' }]);
    assert.equal(Buffer.from(latest!.content).toString(), 'snapshot prod 2');
    const list = await store.listSnapshots('prod');
    assert.deepEqual(
      list.map((s) => [s.version, s.previousHash, s.size]),
      [
        [1, null, 15],
        [2, s1.contentHash, 15],
      ],
    );
    assert.equal((await store.getSnapshot('prod', 1))?.contentHash, s1.contentHash);
    assert.equal(await store.getSnapshot('prod', 9), undefined);
    assert.deepEqual(await store.scopes(), ['prod']);
  });

  it('are immutable: UPDATE, DELETE and TRUNCATE are rejected by the database', async () => {
    await assert.rejects(
      sql.query("UPDATE snapshots SET content_hash = 'x' WHERE scope = 'prod' AND version = 1"),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, '23001');
        assert.match(err.message, /snapshots are immutable: UPDATE of scope "prod" version 1 rejected/);
        return true;
      },
    );
    await assert.rejects(
      sql.query("DELETE FROM snapshots WHERE scope = 'prod'"),
      /snapshots are immutable: DELETE of scope "prod" version 1 rejected/,
    );
    await assert.rejects(sql.query('TRUNCATE snapshots'), /snapshots are immutable: TRUNCATE rejected/);
    assert.equal((await store.listSnapshots('prod')).length, 2);
  });

  it('let exactly one of two concurrent inserts of the same version win', async () => {
    const a = { ...snapshot(1, null, 'staging'), content: enc('writer a') };
    const b = { ...snapshot(1, null, 'staging'), content: enc('writer b') };
    const results = await Promise.allSettled([store.insertSnapshot(a), store.insertSnapshot(b)]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    assert.equal(won.length, 1);
    assert.equal(lost.length, 1);
    assert.ok(lost[0]!.reason instanceof SnapshotConflictError, String(lost[0]!.reason));
    assert.match(
      String(lost[0]!.reason.message),
      /snapshot 1 of scope "staging" rejected: the next version is 2/,
    );
    const stored = await store.listSnapshots('staging');
    assert.equal(stored.length, 1);
  });
});

describe('snapshot content in chunks', () => {
  // JSON-like text of distinct records, as a snapshot's findings are: about 3 MB.
  const records = Array.from(
    { length: 20_000 },
    (_, i) =>
      `{"id":"finding-${createHash('sha256').update(String(i)).digest('hex')}","severity":${i % 5},"title":"record ${i} of the content"}`,
  );
  const contentOf = (list: string[]) => enc(`{"findings":[${list.join(',')}]}`);
  const chunked = (version: number, previousHash: string | null, content: Uint8Array): NewSnapshot => ({
    scope: 'chunked',
    version,
    frameworkVersion: '4.0.1',
    contentHash: 'sha256:' + createHash('sha256').update(content).digest('hex'),
    previousHash,
    logPosition: [{ topic: 'vigil.scans', partition: 0, offset: String(version) }],
    content,
  });
  const chunkCount = async () =>
    Number((await sql.query<{ n: string }>('SELECT count(*) AS n FROM snapshot_chunks')).rows[0]?.n);

  it('read back byte for byte, and a version that changes little stores little', async () => {
    const before = await chunkCount();
    const v1 = chunked(1, null, contentOf(records));
    await store.insertSnapshot(v1);
    const first = (await chunkCount()) - before;
    assert.ok(first > 20, `a 3 MB content is cut into more than 20 chunks, got ${first}`);
    const changed = [...records];
    changed[7_000] = '{"id":"changed"}';
    changed.splice(15_000, 0, '{"id":"inserted"}');
    const v2 = chunked(2, v1.contentHash, contentOf(changed));
    await store.insertSnapshot(v2);
    const added = (await chunkCount()) - before - first;
    assert.ok(added >= 1 && added <= 6, `two edits add a few chunks, got ${added} (of ${first})`);
    // The same content again stores nothing new.
    const v3 = chunked(3, v2.contentHash, contentOf(changed));
    await store.insertSnapshot(v3);
    assert.equal((await chunkCount()) - before - first, added);

    for (const v of [v1, v2, v3]) {
      const got = await store.getSnapshot('chunked', v.version);
      assert.ok(Buffer.from(got!.content).equals(Buffer.from(v.content)), `version ${v.version} reads back`);
    }
    assert.ok(Buffer.from((await store.latestSnapshot('chunked'))!.content).equals(Buffer.from(v3.content)));
    assert.deepEqual(
      (await store.listSnapshots('chunked')).map((s) => s.size),
      [v1.content.byteLength, v2.content.byteLength, v2.content.byteLength],
    );
  });

  it('are as immutable as snapshots, and a chunk changed behind their back is refused by name', async () => {
    await assert.rejects(
      sql.query("UPDATE snapshot_chunks SET content = '\\x00'"),
      /snapshot chunks are immutable: UPDATE rejected/,
    );
    await assert.rejects(
      sql.query('DELETE FROM snapshot_chunks'),
      /snapshot chunks are immutable: DELETE rejected/,
    );
    await assert.rejects(
      sql.query('TRUNCATE snapshot_chunks'),
      /snapshot chunks are immutable: TRUNCATE rejected/,
    );
    const row = await sql.query<{ digest: Buffer }>(
      `SELECT substring(chunks FROM 33 FOR 32) AS digest FROM snapshots WHERE scope = 'chunked' AND version = 1`,
    );
    const digest = row.rows[0]!.digest;
    // The owner can still disable the trigger: what a reader then gets is checked chunk by chunk.
    await sql.query('ALTER TABLE snapshot_chunks DISABLE TRIGGER snapshot_chunks_immutable');
    try {
      await sql.query("UPDATE snapshot_chunks SET content = content || '\\x20'::bytea WHERE digest = $1", [
        digest,
      ]);
    } finally {
      await sql.query('ALTER TABLE snapshot_chunks ENABLE TRIGGER snapshot_chunks_immutable');
    }
    await assert.rejects(
      store.getSnapshot('chunked', 1),
      new RegExp(
        `snapshot 1 of scope "chunked": chunk sha256:${digest.toString('hex')} holds bytes whose digest is sha256:[0-9a-f]{64}`,
      ),
    );
  });

  it('written before chunks existed are read from their inline content', async () => {
    const content = enc('{"findings":[]}');
    await sql.query(
      `INSERT INTO snapshots (scope, version, framework_version, content_hash, previous_hash, log_position, content)
       VALUES ('inline', 1, '4.0.1', $1, NULL, '[]', $2)`,
      ['sha256:' + createHash('sha256').update(content).digest('hex'), Buffer.from(content)],
    );
    assert.equal(Buffer.from((await store.getSnapshot('inline', 1))!.content).toString(), '{"findings":[]}');
    assert.deepEqual(
      (await store.listSnapshots('inline')).map((s) => s.size),
      [content.byteLength],
    );
  });
});

describe('event counts per scope', () => {
  it('follow every insert and delete of events, whoever makes them', async () => {
    const count = (scope: string) => store.inTransaction((tx) => tx.countEvents(scope));
    assert.equal(await count('counted'), 0);
    const events = [
      event('c-1', 9001, 'counted'),
      event('c-2', 9002, 'counted'),
      event('c-3', 9003, 'other-counted'),
    ];
    await store.inTransaction((tx) => tx.insertEvents(events));
    // Redelivered: nothing new is counted.
    await store.inTransaction((tx) => tx.insertEvents([events[0]!, event('c-4', 9004, 'counted')]));
    assert.equal(await count('counted'), 3);
    assert.equal(await count('other-counted'), 1);
    await sql.query("DELETE FROM events WHERE event_id = 'c-2'");
    assert.equal(await count('counted'), 2);
    const direct = await sql.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE scope = 'counted'");
    assert.equal(Number(direct.rows[0]?.n), 2);
  });
});
