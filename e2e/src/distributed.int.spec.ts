// Distributed mode on a real Kafka broker and a real Postgres: the six services as separate processes move a scan
// request through the same modules the all-in-one runs, into a snapshot in the database.
//
// Topics and consumer groups have fixed names, so this run is told apart from others on the shared broker by a
// scope (cluster) of its own, and reads only its own scope's events and snapshots.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import {
  ScanRequestedSchema,
  ScannerKind,
  ScopeSchema,
  TargetKind,
  TargetSchema,
  ImageTargetSchema,
  TOPICS,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  scanRequestTopic,
  type EventEnvelope,
} from '@vigil/contracts';
import { createKafkaEventLog, type EventLog } from '@vigil/event-log';
import { openReportingStore, redactUrl, type ReportingStore } from '@vigil/store';
import { acquireServers, freshDatabase, uniqueName, type FreshDatabase, type Servers } from '@vigil/testing';
import {
  cliEnv,
  explain,
  httpStatus,
  runVigil,
  startBackground,
  vigilJson,
  waitFor,
  type Background,
  type CliResult,
} from './vigil-cli.js';

const SERVICES = [
  'image-scanner',
  'config-auditor',
  'runtime-ingest',
  'host-assessor',
  'correlator',
  'reporting',
] as const;
const IMAGE_REF = 'registry.example.com/acme/payment-api:1.4.2';
const SHUTDOWN_TIMEOUT_MS = 10_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** The `scans` topic's envelopes of one scope, decoded; read from the start without joining a group. */
async function scansOf(log: EventLog, cluster: string): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  await log.replay([TOPICS.scans], async (records) => {
    for (const r of records) {
      const e = decodeEnvelope(r.value);
      if (e.scope?.cluster === cluster) out.push(e);
    }
  });
  return out;
}

