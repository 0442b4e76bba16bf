// Real: NestJS over HTTP (express, with its default JSON body parser in place), the kit, @vigil/runtime-rules,
// corpus events posted with fetch to an ephemeral port. Fake: the EventLog (recording; made slow or failing).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  DetectionCloseReason,
  TOPICS,
  decodeEnvelope,
  type DetectionClosed,
  type FindingReported,
} from '@vigil/contracts';
import { composeServiceModules } from '@vigil/nest-kit';
import { setLogLevel } from '@vigil/telemetry';
import { corpusPath } from '@vigil/testing';
import { RuntimeIngestModule, type RuntimeEventsHttpOptions } from './index.js';
import { InMemoryEventLog } from '@vigil/nest-kit/testing';

setLogLevel('silent');
const TOKEN = 'spec-token-0123456789abcdef';
const clock = () => new Date('2026-12-01T00:00:00Z');

interface Running {
  base: string;
  log: InMemoryEventLog;
  app: INestApplication;
}

async function start(http: Partial<RuntimeEventsHttpOptions> = {}): Promise<Running> {
  const log = new InMemoryEventLog();
  const root = composeServiceModules(
    { identity: { service: 'runtime-ingest', version: '0.0.0', instance: 'spec-1' }, eventLog: log },
    [
      RuntimeIngestModule.forRoot({
        clock,
        http: {
          token: TOKEN,
          cluster: 'payments-prod',
          maxBodyBytes: 1024 * 1024,
          maxInFlight: 8,
          publishTimeoutMs: 2_000,
          ...http,
        },
      }),
    ],
  );
  const app = await NestFactory.create(root, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as { port: number };
  return { base: `http://127.0.0.1:${port}`, log, app };
}

async function withApp(
  fn: (r: Running) => Promise<void>,
  http: Partial<RuntimeEventsHttpOptions> = {},
): Promise<void> {
  const r = await start(http);
  try {
    await fn(r);
  } finally {
    await r.app.close();
  }
}

function post(
  base: string,
  source: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${base}/v1/events/${source}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers },
    body,
  });
}

const corpus = (...p: string[]) => readFileSync(corpusPath('runtime', ...p), 'utf8');
const shellAlert = corpus('falco-alerts', 'docs-terminal-shell-critical', 'alerts.jsonl');

// What the requests published besides the SensorSeen records the sensor watch reads (sensor-watch.spec.ts).
function findingRecords(log: InMemoryEventLog) {
  return log.published.filter((r) => r.topic !== TOPICS.sensors);
}

function publishedFindings(
  log: InMemoryEventLog,
): { topic: string; eventId: string; reported: FindingReported }[] {
  return findingRecords(log).map((r) => {
    const env = decodeEnvelope(r.value);
    assert.equal(env.payload.case, 'findingReported');
    return { topic: r.topic, eventId: env.eventId, reported: env.payload.value as FindingReported };
  });
}

interface Accepted {
  events: number;
  findings: { id: string; ruleId: string }[];
}

test('a Falco http_output alert is on the log before the 202, as a finding on findings.runtime', async () => {
  await withApp(async ({ base, log }) => {
    const res = await post(base, 'falco', shellAlert);
    assert.equal(res.status, 202);
    const body = (await res.json()) as Accepted;
    assert.equal(body.events, 1);
    assert.deepEqual(
      body.findings.map((f) => f.ruleId),
      ['falco:Terminal shell in container'],
    );
    const published = publishedFindings(log);
    assert.equal(published.length, 1);
    assert.equal(published[0]!.topic, TOPICS.findings.runtime);
    assert.equal(published[0]!.reported.finding?.id, body.findings[0]!.id);
    assert.equal(published[0]!.reported.finding?.asset?.cluster, 'payments-prod');
    assert.equal(published[0]!.reported.scanId, 'runtime-http:payments-prod:falco');
  });
});

