// Real here: Postgres (the reporting store and the embedded event log on it). Nothing is mocked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  FindingReportedSchema,
  FindingSchema,
  FindingSource,
  RequirementStatus,
  ScanCompletedSchema,
  ScannerKind,
  ScanStatus,
  Severity,
  TOPICS,
  create,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  type EventEnvelope,
} from '@vigil/contracts';
import { createEmbeddedEventLog, type ConsumedRecord, type EventLog } from '@vigil/event-log';
import { assetKey, buildSnapshot, pciCatalog, reportFromContent } from '@vigil/report';
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
import { ReportingProjection } from './reporting.projection.js';
import { SnapshotMaker } from './snapshot-maker.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_reporting_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
const scope = { tenant: '', cluster: 'payments-prod' };
const producer = { service: 'test', version: '0', instance: 'spec' };
let t0 = Date.parse('2026-11-30T10:00:00Z');
const clock = () => new Date((t0 += 1000));

let store: ReportingStore;
let sql: Sql;
let log: EventLog;

function projection(
  entityType: 'merchant' | 'service_provider' = 'merchant',
  findingOrder: 'asset' | 'id' = 'asset',
): ReportingProjection {
  return new ReportingProjection({
    store,
    eventLog: log,
    producer,
    snapshots: new SnapshotMaker(
      pciCatalog(),
      entityType,
      () => new Date('2026-12-01T00:00:00Z'),
      findingOrder,
    ),
    logger: { info: () => undefined, warn: () => undefined },
  });
}

let offset = 0;
function record(topic: string, e: EventEnvelope): ConsumedRecord {
  return {
    topic,
    partition: 0,
    offset: String(offset++),
    key: e.subjectKey,
    value: encodeEnvelope(e),
    headers: {},
    timestamp: 0,
  };
}

function finding(id: string, ruleId: string, imageRef = 'registry.example.com/acme/payment-api:1.4.2') {
  return create(FindingSchema, {
    id,
    source: FindingSource.IMAGE,
    ruleId,
    title: `${ruleId} in openssl`,
    severity: Severity.HIGH,
    pciRequirements: ['6.3.1', '11.3.1'],
    asset: { cluster: scope.cluster, imageRef },
    package: {
      ecosystem: 'Debian:12',
      name: 'libssl3',
      version: '3.0.11-1~deb12u1',
      fixedVersion: '3.0.13-1~deb12u1',
    },
  });
}

function reported(scanId: string, id: string, ruleId: string, imageRef?: string) {
  return newEnvelope({
    payload: {
      case: 'findingReported',
      value: create(FindingReportedSchema, { scanId, finding: finding(id, ruleId, imageRef) }),
    },
    scope,
    subjectKey: id,
    producer,
    clock,
  });
}

function completed(scanId: string, findingIds: string[], status = ScanStatus.OK) {
  return newEnvelope({
    payload: {
      case: 'scanCompleted',
      value: create(ScanCompletedSchema, {
        scanId,
        scanner: ScannerKind.IMAGE,
        scope,
        targetKey: 'registry.example.com/acme/payment-api:1.4.2',
        status,
        findingIds,
        startedAt: timestampFromDate(clock()),
        completedAt: timestampFromDate(clock()),
      }),
    },
    scope,
    subjectKey: 'registry.example.com/acme/payment-api:1.4.2',
    producer,
    clock,
  });
}