describe('six services as separate processes over Kafka and Postgres', () => {
  let servers: Servers | undefined;
  let db: FreshDatabase;
  let env: Record<string, string>;
  let store: ReportingStore | undefined;
  let log: EventLog | undefined;
  const running = new Map<string, { proc: Background; url: string }>();
  const cluster = uniqueName('e2e-distributed');

  before(async () => {
    const fromEnv = process.env.KAFKA_BROKERS && process.env.DATABASE_URL;
    if (!fromEnv) servers = await acquireServers();
    const brokers = process.env.KAFKA_BROKERS || servers!.env.KAFKA_BROKERS;
    const adminUrl = process.env.DATABASE_URL || servers!.env.DATABASE_URL;
    db = await freshDatabase(adminUrl, 'e2e_distributed');
    env = {
      EVENT_LOG: 'kafka',
      KAFKA_BROKERS: brokers,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'warn',
      // The example's images live on registry.example.com, which nothing serves: scans of what the inventory
      // names would only add failed scans to the versions this test counts.
      IMAGE_SCANNER_INVENTORY_SCANS: 'false',
    };
    log = createKafkaEventLog({ brokers: brokers.split(','), clientId: 'e2e-distributed' });
  });

  after(async () => {
    for (const { proc } of running.values()) await proc.stop('SIGKILL', 5_000);
    await store?.close();
    await log?.close();
    await db?.drop();
    await servers?.stop();
  });

  test('vigil db migrate prepares the fresh database', async (t) => {
    const args = ['db', 'migrate', '--format', 'json'];
    const r = await runVigil(args, { env });
    assert.equal(r.code, 0, explain(args, r));
    t.diagnostic(`database ${redactUrl(db.url)}, scope ${cluster}`);
    store = await openReportingStore(db.url);
    assert.equal(await store.latestSnapshot(cluster), undefined, 'a fresh scope has no snapshot');
  });

  test('each service starts as its own process and gets ready', async (t) => {
    for (const name of SERVICES) {
      const port = await freePort();
      const proc = startBackground(
        name,
        `services/${name}/dist/main.js`,
        [],
        cliEnv({
          ...env,
          PORT: String(port),
          HOST: '127.0.0.1',
          SHUTDOWN_TIMEOUT: `${SHUTDOWN_TIMEOUT_MS}ms`,
        }),
      );
      running.set(name, { proc, url: `http://127.0.0.1:${port}` });
    }
    for (const [name, { proc, url }] of running) {
      await waitFor(
        `${name} /readyz 200`,
        async () => {
          if (proc.child.exitCode !== null)
            throw new Error(
              `${name} exited ${proc.child.exitCode}: ${proc.output().stderr}${proc.output().stdout}`,
            );
          return (await httpStatus(`${url}/readyz`)) === 200 ? true : undefined;
        },
        90_000,
      );
      assert.equal(await httpStatus(`${url}/healthz`), 200, `${name} /healthz`);
      t.diagnostic(`${name} ready on ${url} (pid ${proc.child.pid})`);
    }
  });

  test('a scan request published with no all-in-one running becomes a snapshot, made by the services', async (t) => {
    assert.equal(running.size, SERVICES.length, 'every service is running');
    const scanId = randomUUID();
    const scope = create(ScopeSchema, { tenant: '', cluster });
    const target = create(TargetSchema, {
      kind: TargetKind.IMAGE,
      key: IMAGE_REF,
      ref: { case: 'image', value: create(ImageTargetSchema, { ref: IMAGE_REF, digest: '' }) },
    });
    const request = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: create(ScanRequestedSchema, {
          scanId,
          scanner: ScannerKind.IMAGE,
          scope,
          target,
          requestedBy: 'e2e',
        }),
      },
      scope,
      subjectKey: IMAGE_REF,
      producer: { service: 'e2e', version: '0', instance: `${hostname()}-${process.pid}` },
    });
    await log!.publish([
      { topic: scanRequestTopic(ScannerKind.IMAGE), key: IMAGE_REF, value: encodeEnvelope(request) },
    ]);

    const snapshot = await waitFor(
      "the scope's first snapshot in the database",
      () => store!.latestSnapshot(cluster),
      60_000,
      500,
    );
    assert.equal(snapshot.version, 1);
    assert.match(snapshot.contentHash, /^sha256:[0-9a-f]{64}$/);
    assert.equal(snapshot.previousHash, null);

    const events = (await scansOf(log!, cluster)).filter(
      (e) =>
        (e.payload.case === 'scanStarted' || e.payload.case === 'scanCompleted') &&
        e.payload.value.scanId === scanId,
    );
    const producers = [
      ...new Set(events.map((e) => `${e.payload.case} from ${e.producer?.service}@${e.producer?.instance}`)),
    ];
    t.diagnostic(`producers on ${TOPICS.scans}: ${producers.join('; ')}`);
    assert.deepEqual(events.map((e) => e.payload.case).sort(), ['scanCompleted', 'scanStarted']);
    const scanner = running.get('image-scanner')!.proc.child.pid;
    for (const e of events) {
      assert.equal(e.producer?.service, 'image-scanner');
      assert.match(
        e.producer?.instance ?? '',
        new RegExp(`-${scanner}$`),
        'published by the image-scanner process the test started',
      );
    }
    const completed = events.find((e) => e.payload.case === 'scanCompleted');
    assert.ok(completed?.payload.case === 'scanCompleted');
    // No advisories were imported into this database: the scan says so instead of calling the image clean.
    assert.match(completed.payload.value.error, /advisory database has no records/);
  });

  test('vigil on Kafka scans through the same topics and reads the same database', async (t) => {
    const args = ['scan', 'image', IMAGE_REF, '--cluster', cluster, '--format', 'json'];
    const { json: scan } = await vigilJson(args, { env });
    assert.equal(scan.scanner, 'image');
    assert.equal(scan.status, 'unavailable');
    assert.equal(scan.target.key, IMAGE_REF);

    const { json: report } = await vigilJson(['report', '--cluster', cluster, '--format', 'json'], { env });
    assert.equal(report.snapshotVersion, 2, 'the second scan of the scope made its second snapshot');
    assert.equal(report.previousHash, (await store!.getSnapshot(cluster, 1))?.contentHash);
    assert.equal(report.contentHash, (await store!.latestSnapshot(cluster))?.contentHash);

    // The all-in-one ran its own scanner module beside the service, in the same consumer group: either may have
    // taken the request (the partition of its key decides).
    const events = (await scansOf(log!, cluster)).filter(
      (e) =>
        (e.payload.case === 'scanStarted' || e.payload.case === 'scanCompleted') &&
        e.payload.value.scanId === scan.scanId,
    );
    assert.deepEqual(
      events.map((e) => e.payload.case).sort(),
      ['scanCompleted', 'scanStarted'],
      "the same events as the services' own scan, once each",
    );
    // The service's process publishes as image-scanner, the all-in-one's module as vigil; one of them did it all.
    assert.ok(
      ['image-scanner', 'vigil'].includes(events[0]?.producer?.service ?? ''),
      `producer ${events[0]?.producer?.service}`,
    );
    assert.equal(
      new Set(events.map((e) => `${e.producer?.service}@${e.producer?.instance}`)).size,
      1,
      'one process started and completed it',
    );
    t.diagnostic(
      `vigil scan: ${events.map((e) => `${e.payload.case} from ${e.producer?.service}@${e.producer?.instance}`).join('; ')}`,
    );
  });

  test('vigil --format json on Kafka prints only the JSON on stdout, log lines go to stderr', async () => {
    const args = ['report', '--cluster', cluster, '--format', 'json'];
    const r = await runVigil(args, { env: { ...env, LOG_LEVEL: 'info' } });
    assert.equal(r.code, 0, explain(args, r));
    assert.doesNotThrow(() => JSON.parse(r.stdout), `stdout is exactly the report: ${explain(args, r)}`);
    assert.match(r.stderr, /"level":"info"/, 'at LOG_LEVEL=info the log lines are there, on stderr');
  });

  test('vigil on Kafka at the default log level writes nothing on stderr when all is well', async () => {
    const args = ['report', '--cluster', cluster, '--format', 'json'];
    const r = await runVigil(args, { env: { ...env, LOG_LEVEL: 'warn' } });
    assert.equal(r.code, 0, explain(args, r));
    assert.equal(r.stderr, '', explain(args, r));
  });

  let stopped: { name: string; r: CliResult; ms: number }[] = [];

  test('SIGTERM stops every service within its shutdown timeout', async (t) => {
    // All at once, as a rollout would: each drains on its own, so one slow service does not hide another's fault.
    stopped = await Promise.all(
      [...running].map(async ([name, { proc }]) => {
        const started = Date.now();
        const r = await proc.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 5_000);
        return { name, r, ms: Date.now() - started };
      }),
    );
    running.clear();
    for (const { name, r, ms } of stopped)
      t.diagnostic(`${name}: exit ${r.code}${r.signal ? ` (${r.signal})` : ''} after ${ms} ms`);
    assert.equal(stopped.length, SERVICES.length);
    for (const { name, r, ms } of stopped) {
      assert.notEqual(r.signal, 'SIGKILL', `${name} had to be killed: ${explain([name], r)}`);
      assert.ok(ms <= SHUTDOWN_TIMEOUT_MS + 2_000, `${name} stopped within its shutdown timeout (${ms} ms)`);
    }
  });

  test('a service stopped by SIGTERM exits with code 0', () => {
    assert.equal(stopped.length, SERVICES.length, 'every service was stopped');
    for (const { name, r } of stopped) {
      assert.equal(r.signal, null, `${name} exited by itself, not by the signal: ${explain([name], r)}`);
      assert.equal(r.code, 0, `${name} exit code: ${explain([name], r)}`);
    }
  });
});