test('JSON lines sent as application/json, and a falcosidekick webhook body, are read by the engine, not refused by a JSON parser', async () => {
  await withApp(async ({ base }) => {
    const lines = corpus('falco-alerts', 'falco-0.43-bursty-duplicates', 'alerts.jsonl');
    const res = await post(base, 'falco', lines);
    assert.equal(res.status, 202);
    const body = (await res.json()) as Accepted;
    const alerts = lines.split('\n').filter((l) => l.trim());
    const rules = new Set(alerts.map((l) => `falco:${(JSON.parse(l) as { rule: string }).rule}`));
    assert.equal(body.events, alerts.length);
    for (const f of body.findings.filter((x) => x.ruleId.startsWith('falco:')))
      assert.ok(rules.has(f.ruleId), f.ruleId);

    // falcosidekick's webhook output posts the Falco payload with a uuid of its own.
    const sidekick = JSON.stringify({
      ...(JSON.parse(shellAlert) as object),
      uuid: '2f1c1d9e-7d0b-4c1f-9c59-0f7a1b1f6a11',
    });
    const viaSidekick = await post(base, 'falco', sidekick);
    assert.equal(viaSidekick.status, 202);
    assert.deepEqual(
      ((await viaSidekick.json()) as Accepted).findings.map((f) => f.ruleId),
      ['falco:Terminal shell in container'],
    );
  });
});

test('Tetragon export lines and an audit webhook EventList larger than a JSON parser default are accepted', async () => {
  await withApp(async ({ base, log }) => {
    const tetragon = await post(
      base,
      'tetragon',
      corpus('tetragon', 'lifecycle-secret-read-and-reverse-shell', 'events.jsonl'),
      {
        'content-type': 'application/x-ndjson',
      },
    );
    assert.equal(tetragon.status, 202);
    assert.deepEqual(((await tetragon.json()) as Accepted).findings.map((f) => f.ruleId).sort(), [
      'runtime/sensitive-file-read',
      'runtime/shell-in-container',
      'runtime/unexpected-egress',
    ]);

    const items = corpus('k8s-audit', 'constructed-payments-exec-and-secret-read', 'audit.log')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as unknown);
    const small = { kind: 'EventList', apiVersion: 'audit.k8s.io/v1', metadata: {}, items };
    const audit = await post(base, 'k8s-audit', JSON.stringify(small));
    assert.equal(audit.status, 202);
    const accepted = (await audit.json()) as Accepted;
    assert.equal(accepted.events, items.length);
    assert.deepEqual([...new Set(accepted.findings.map((f) => f.ruleId))].sort(), [
      'runtime/anonymous-request',
      'runtime/exec-into-pod',
      'runtime/rbac-change',
      'runtime/secret-read',
    ]);

    // A webhook batch of a few hundred events: well over 100 kB, under the 1 MiB limit.
    const batch = JSON.stringify({ ...small, items: Array.from({ length: 80 }, () => items).flat() });
    assert.ok(batch.length > 200 * 1024 && batch.length < 1024 * 1024, `batch is ${batch.length} bytes`);
    const big = await post(base, 'k8s-audit', batch);
    assert.equal(big.status, 202);
    const bigBody = (await big.json()) as Accepted;
    assert.equal(bigBody.events, items.length * 80);
    // The same problems seen 80 times are the same findings.
    assert.deepEqual(bigBody.findings.map((f) => f.id).sort(), accepted.findings.map((f) => f.id).sort());
    assert.ok(log.published.length > 0);
  });
});

test('an audit EventList of 1,500 events, over 1 MiB, is taken whole when the body limit allows it', async () => {
  const items = corpus('k8s-audit', 'constructed-payments-exec-and-secret-read', 'audit.log')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const batch = Array.from({ length: 1500 }, (_, i) => ({
    ...items[i % items.length],
    auditID: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  }));
  const body = JSON.stringify({
    kind: 'EventList',
    apiVersion: 'audit.k8s.io/v1',
    metadata: {},
    items: batch,
  });
  assert.ok(body.length > 1024 * 1024, `the EventList is ${body.length} bytes`);
  await withApp(
    async ({ base }) => {
      const r = await post(base, 'k8s-audit', body);
      assert.equal(r.status, 202, await r.clone().text());
      const accepted = (await r.json()) as Accepted;
      assert.equal(accepted.events, 1500);
      assert.deepEqual([...new Set(accepted.findings.map((f) => f.ruleId))].sort(), [
        'runtime/anonymous-request',
        'runtime/exec-into-pod',
        'runtime/rbac-change',
        'runtime/secret-read',
      ]);
    },
    { maxBodyBytes: 4 * 1024 * 1024 },
  );
  // The body limit still bounds the whole list.
  await withApp(async ({ base }) => {
    const r = await post(base, 'k8s-audit', body);
    assert.equal(r.status, 413);
    assert.match(((await r.json()) as { error: string }).error, /over the 1048576-byte limit/);
  });
});

