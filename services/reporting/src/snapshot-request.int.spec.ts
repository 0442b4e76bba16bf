// Real here: Postgres (the reporting store and the embedded event log on it) and the corpus's OSV records.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  ALL_TOPICS,
  ExceptionRecordedSchema,
  ExceptionRevokedSchema,
  FindingSelectorSchema,
  InventoryObservedSchema,
  SnapshotRequestedSchema,
  TOPICS,
  create,
  decodeEnvelope,
  encodeEnvelope,
  fromBinary,
  newEnvelope,
  timestampFromDate,
  topicFor,
  type EnvelopePayloadInit,
  type EventEnvelope,
} from '@vigil/contracts';
import {
  createEmbeddedEventLog,
  type ConsumedRecord,
  type EventLog,
  type Subscription,
} from '@vigil/event-log';
import { pciCatalog, reportFromContent } from '@vigil/report';
import {
  createDatabase,
  createSql,
  dropDatabase,
  openReportingStore,
  runMigrations,
  withDatabase,
  type ReportingStore,
  type Sql,
} from '@vigil/store';
import { corpusAdvisories, eventFactory, publishAll } from './corpus-events.spec-helper.js';
import { REPORTING_TOPICS } from './reporting.module.js';
import { ReportingProjection, coversPosition } from './reporting.projection.js';
import { SnapshotMaker } from './snapshot-maker.js';
import { SnapshotSchedule, publishSnapshotRequest, waitForRequest } from './snapshot-requests.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const producer = { service: 'test', version: '0', instance: 'spec' };
const quiet = { info: () => undefined, warn: () => undefined };

function projection(store: ReportingStore, log: EventLog): ReportingProjection {
  return new ReportingProjection({
    store,
    eventLog: log,
    producer,
    snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date('2026-12-01T00:00:00Z')),
    logger: quiet,
  });
}

async function database(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `vigil_snapreq_${randomUUID().slice(0, 8)}`;
  await createDatabase(adminUrl, name);
  const url = withDatabase(adminUrl, name);
  await runMigrations(url);
  return { url, drop: () => dropDatabase(adminUrl, name) };
}

