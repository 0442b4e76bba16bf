// Real: NestJS over HTTP, the embedded event log on a real Postgres (DATABASE_URL names the server; this file works
// in a fresh database of its own), corpus events. Nothing is faked: a 2xx must mean the findings are in the log's
// table, readable by a replay right after the answer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ALL_TOPICS, TOPICS, decodeEnvelope, type FindingReported } from '@vigil/contracts';
import { createEmbeddedEventLog, type ConsumedRecord, type EventLog } from '@vigil/event-log';
import { composeServiceModules } from '@vigil/nest-kit';
import { createDatabase, createSql, dropDatabase, withDatabase, type Sql } from '@vigil/store';
import { setLogLevel } from '@vigil/telemetry';
import { corpusPath } from '@vigil/testing';
import { RuntimeIngestModule } from './index.js';
import { RuntimeEventsIngest } from './events-ingest.service.js';

setLogLevel('silent');
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'int-spec-token-0123456789';
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const alerts = readFileSync(
  corpusPath('runtime', 'falco-alerts', 'constructed-payments-pod-intrusion', 'alerts.jsonl'),
);

const dbName = `vigil_runtime_ingest_${randomUUID().slice(0, 8)}`;
let sql: Sql;
let log: EventLog;
const closers: (() => Promise<unknown>)[] = [];

async function serve(eventLog: EventLog): Promise<string> {
  const root = composeServiceModules(
    { identity: { service: 'runtime-ingest', version: '0.0.0', instance: 'int-1' }, eventLog },
    [
      RuntimeIngestModule.forRoot({
        http: {
          token: TOKEN,
          cluster: 'payments-prod',
          maxBodyBytes: 1024 * 1024,
          maxInFlight: 8,
          publishTimeoutMs: 5_000,
        },
      }),
    ],
  );
  const app: INestApplication = await NestFactory.create(root, { logger: false });
  await app.listen(0, '127.0.0.1');
  closers.push(() => app.close());
  const { port } = app.getHttpServer().address() as { port: number };
  return `http://127.0.0.1:${port}`;
}

const post = (base: string, body: Uint8Array) =>
  fetch(`${base}/v1/events/falco`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body,
  });

async function runtimeFindings(): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  await log.replay([TOPICS.findings.runtime], async (records) => {
    out.push(...records);
  });
  return out;
}

before(async () => {
  await createDatabase(adminUrl, dbName);
  sql = createSql(withDatabase(adminUrl, dbName), { max: 4, applicationName: 'vigil:runtime-ingest-int' });
  log = createEmbeddedEventLog({ sql, logger: quiet });
  await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
});

after(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  await log?.close().catch(() => undefined);
  await sql?.close().catch(() => undefined);
  await dropDatabase(adminUrl, dbName).catch(() => undefined);
});

test('after the 202 the findings are on the embedded log; a redelivery carries the same event and finding ids', async () => {
  const base = await serve(log);
  const res = await post(base, alerts);
  assert.equal(res.status, 202);
  const body = (await res.json()) as { findings: { id: string; ruleId: string }[] };
  assert.ok(body.findings.some((f) => f.ruleId === 'falco:Terminal shell in container'));

  const onLog = await runtimeFindings();
  const reported = onLog.map((r) => decodeEnvelope(r.value));
  assert.deepEqual(
    reported.map((e) => (e.payload.value as FindingReported).finding?.id).sort(),
    body.findings.map((f) => f.id).sort(),
  );

  const again = await post(base, alerts);
  assert.equal(again.status, 202);
  assert.deepEqual(((await again.json()) as typeof body).findings, body.findings);
  const twice = (await runtimeFindings()).map((r) => decodeEnvelope(r.value).eventId);
  assert.equal(twice.length, 2 * reported.length);
  assert.deepEqual(
    new Set(twice),
    new Set(reported.map((e) => e.eventId)),
    'the duplicate repeats the event ids',
  );
});

test('a request that arrives before anything created the topics of a fresh log is published, not refused', async () => {
  // A process's first request can beat the start-up that creates the topics (the sensor watch does it too).
  const fresh = `${dbName}_fresh`;
  await createDatabase(adminUrl, fresh);
  const freshSql = createSql(withDatabase(adminUrl, fresh), { max: 2 });
  const freshLog = createEmbeddedEventLog({ sql: freshSql, logger: quiet });
  closers.push(
    () => dropDatabase(adminUrl, fresh),
    () => freshSql.close(),
    () => freshLog.close(),
  );
  const ingest = new RuntimeEventsIngest(
    freshLog,
    { service: 'runtime-ingest', version: '0.0.0', instance: 'int-fresh' },
    {
      token: TOKEN,
      cluster: 'payments-prod',
      maxBodyBytes: 1024 * 1024,
      maxInFlight: 8,
      publishTimeoutMs: 5_000,
    },
  );
  const reply = await ingest.ingest('falco', alerts);
  assert.equal(reply.status, 202, JSON.stringify(reply.body));
  const onLog: ConsumedRecord[] = [];
  await freshLog.replay([TOPICS.findings.runtime], async (records) => void onLog.push(...records));
  assert.ok(onLog.length > 0, 'the findings are on the fresh log');
});

test('a log whose database does not answer gets 503 with Retry-After', async () => {
  const dead = createSql('postgresql://postgres@127.0.0.1:1/postgres', {
    connectionTimeoutMs: 500,
    onError: () => undefined,
  });
  const deadLog = createEmbeddedEventLog({ sql: dead, logger: quiet, pingTimeoutMs: 500 });
  closers.push(
    () => deadLog.close(),
    () => dead.close(),
  );
  const base = await serve(deadLog);
  const res = await post(base, alerts);
  assert.equal(res.status, 503);
  assert.ok(Number(res.headers.get('retry-after')) > 0);
  assert.match(
    ((await res.json()) as { error: string }).error,
    /event log is unavailable|did not acknowledge/,
  );
});