test('without the token, or with a wrong one, the answer is 401 and nothing is published', async () => {
  await withApp(async ({ base, log }) => {
    const none = await fetch(`${base}/v1/events/falco`, { method: 'POST', body: shellAlert });
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    assert.match(((await none.json()) as { error: string }).error, /missing bearer token/);
    const wrong = await post(base, 'falco', shellAlert, { authorization: 'Bearer not-the-token-at-all' });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /not valid/);
    assert.equal(log.published.length, 0);
  });
});

test('a 10 MB body gets 413 with the limit in the reason; the next request is served', async () => {
  await withApp(async ({ base, log }) => {
    const line = `${shellAlert.trim()}\n`;
    const huge = line.repeat(Math.ceil((10 * 1024 * 1024) / line.length));
    const res = await post(base, 'falco', huge);
    assert.equal(res.status, 413);
    const reason = ((await res.json()) as { error: string }).error;
    assert.match(reason, /POST \/v1\/events\/falco: the body \(\d+ bytes\) is over the 1048576-byte limit/);
    assert.equal(log.published.length, 0);
    assert.equal((await post(base, 'falco', shellAlert)).status, 202);
  });
});

test('malformed JSON, missing fields, wrong types and an unknown source get 400 naming the problem, and publish nothing', async () => {
  await withApp(async ({ base, log }) => {
    const alert = JSON.parse(shellAlert) as Record<string, unknown>;
    const cases: [string, string, RegExp][] = [
      ['falco', shellAlert.trim().slice(0, -1), /unterminated JSON|invalid JSON/],
      ['falco', '{"rule": "Terminal shell in container", "priority": }', /invalid JSON/],
      [
        'falco',
        JSON.stringify({ ...alert, rule: undefined }),
        /not recognised as a falco event \(keys: hostname, output/,
      ],
      ['falco', JSON.stringify({ ...alert, priority: 2 }), /not recognised as a falco event/],
      ['falco', JSON.stringify({ ...alert, time: 1685022245 }), /not an RFC 3339 timestamp|time/],
      // One good alert next to a bad one: the batch is refused whole.
      ['falco', `${shellAlert.trim()}\n{"rule": 1}\n`, /line 2: JSON object not recognised/],
      ['tetragon', shellAlert, /a falco event, but the input was declared tetragon/],
      ['syslog', shellAlert, /unknown source "syslog": POST \/v1\/events\/ takes falco, tetragon, k8s-audit/],
      ['falco', '', /empty input/],
    ];
    for (const [source, body, why] of cases) {
      const res = await post(base, source, body);
      const text = await res.text();
      assert.equal(res.status, 400, `${source} ${body.slice(0, 60)} -> ${res.status} ${text}`);
      assert.match((JSON.parse(text) as { error: string }).error, why);
    }
    assert.equal(log.published.length, 0, 'nothing published for a refused request');
    assert.equal((await post(base, 'falco', shellAlert)).status, 202, 'the next valid request is accepted');
    assert.equal(findingRecords(log).length, 1);
  });
});

test('a failing log or one slower than the publish timeout gets 503 with Retry-After, never a 2xx', async () => {
  await withApp(
    async ({ base, log }) => {
      log.failWith = 'connect ECONNREFUSED 127.0.0.1:9092';
      const failing = await post(base, 'falco', shellAlert);
      assert.equal(failing.status, 503);
      assert.ok(Number(failing.headers.get('retry-after')) > 0);
      assert.match(
        ((await failing.json()) as { error: string }).error,
        /event log is unavailable \(connect ECONNREFUSED/,
      );

      log.failWith = undefined;
      let release!: () => void;
      log.gate = new Promise<void>((resolve) => (release = resolve));
      const started = Date.now();
      const slow = await post(base, 'falco', shellAlert);
      assert.equal(slow.status, 503);
      assert.ok(Date.now() - started >= 250, 'answered at the publish timeout');
      assert.ok(Number(slow.headers.get('retry-after')) > 0);
      assert.match(
        ((await slow.json()) as { error: string }).error,
        /did not acknowledge the findings within 300 ms/,
      );
      release();
      log.gate = undefined;
      assert.equal((await post(base, 'falco', shellAlert)).status, 202);
    },
    { publishTimeoutMs: 300 },
  );
});

test('over the in-flight limit the answer is 429 with Retry-After; a hung publish keeps its slot until the log settles', async () => {
  await withApp(
    async ({ base, log }) => {
      let release!: () => void;
      log.gate = new Promise<void>((resolve) => (release = resolve));
      const first = await post(base, 'falco', shellAlert);
      assert.equal(first.status, 503, 'timed out, but its publish is still pending');
      const second = await post(base, 'falco', shellAlert);
      assert.equal(second.status, 429);
      assert.equal(second.headers.get('retry-after'), '1');
      assert.match(((await second.json()) as { error: string }).error, /limit 1/);
      release();
      log.gate = undefined;
      await new Promise((r) => setTimeout(r, 20));
      assert.equal((await post(base, 'falco', shellAlert)).status, 202);
    },
    { maxInFlight: 1, publishTimeoutMs: 200 },
  );
});

test('a duplicate delivery gives the same finding id and the same event id, so it is harmless downstream', async () => {
  await withApp(async ({ base, log }) => {
    const body = corpus('falco-alerts', 'constructed-payments-pod-intrusion', 'alerts.jsonl');
    const a = (await (await post(base, 'falco', body)).json()) as Accepted;
    const firstCount = findingRecords(log).length;
    const b = (await (await post(base, 'falco', body)).json()) as Accepted;
    assert.ok(a.findings.length > 0);
    assert.deepEqual(b.findings, a.findings);
    const published = publishedFindings(log);
    assert.deepEqual(
      published.slice(firstCount).map((p) => p.eventId),
      published.slice(0, firstCount).map((p) => p.eventId),
    );
    // The single alert alone, delivered again inside another batch, is still the same finding.
    const single = (await (await post(base, 'falco', body.split('\n')[0]!)).json()) as Accepted;
    assert.ok(a.findings.some((f) => f.id === single.findings[0]!.id));
  });
});

test('POST /v1/detections/<id>/ack closes a detection with a DetectionClosed on findings.runtime', async () => {
  await withApp(async ({ base, log }) => {
    const accepted = (await (await post(base, 'falco', shellAlert)).json()) as Accepted;
    const id = accepted.findings[0]!.id;
    const ack = (body: unknown, token = TOKEN) =>
      fetch(`${base}/v1/detections/${id}/ack`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await ack({ by: 'alice', reason: 'x' }, 'wrong-token-0123456789')).status, 401);
    const noReason = await ack({ by: 'alice@example.com' });
    assert.equal(noReason.status, 400);
    assert.match(((await noReason.json()) as { error: string }).error, /no reason given/);
    assert.equal(findingRecords(log).length, 1, 'nothing published for refused acknowledgements');

    const res = await ack({ by: 'alice@example.com', reason: 'approved debug session CHG-1042' });
    assert.equal(res.status, 202);
    assert.equal(((await res.json()) as { closed: string }).closed, 'acknowledged');
    const last = log.published[log.published.length - 1]!;
    assert.equal(last.topic, TOPICS.findings.runtime);
    assert.equal(Buffer.from(last.key ?? '').toString(), id);
    const env = decodeEnvelope(last.value);
    assert.equal(env.payload.case, 'detectionClosed');
    const closed = env.payload.value as DetectionClosed;
    assert.deepEqual(
      [closed.findingId, closed.reason, closed.closedBy, closed.scope?.cluster],
      [id, DetectionCloseReason.ACKNOWLEDGED, 'alice@example.com', 'payments-prod'],
    );
    // A retried acknowledgement is the same event.
    await ack({ by: 'alice@example.com', reason: 'approved debug session CHG-1042' });
    const again = decodeEnvelope(log.published[log.published.length - 1]!.value);
    assert.equal(again.eventId, env.eventId);
    const excepted = await ack({ by: 'bob', reason: 'accepted risk', exceptionId: 'exc-7' });
    assert.equal(((await excepted.json()) as { closed: string }).closed, 'excepted');
  });
});