describe('reporting projection on a real database', () => {
  before(async () => {
    await createDatabase(adminUrl, dbName);
    await runMigrations(url);
    store = await openReportingStore(url);
    sql = createSql(url);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics([{ name: TOPICS.snapshots, partitions: 1 }]);
  });
  after(async () => {
    await log?.close();
    await sql?.close();
    await store?.close();
    await dropDatabase(adminUrl, dbName);
  });

  it('makes a snapshot only once every finding of a completed scan is projected, and a redelivered batch changes nothing', async () => {
    const p = projection();
    const scan1 = 'scan-1';
    const a = reported(scan1, 'image-aaaa', 'CVE-2024-0727');
    const b = reported(scan1, 'image-bbbb', 'CVE-2023-5678');
    const done = completed(scan1, ['image-aaaa', 'image-bbbb']);
    // The completion overtakes one of its findings (another topic): no snapshot until the finding arrives.
    await p.handle([record(TOPICS.findings.image, a), record(TOPICS.scans, done)]);
    assert.equal(await store.latestSnapshot(scope.cluster), undefined);
    const late = [record(TOPICS.findings.image, b)];
    await p.handle(late);
    const v1 = await store.latestSnapshot(scope.cluster);
    assert.equal(v1?.version, 1);
    const content = reportFromContent(v1!.content, v1!.contentHash);
    assert.deepEqual(content.findings.map((f) => f.id).sort(), ['image-aaaa', 'image-bbbb']);
    const r631 = content.requirements.find((r) => r.id === '6.3.1');
    assert.ok(r631, '6.3.1 is in the snapshot');
    assert.deepEqual([...r631.findingIds].sort(), ['image-aaaa', 'image-bbbb']);

    // At-least-once: the same batch again (a consumer died before committing) adds no event and no snapshot.
    await p.handle(late);
    assert.equal((await store.listSnapshots(scope.cluster)).length, 1);
    const open = await store.findingsForScope(scope.cluster, 'open');
    assert.deepEqual(open.map((f) => f.findingId).sort(), ['image-aaaa', 'image-bbbb']);
  });

  it('resolves a finding a later scan of the same target no longer lists, and a rebuilt state gives the same hash', async () => {
    const p = projection();
    const scan2 = 'scan-2';
    await p.handle([
      record(TOPICS.findings.image, reported(scan2, 'image-aaaa', 'CVE-2024-0727')),
      record(TOPICS.scans, completed(scan2, ['image-aaaa'])),
    ]);
    const v2 = await store.latestSnapshot(scope.cluster);
    assert.equal(v2?.version, 2);
    const v1 = await store.getSnapshot(scope.cluster, 1);
    assert.equal(v2?.previousHash, v1?.contentHash, 'snapshots chain by content hash');
    const resolved = await store.findingsForScope(scope.cluster, 'resolved');
    assert.deepEqual(
      resolved.map((f) => f.findingId),
      ['image-bbbb'],
    );
    assert.equal(resolved[0]?.resolvedByScan, scan2);

    // A failed scan of the same target (its input could not be read) resolves nothing and makes no version of
    // its own; the next ok scan's version includes it.
    await p.handle([record(TOPICS.scans, completed('scan-3', [], ScanStatus.FAILED))]);
    assert.equal((await store.latestSnapshot(scope.cluster))?.version, 2);
    assert.deepEqual(
      (await store.findingsForScope(scope.cluster, 'open')).map((f) => f.findingId),
      ['image-aaaa'],
    );
    await p.handle([
      record(TOPICS.findings.image, reported('scan-4', 'image-aaaa', 'CVE-2024-0727')),
      record(TOPICS.scans, completed('scan-4', ['image-aaaa'])),
    ]);
    const v3 = await store.latestSnapshot(scope.cluster);
    assert.equal(v3?.version, 3);
    assert.deepEqual(
      reportFromContent(v3!.content, v3!.contentHash).findings.map((f) => f.id),
      ['image-aaaa'],
    );

    // The fold rebuilt from the event store alone reproduces v3's content byte for byte (same hash).
    const rebuilt = projection();
    await rebuilt.load();
    const v3content = reportFromContent(v3!.content, v3!.contentHash);
    const again = buildSnapshot({
      state: rebuilt.current(),
      scope,
      catalog: pciCatalog(),
      entityType: 'merchant',
      previous: { version: 2, contentHash: v2!.contentHash, scope },
      logPosition: v3content.logPosition,
      createdAt: new Date(),
    });
    assert.equal(again.contentHash, v3!.contentHash);
  });

  it('takes an event id the store already holds under another scope, recorded after the fold was loaded, as a duplicate', async () => {
    const p = projection();
    await p.load();
    // Another instance records a finding in the staging cluster after this fold was loaded; a broken producer
    // then reuses its event id for a finding of this scope.
    const staging = { tenant: '', cluster: 'payments-staging' };
    const elsewhere = newEnvelope({
      payload: {
        case: 'findingReported',
        value: create(FindingReportedSchema, {
          scanId: 'scan-s',
          finding: finding('image-ssss', 'CVE-2024-2511'),
        }),
      },
      scope: staging,
      subjectKey: 'image-ssss',
      producer,
      clock,
    });
    await projection().handle([record(TOPICS.findings.image, elsewhere)]);
    const reused = { ...reported('scan-5', 'image-cccc', 'CVE-2024-5535'), eventId: elsewhere.eventId };
    await p.handle([
      record(TOPICS.findings.image, reported('scan-5', 'image-dddd', 'CVE-2024-4741')),
      record(TOPICS.findings.image, reused),
    ]);
    assert.ok(await store.getFinding(scope.cluster, 'image-dddd'));
    assert.equal(await store.getFinding(scope.cluster, 'image-cccc'), undefined);
    assert.equal(p.current().scopes.get(scope.cluster)?.findings.has('image-cccc'), false);
    assert.ok(await store.getFinding(staging.cluster, 'image-ssss'));
  });

  it('records the entity type in each version, and a rebuild re-derives a version with the one it recorded', async () => {
    // A one-shot command run with another entity type than the deployment's makes one version of its own.
    await projection('service_provider').handle([
      record(TOPICS.findings.image, reported('scan-6', 'image-aaaa', 'CVE-2024-0727')),
      record(TOPICS.scans, completed('scan-6', ['image-aaaa', 'image-dddd'])),
    ]);
    const provider = await store.latestSnapshot(scope.cluster);
    const content = reportFromContent(provider!.content, provider!.contentHash);
    assert.equal(content.entityType, 'service_provider');
    const naOf = (c: typeof content) =>
      c.requirements.filter((r) => r.status === RequirementStatus.NOT_APPLICABLE).length;
    await projection().handle([
      record(TOPICS.findings.image, reported('scan-7', 'image-aaaa', 'CVE-2024-0727')),
      record(TOPICS.scans, completed('scan-7', ['image-aaaa', 'image-dddd'])),
    ]);
    const merchant = await store.latestSnapshot(scope.cluster);
    const after = reportFromContent(merchant!.content, merchant!.contentHash);
    assert.equal(after.entityType, 'merchant');
    assert.ok(naOf(after) > naOf(content), 'a merchant has more requirements not applicable');
    // The deployment's maker is a merchant's: every version still reproduces, the provider's included.
    const result = await projection().rebuild();
    const bad = result.versions.filter((v) => !v.ok);
    assert.deepEqual(bad, []);
    assert.ok(result.versions.some((v) => v.version === provider!.version && v.ok));
  });

  it('orders findings by asset, then id, and a rebuild re-derives a version made when they were by id', async () => {
    const onImage = (scanId: string, id: string, imageRef: string) =>
      reported(scanId, id, 'CVE-2024-0727', imageRef);
    const events = (scanId: string) => [
      record(TOPICS.findings.image, onImage(scanId, 'image-aa01', 'registry.example.com/z/last:1')),
      record(TOPICS.findings.image, onImage(scanId, 'image-zz02', 'registry.example.com/a/first:1')),
      record(TOPICS.scans, completed(scanId, ['image-aa01', 'image-zz02'])),
    ];
    const contentOf = async () => {
      const s = await store.latestSnapshot(scope.cluster);
      const text = Buffer.from(s!.content).toString('utf8');
      return { report: reportFromContent(s!.content, s!.contentHash), text, version: s!.version };
    };
    // An older build's version: by id, and no findingOrder in its content (so its hash is what that build made).
    await projection('merchant', 'id').handle(events('scan-8'));
    const old = await contentOf();
    assert.equal(old.report.findingOrder, '');
    assert.doesNotMatch(old.text, /"findingOrder"/);
    const ids = old.report.findings.map((f) => f.id);
    assert.deepEqual(ids, [...ids].sort());
    await projection().handle(events('scan-9'));
    const now = await contentOf();
    assert.equal(now.report.findingOrder, 'asset');
    const keys = now.report.findings.map((f) => `${assetKey(f.asset)} ${f.id}`);
    assert.deepEqual(keys, [...keys].sort());
    assert.ok(
      keys.indexOf(`${scope.cluster}/registry.example.com/a/first:1 image-zz02`) <
        keys.indexOf(`${scope.cluster}/registry.example.com/z/last:1 image-aa01`),
      keys.join('\n'),
    );
    const result = await projection().rebuild();
    assert.deepEqual(
      result.versions.filter((v) => !v.ok),
      [],
    );
    assert.ok(result.versions.some((v) => v.version === old.version && v.ok));
    assert.ok(result.versions.some((v) => v.version === now.version && v.ok));
  });
});
