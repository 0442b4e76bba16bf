// Real: a Kafka broker (KAFKA_BROKERS, default 127.0.0.1:9092; `bash infra/local/kafka.sh start`), Postgres
// (DATABASE_URL, else the local one) with a fresh database holding the example advisories, this service's
// dist/main.js as a separate process, the example image as a docker archive, the Kafka adapter on both sides.
// Nothing is faked.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ScanStatus,
  ScannerKind,
  TOPICS,
  TargetKind,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  topicFor,
  type EventEnvelope,
} from '@vigil/contracts';
import { createKafkaEventLog, type ConsumedRecord } from '@vigil/event-log';
import { importOsvDump } from '@vigil/image-scan';
import { createAdvisoryStore, createSql, runMigrations } from '@vigil/store';
import { currentTraceIds, setLogLevel, shutdownTelemetry, startTelemetry, withSpan } from '@vigil/telemetry';
import { freshDatabase, repoRoot, type FreshDatabase } from '@vigil/testing';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const ADMIN_URL = process.env['DATABASE_URL'] || 'postgresql://postgres@127.0.0.1:5432/postgres';
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const EXAMPLE = join(repoRoot(), 'examples/payments');
const IMAGE_REF = 'registry.example.com/acme/payment-api:1.4.2';

startTelemetry({ serviceName: 'image-scanner-int-spec', serviceVersion: '0.0.0' });
setLogLevel('warn');

let db: FreshDatabase;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-image-scanner-int-'));
const archive = join(tmp, 'payment-api.tar');

