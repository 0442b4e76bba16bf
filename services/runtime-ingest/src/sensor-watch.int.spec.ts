// Real: NestJS over HTTP, the embedded event log on a real Postgres (a fresh database of its own), the metrics
// snapshot Falco 0.43 wrote on pay-worker-1 (examples/payments). Only the clock is ours, so the test does not wait
// two hours: the heartbeat goes in over HTTP, the watch reads its SensorSeen from the log, and the silence it then
// reports is read back from the log.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ALL_TOPICS, TOPICS, decodeEnvelope, timestampDate, type FindingReported } from '@vigil/contracts';
import { createEmbeddedEventLog, type EventLog } from '@vigil/event-log';
import { composeServiceModules } from '@vigil/nest-kit';
import { createDatabase, createSql, dropDatabase, withDatabase, type Sql } from '@vigil/store';
import { setLogLevel } from '@vigil/telemetry';
import { repoRoot } from '@vigil/testing';
import { RuntimeIngestModule } from './index.js';
import { SENSOR_WATCH, type SensorWatch } from './sensor-watch.js';

setLogLevel('silent');
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'int-spec-token-0123456789';
const HOUR = 60 * 60 * 1000;
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const snapshot = readFileSync(join(repoRoot(), 'examples/payments/runtime/falco-alerts.jsonl'), 'utf8')
  .split('\n')
  .find((l) => l.includes('Falco metrics snapshot'));
if (!snapshot) throw new Error('examples/payments/runtime/falco-alerts.jsonl has no Falco metrics snapshot');

const dbName = `vigil_sensor_watch_${randomUUID().slice(0, 8)}`;
let sql: Sql;
let log: EventLog;
let app: INestApplication | undefined;

before(async () => {
  await createDatabase(adminUrl, dbName);
  sql = createSql(withDatabase(adminUrl, dbName), { max: 4, applicationName: 'vigil:sensor-watch-int' });
  log = createEmbeddedEventLog({ sql, logger: quiet });
  await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
});

after(async () => {
  await app?.close().catch(() => undefined);
  await log?.close().catch(() => undefined);
  await sql?.close().catch(() => undefined);
  await dropDatabase(adminUrl, dbName).catch(() => undefined);
});

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('heartbeats posted over HTTP, then nothing for longer than the interval: the silence is on the log', async () => {
  const t0 = Date.parse('2026-12-01T00:00:00.000Z');
  let now = t0;
  const root = composeServiceModules(
    { identity: { service: 'runtime-ingest', version: '0.0.0', instance: 'int-1' }, eventLog: log },
    [
      RuntimeIngestModule.forRoot({
        clock: () => new Date(now),
        // Checked by the test, not the timer.
        sensorWatch: { silenceMs: 2 * HOUR, checkIntervalMs: HOUR },
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
  app = await NestFactory.create(root, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  const watch = app.get<SensorWatch>(SENSOR_WATCH);
  await watch.ready;

  const res = await fetch(`http://127.0.0.1:${port}/v1/events/falco`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: snapshot,
  });
  assert.equal(res.status, 202, await res.clone().text());
  assert.equal(((await res.json()) as { telemetry: number }).telemetry, 1);
  await until('the watch to read the SensorSeen from the log', () => watch.sensors().length > 0);
  assert.deepEqual(
    watch.sensors().map((w) => [w.cluster, w.node, w.sensor, w.lastSeen]),
    [['payments-prod', 'pay-worker-1', 'falco', new Date(t0).toISOString()]],
  );

  now = t0 + 2 * HOUR + 5 * 60_000;
  assert.equal(await watch.check(), 1);

  const reported: { eventId: string; finding: NonNullable<FindingReported['finding']> }[] = [];
  await log.replay([TOPICS.findings.runtime], async (records) => {
    for (const r of records) {
      const env = decodeEnvelope(r.value);
      const finding = (env.payload.value as FindingReported).finding;
      if (finding?.ruleId === 'runtime/sensor-silent') reported.push({ eventId: env.eventId, finding });
    }
  });
  assert.equal(reported.length, 1);
  const f = reported[0]!.finding;
  assert.equal(f.asset?.node, 'pay-worker-1');
  assert.equal(f.asset?.cluster, 'payments-prod');
  assert.equal(timestampDate(f.window!.start!).toISOString(), new Date(t0).toISOString());
  assert.equal(timestampDate(f.window!.end!).toISOString(), new Date(t0 + 2 * HOUR).toISOString());
  assert.ok(
    f.pciRequirements.some((r) => r.startsWith('10.7')),
    f.pciRequirements.join(','),
  );
});