describe('snapshots on request, on a schedule, and the rebuild', () => {
  let db: { url: string; drop: () => Promise<void> };
  let store: ReportingStore;
  let sql: Sql;
  let log: EventLog;
  let sub: Subscription | undefined;
  before(async () => {
    db = await database();
    store = await openReportingStore(db.url);
    sql = createSql(db.url);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
  });
  after(async () => {
    await sub?.stop();
    await log?.close();
    await sql?.close();
    await store?.close();
    await db?.drop();
  });

  it('makes a version at the log position of a SnapshotRequested, with no scan completed', async () => {
    const scope = { tenant: '', cluster: 'payments-prod' };
    const f = eventFactory(scope);
    const advisories = corpusAdvisories();
    assert.ok(advisories.length >= 80, `the corpus has its OSV records (${advisories.length} packages)`);
    // Findings a scan reported but whose completion never came (a runtime source over HTTP publishes none).
    const findings = advisories
      .slice(0, 12)
      .map((a) => f.finding(a, 'registry.example.com/acme/payment-api:1.4.2'));
    await publishAll(
      log,
      findings.map((x) => f.reported('scan-runtime-like', x)),
    );
    const p = projection(store, log);
    sub = await log.subscribe({ group: 'spec.reporting', topics: REPORTING_TOPICS, handler: p.handle });
    await sub.ready;

    // The schedule sees a scope with events and no snapshot, and asks for one.
    const schedule = new SnapshotSchedule({ store, eventLog: log, producer, intervalMs: 0, logger: quiet });
    await waitUntil(async () => (await store.countEvents(scope.cluster)) >= 12);
    assert.deepEqual(await schedule.tick(), ['payments-prod']);

    const request = await publishSnapshotRequest(log, producer, scope, 'api:spec', 'api');
    const made = await waitForRequest(store, request, 20_000);
    assert.ok(made, 'the request gets its version');
    const stored = await store.getSnapshot(scope.cluster, made.version);
    assert.ok(stored);
    const recorded = (await store.snapshotRequests(scope.cluster)).find((e) => e.eventId === request.eventId);
    assert.ok(recorded, 'the request is in the event store with its log position');
    assert.equal(recorded.topic, TOPICS.snapshots);
    assert.ok(coversPosition(stored.logPosition, { ...recorded, offset: recorded.logOffset }));
    assert.equal(stored.scanId, '', 'no scan made this version');
    const report = reportFromContent(stored.content, stored.contentHash);
    assert.deepEqual(
      report.findings.map((x) => x.id),
      findings.map((x) => x.id).sort(),
    );
    assert.equal(report.findingCounts?.total, 12);
    // The scheduled request and the API's were both folded; between them they made at most two versions, and
    // every version of the scope is covered: nothing is pending.
    const versions = await store.listSnapshots(scope.cluster);
    assert.ok(versions.length >= 1 && versions.length <= 2, `${versions.length} versions`);
    assert.deepEqual(p.pendingRequests(scope.cluster), []);
    // With everything covered the schedule has nothing to ask for.
    assert.deepEqual(await schedule.tick(), []);

    // Runtime-like findings arriving later get their version from the running schedule, without any request.
    const before = versions.length;
    const late = f.finding(advisories[20]!, 'registry.example.com/acme/payment-api:1.4.2');
    await publishAll(log, [f.reported('scan-runtime-like', late)]);
    const running = new SnapshotSchedule({ store, eventLog: log, producer, intervalMs: 200, logger: quiet });
    running.start();
    try {
      await waitUntil(async () => (await store.listSnapshots(scope.cluster)).length > before);
    } finally {
      await running.stop();
    }
    const scheduled = await store.latestSnapshot(scope.cluster);
    const content = reportFromContent(scheduled!.content, scheduled!.contentHash);
    assert.ok(
      content.findings.some((x) => x.id === late.id),
      'the late finding is in the scheduled version',
    );
    const requestsBy = (await store.snapshotRequests(scope.cluster)).map((e) => {
      const p = decodeEnvelope(e.payload).payload;
      return p.case === 'snapshotRequested' ? p.value.requestedBy : '';
    });
    assert.ok(requestsBy.filter((b) => b === 'schedule').length >= 2, requestsBy.join(','));
    await sub.stop();
    sub = undefined;
  });

  it('rebuild drops the projections, replays the event store and reproduces every content hash', async () => {
    const scope = { tenant: 'acme', cluster: 'cde-eu' };
    const key = 'acme/cde-eu';
    const f = eventFactory(scope, Date.parse('2026-11-30T12:00:00Z'));
    const advisories = corpusAdvisories().slice(0, 30);
    const image = 'registry.example.com/acme/checkout:2.0.0';
    const all = advisories.map((a) => f.finding(a, image));
    const p = projection(store, log);
    let offset = 1000;
    const record = (e: EventEnvelope): ConsumedRecord => ({
      topic: topicFor(e),
      partition: 0,
      offset: String(offset++),
      key: e.subjectKey,
      value: encodeEnvelope(e),
      headers: {},
      timestamp: 0,
    });
    const other = {
      at: Date.parse('2026-11-30T13:00:00Z'),
      event: (payload: EnvelopePayloadInit, subjectKey: string) =>
        newEnvelope({ payload, scope, subjectKey, producer, clock: () => new Date((other.at += 1000)) }),
    };
    // Scan 1: all 30; scan 2 (the fix): the first 20; a request; an exception recorded then revoked; inventory.
    await p.handle(all.map((x) => record(f.reported('scan-1', x))));
    await p.handle([
      record(
        f.completed(
          'scan-1',
          image,
          all.map((x) => x.id),
        ),
      ),
    ]);
    const fixed = all.slice(0, 20);
    await p.handle([
      ...fixed.map((x) => record(f.reported('scan-2', x))),
      record(
        f.completed(
          'scan-2',
          image,
          fixed.map((x) => x.id),
        ),
      ),
    ]);
    await p.handle([
      record(
        other.event(
          {
            case: 'exceptionRecorded',
            value: create(ExceptionRecordedSchema, {
              exceptionId: 'exc-1',
              scope,
              selector: create(FindingSelectorSchema, { findingIds: [fixed[0]!.id] }),
              owner: 'platform-team',
              justification: 'compensating WAF rule while the base image is rebuilt',
              expiresAt: timestampFromDate(new Date('2027-01-31T00:00:00Z')),
            }),
          },
          'exc-1',
        ),
      ),
      record(
        other.event(
          {
            case: 'inventoryObserved',
            value: create(InventoryObservedSchema, {
              scanId: 'scan-2',
              scope,
              items: [{ item: { case: 'image', value: { ref: image, digest: 'sha256:' + 'a'.repeat(64) } } }],
            }),
          },
          image,
        ),
      ),
    ]);
    await p.handle([
      record(
        other.event(
          {
            case: 'snapshotRequested',
            value: create(SnapshotRequestedSchema, {
              requestId: 'req-1',
              scope,
              requestedBy: 'spec',
              reason: 'api',
            }),
          },
          key,
        ),
      ),
    ]);
    await p.handle([
      record(
        other.event(
          {
            case: 'exceptionRevoked',
            value: create(ExceptionRevokedSchema, { exceptionId: 'exc-1', scope, revokedBy: 'qsa' }),
          },
          'exc-1',
        ),
      ),
      record(
        f.completed(
          'scan-3',
          image,
          fixed.map((x) => x.id),
        ),
      ),
    ]);
    // Scan 3 lists only ids already projected, so it is ready without re-reports of its own.
    const versions = await store.listSnapshots(key);
    assert.deepEqual(
      versions.map((v) => v.scanId),
      ['scan-1', 'scan-2', '', 'scan-3'],
    );
    const findingsBefore = await store.findingsForScope(key);
    assert.equal(findingsBefore.filter((x) => x.status === 'resolved').length, 10, 'the fix resolved ten');
    const assetsBefore = await store.assetsForScope(key);
    assert.deepEqual(
      assetsBefore.map((a) => `${a.kind} ${a.key}`),
      [`image image:${image}`],
    );
    const exceptionsBefore = await store.exceptionsForScope(key);
    assert.equal(exceptionsBefore.length, 1);
    assert.ok(exceptionsBefore[0]!.revokedAt, 'the revocation is projected');
    assert.equal(
      fromBinary(ExceptionRecordedSchema, exceptionsBefore[0]!.payload).justification,
      'compensating WAF rule while the base image is rebuilt',
    );

    const lines: string[] = [];
    const result = await projection(store, log).rebuild((v) =>
      lines.push(`${v.scope} v${v.version} ${v.ok}`),
    );
    assert.equal(result.ok, true);
    assert.ok(
      lines.includes('acme/cde-eu v1 true') && lines.includes('acme/cde-eu v4 true'),
      lines.join('\n'),
    );
    const strip = (rows: Awaited<ReturnType<ReportingStore['findingsForScope']>>) =>
      rows.map((r) => `${r.findingId} ${r.status} ${r.resolvedByScan ?? ''}`);
    assert.deepEqual(strip(await store.findingsForScope(key)), strip(findingsBefore));
    assert.deepEqual(await store.assetsForScope(key), assetsBefore);
    assert.deepEqual(
      (await store.exceptionsForScope(key)).map((x) => [x.id, x.revokedAt?.toISOString()]),
      exceptionsBefore.map((x) => [x.id, x.revokedAt?.toISOString()]),
    );
    assert.ok((await store.scanById('scan-2'))?.completedAt, 'scans are projected again');

    // An event slipped into the store below version 1's log position is not what version 1 was made from: the
    // rebuild names every version it changes and fails; taken out again, everything is reproduced.
    const extra = f.reported('scan-1', f.finding(corpusAdvisories()[40]!, image));
    await store.inTransaction(async (tx) => {
      await tx.insertEvents([
        {
          eventId: extra.eventId,
          eventType: extra.eventType,
          topic: TOPICS.findings.image,
          partition: 0,
          logOffset: '999',
          scope: key,
          subjectKey: extra.subjectKey,
          occurredAt: new Date('2026-11-30T12:00:00Z'),
          payload: encodeEnvelope(extra),
        },
      ]);
    });
    const tampered = await projection(store, log).rebuild();
    assert.equal(tampered.ok, false);
    const v1 = tampered.versions.find((v) => v.scope === key && v.version === 1);
    assert.equal(v1?.ok, false);
    assert.equal(v1?.stored, versions[0]!.contentHash);
    assert.notEqual(v1?.rebuilt, v1?.stored);
    await sql.query('DELETE FROM events WHERE event_id = $1', [extra.eventId]);
    assert.equal((await projection(store, log).rebuild()).ok, true);
  });
});

async function waitUntil(done: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