before(async () => {
  db = await freshDatabase(ADMIN_URL, 'vigil_image_scanner_int');
  await runMigrations(db.url);
  const sql = createSql(db.url, { max: 1 });
  try {
    const imported = await importOsvDump(join(EXAMPLE, 'advisories'), createAdvisoryStore(sql), { source: 'examples' });
    assert.ok(imported.records > 0 && imported.invalid === 0, JSON.stringify(imported));
  } finally {
    await sql.close();
  }
  execFileSync(process.execPath, [join(EXAMPLE, 'image/build.mjs'), tmp], { stdio: 'ignore' });
});
after(async () => {
  await shutdownTelemetry();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a ScanRequested for the example image gets ScanStarted, its findings, its inventory and ScanCompleted(ok)', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: BROKERS.join(','),
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICE_INSTANCE_ID: `int-${process.pid}`,
      // Our own group: other runs on this shared broker may have vigil.image-scanner members of their own.
      CONSUMER_GROUP_PREFIX: `test-${randomUUID()}.`,
      // The inventory loop has its own spec; on a shared broker it would re-request every image ever inventoried.
      IMAGE_SCANNER_INVENTORY_SCANS: 'false',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const log = createKafkaEventLog({
    brokers: BROKERS,
    clientId: 'image-scanner-int-spec',
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  try {
    const port = await waitFor(
      () => lines.find((l) => String(l['msg']).includes('listening on'))?.['port'] as number | undefined,
      20_000,
      'the service to listen',
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined),
      60_000,
      '/readyz 200',
    );

    // Read the scans, findings and inventory topics from their start in a group of our own, and keep only this
    // test's scan (the inventory by the image digest: InventoryObserved carries the scan id too).
    const scanId = `int-${randomUUID()}`;
    const seen: { record: ConsumedRecord; envelope: EventEnvelope }[] = [];
    const findings: { record: ConsumedRecord; envelope: EventEnvelope }[] = [];
    const inventory: { record: ConsumedRecord; envelope: EventEnvelope }[] = [];
    const sub = await log.subscribe({
      group: `test.image-scanner.${randomUUID()}`,
      topics: [TOPICS.scans, TOPICS.findings.image, TOPICS.inventory],
      start: 'earliest',
      handler: async (records) => {
        for (const record of records) {
          const envelope = decodeEnvelope(record.value);
          const p = envelope.payload;
          if ((p.case === 'scanStarted' || p.case === 'scanCompleted') && p.value.scanId === scanId)
            seen.push({ record, envelope });
          if (p.case === 'findingReported' && p.value.scanId === scanId) findings.push({ record, envelope });
          if (p.case === 'inventoryObserved' && p.value.scanId === scanId) inventory.push({ record, envelope });
        }
      },
    });
    await sub.ready;

    const request = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: {
          scanId,
          scanner: ScannerKind.IMAGE,
          scope: { cluster: 'int-spec' },
          target: {
            kind: TargetKind.IMAGE,
            key: IMAGE_REF,
            ref: { case: 'image', value: { archivePath: archive } },
          },
          requestedBy: 'image-scanner.int.spec',
        },
      },
      scope: { cluster: 'int-spec' },
      subjectKey: IMAGE_REF,
      producer: { service: 'int-spec', version: '0', instance: String(process.pid) },
    });
    const traceId = await withSpan('request scan', async () => {
      await log.publish([
        { topic: topicFor(request), key: request.subjectKey, value: encodeEnvelope(request) },
      ]);
      return currentTraceIds()!.traceId;
    });

    await waitFor(() => (seen.length >= 2 ? true : undefined), 60_000, 'ScanStarted and ScanCompleted');
    assert.deepEqual(
      seen.map((s) => s.envelope.payload.case),
      ['scanStarted', 'scanCompleted'],
    );
    const completed = seen[1]!.envelope;
    assert.equal(completed.payload.case, 'scanCompleted');
    if (completed.payload.case !== 'scanCompleted') return;
    const done = completed.payload.value;
    assert.equal(done.status, ScanStatus.OK, done.error);
    assert.equal(done.error, '');
    assert.ok(done.findingIds.length > 0, 'the example image has findings');
    assert.equal(done.counts?.total, done.findingIds.length);
    assert.equal(done.targetKey, IMAGE_REF);
    assert.equal(completed.producer?.service, 'image-scanner');
    assert.equal(completed.producer?.instance, `int-${process.pid}`);
    assert.equal(seen[1]!.record.key, scanId);

    // The findings are published before the completion, but on other partitions: wait until all have arrived.
    await waitFor(
      () => (findings.length >= done.findingIds.length && inventory.length >= 1 ? true : undefined),
      30_000,
      `${done.findingIds.length} FindingReported and one InventoryObserved`,
    );
    await sub.stop();
    const reported = findings.map((f) =>
      f.envelope.payload.case === 'findingReported' ? f.envelope.payload.value.finding! : undefined,
    );
    assert.deepEqual(
      reported.map((f) => f?.id).sort(),
      [...done.findingIds].sort(),
      'the FindingReported events are exactly the completion\'s finding ids',
    );
    for (const f of findings) {
      assert.equal(f.record.topic, TOPICS.findings.image);
      if (f.envelope.payload.case === 'findingReported') assert.equal(f.record.key, f.envelope.payload.value.finding!.id);
    }
    // One concrete finding from examples/payments/advisories/DSA-5532-1.json on the image's libssl3.
    const libssl = reported.find(
      (f) =>
        f?.aliases.includes('DSA-5532-1') &&
        f.evidence.some((e) => e.key === 'package-identity' && e.value.startsWith('pkg:deb/debian/libssl3?')),
    );
    assert.equal(libssl?.ruleId, 'CVE-2023-5363');
    assert.match(libssl?.remediation?.patch ?? '', /libssl3=3\.0\.11-1~deb12u2 openssl=3\.0\.11-1~deb12u2/);
    assert.ok(reported.some((f) => f?.ruleId === 'image/runs-as-root'));

    assert.equal(inventory.length, 1);
    const observed = inventory[0]!.envelope.payload;
    assert.equal(observed.case, 'inventoryObserved');
    if (observed.case !== 'inventoryObserved') return;
    const item = observed.value.items[0]?.item;
    assert.equal(item?.case, 'image');
    if (item?.case !== 'image') return;
    assert.equal(item.value.ref, IMAGE_REF);
    assert.equal(item.value.digest, libssl?.asset?.imageDigest);
    assert.match(item.value.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(inventory[0]!.record.topic, TOPICS.inventory);
    assert.equal(inventory[0]!.record.key, item.value.digest);
    const target = done.target?.ref.case === 'image' ? done.target.ref.value : undefined;
    assert.equal(target?.digest, item.value.digest);
    assert.equal(target?.archivePath, archive);

    // The trace started here crossed Kafka into the service and back out on its events.
    assert.match(seen[1]!.record.headers['traceparent'] ?? '', new RegExp(`^00-${traceId}-`));
    for (const f of [...findings, ...inventory])
      assert.match(f.record.headers['traceparent'] ?? '', new RegExp(`^00-${traceId}-`), 'findings and inventory too');

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(
      metrics,
      /^vigil_scans_completed_total\{scanner="image",status="ok",service="image-scanner"\} [1-9]\d*$/m,
    );
    const logged = lines.find(
      (l) => l['scanId'] === scanId && String(l['msg']).includes('completed: ok'),
    );
    assert.equal(
      logged?.['trace_id'],
      traceId,
      'the service logged the completion inside the requester’s trace',
    );
  } finally {
    child.kill('SIGTERM');
    await exited;
    await log.close();
  }
  assert.ok(
    lines.some((l) => /^consumer test-[0-9a-f-]+\.vigil\.image-scanner stopped$/.test(String(l['msg']))),
    `the consumer was stopped on SIGTERM; last lines: ${lines
      .slice(-4)
      .map((l) => String(l['msg']))
      .join(' / ')}`,
  );
});
