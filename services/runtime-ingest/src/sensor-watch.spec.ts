// Real: the HTTP ingest's engine path (RuntimeEventsIngest on Falco's own output: the metrics snapshot Falco 0.43
// wrote on pay-worker-1 in examples/payments, a corpus alert), the SensorSeen records it publishes, the watch's
// findings. Fake: the event log (nest-kit's in-memory one, with a replay over what it recorded) and the clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  TOPICS,
  decodeEnvelope,
  timestampDate,
  type EventEnvelope,
  type FindingReported,
} from '@vigil/contracts';
import { type BatchHandler, type ConsumedRecord } from '@vigil/event-log';
import { InMemoryEventLog } from '@vigil/nest-kit/testing';
import { setLogLevel } from '@vigil/telemetry';
import { corpusPath, repoRoot } from '@vigil/testing';
import { RuntimeEventsIngest } from './events-ingest.service.js';
import { SensorWatch } from './sensor-watch.js';

setLogLevel('silent');

const HOUR = 60 * 60 * 1000;
const snapshot = readFileSync(join(repoRoot(), 'examples/payments/runtime/falco-alerts.jsonl'), 'utf8')
  .split('\n')
  .find((l) => l.includes('Falco metrics snapshot'));
if (!snapshot) throw new Error('examples/payments/runtime/falco-alerts.jsonl has no Falco metrics snapshot');
const shellAlert = readFileSync(
  corpusPath('runtime', 'falco-alerts', 'docs-terminal-shell-critical', 'alerts.jsonl'),
  'utf8',
);

/** The in-memory log, with the replay the real adapters have: everything recorded so far, in order. */
class ReplayableLog extends InMemoryEventLog {
  // The base declares replay without parameters (it throws), so the port's parameters come in as a rest tuple.
  override async replay(...args: [string[], BatchHandler] | []): Promise<void> {
    const [topics = [], handler] = args;
    if (!handler) throw new Error('ReplayableLog.replay: no handler');
    const records: ConsumedRecord[] = this.published
      .map((r, i) => ({ r, i }))
      .filter(({ r }) => topics.includes(r.topic))
      .map(({ r, i }) => ({
        topic: r.topic,
        partition: 0,
        offset: String(i),
        key: r.key,
        value: r.value,
        headers: r.headers ?? {},
        timestamp: 0,
      }));
    if (records.length > 0) await handler(records);
  }
}

const T0 = Date.parse('2026-12-01T00:00:00.000Z');

function setup() {
  const log = new ReplayableLog();
  const clock = { now: T0 };
  const at = () => new Date(clock.now);
  const ingest = new RuntimeEventsIngest(
    log,
    { service: 'runtime-ingest', version: '0.0.0', instance: 'ingest-1' },
    {
      token: 'spec-token-0123456789abcdef',
      cluster: 'payments-prod',
      maxBodyBytes: 1024 * 1024,
      maxInFlight: 8,
      publishTimeoutMs: 2_000,
      clock: at,
    },
  );
  const post = async (body: string) => {
    const reply = await ingest.ingest('falco', Buffer.from(body));
    assert.equal(reply.status, 202, JSON.stringify(reply.body));
  };
  const watches: SensorWatch[] = [];
  const watch = async (instance: string) => {
    const w = new SensorWatch(
      log,
      { service: 'runtime-ingest', version: '0.0.0', instance },
      { silenceMs: 2 * HOUR, checkIntervalMs: 60_000, clock: at },
    );
    watches.push(w);
    await w.start();
    return w;
  };
  const envelopes = (topic: string): EventEnvelope[] =>
    log.published.filter((r) => r.topic === topic).map((r) => decodeEnvelope(r.value));
  const silences = () =>
    envelopes(TOPICS.findings.runtime)
      .map((env) => ({ env, finding: (env.payload.value as FindingReported).finding! }))
      .filter((s) => s.finding.ruleId === 'runtime/sensor-silent');
  const stopAll = () => Promise.all(watches.map((w) => w.stop()));
  return { log, clock, ingest, post, watch, envelopes, silences, stopAll };
}

const evidence = (f: { evidence: { key: string; value: string }[] }, key: string) =>
  f.evidence.find((e) => e.key === key)?.value;
const iso = (ms: number) => new Date(ms).toISOString();

describe('SensorSeen from the HTTP ingest', () => {
  it('names the node, the sensor and its telemetry, at most once per interval unless something changed', async () => {
    const s = setup();
    await s.post(snapshot);
    let seen = s.envelopes(TOPICS.sensors);
    assert.equal(seen.length, 1);
    const first = seen[0]!;
    assert.equal(first.payload.case, 'sensorSeen');
    const v = first.payload.value as {
      node: string;
      sensor: string;
      telemetry: boolean;
      events: string;
      dropped: string;
    } & Record<string, unknown>;
    assert.deepEqual(
      [v.node, v.sensor, v.telemetry, v.events, v.dropped],
      ['pay-worker-1', 'falco', true, '1', '0'],
    );
    const snapshotTime = (JSON.parse(snapshot) as { time: string }).time;
    assert.equal(
      timestampDate(v['firstEventAt'] as never).toISOString(),
      new Date(snapshotTime).toISOString(),
    );
    assert.equal(timestampDate(v['receivedAt'] as never).toISOString(), iso(T0));
    assert.equal(first.subjectKey, 'payments-prod/pay-worker-1/falco');

    s.clock.now += 10_000;
    await s.post(snapshot);
    assert.equal(s.envelopes(TOPICS.sensors).length, 1, 'within 30 s: not again');
    // The same snapshot with its drop counter raised: the watch's drop view changes, so it goes out at once.
    const dropping = JSON.parse(snapshot) as { output_fields: Record<string, unknown> };
    dropping.output_fields['scap.n_drops'] = 1234;
    await s.post(JSON.stringify(dropping));
    seen = s.envelopes(TOPICS.sensors);
    assert.equal(seen.length, 2);
    assert.equal((seen[1]!.payload.value as { dropped: string }).dropped, '1234');
    s.clock.now += 30_000;
    await s.post(JSON.stringify(dropping));
    assert.equal(s.envelopes(TOPICS.sensors).length, 3, 'after 30 s: again');
  });
});

describe('SensorSeen and a failing log', () => {
  it('a refused publish does not count against the interval: the retry carries the SensorSeen', async () => {
    const s = setup();
    s.log.failWith = 'broker gone';
    assert.equal((await s.ingest.ingest('falco', Buffer.from(snapshot))).status, 503);
    assert.equal(s.envelopes(TOPICS.sensors).length, 0);
    s.log.failWith = undefined;
    s.clock.now += 1000;
    await s.post(snapshot);
    assert.equal(s.envelopes(TOPICS.sensors).length, 1, 'the retry 1 s later is not held back');
  });
});

describe('SensorWatch (10.7.x: a sensor that stops is a failed control)', () => {
  it('reports a node that sent heartbeats and then nothing for longer than the interval, once', async () => {
    const s = setup();
    const watch = await s.watch('watch-a');
    await s.post(snapshot);
    assert.deepEqual(
      watch.sensors().map((w) => [w.cluster, w.node, w.sensor, w.lastSeen]),
      [['payments-prod', 'pay-worker-1', 'falco', iso(T0)]],
    );
    s.clock.now = T0 + 2 * HOUR;
    assert.equal(await watch.check(), 0, 'exactly the interval is not yet silent');
    s.clock.now = T0 + 2 * HOUR + 60_000;
    assert.equal(await watch.check(), 1);
    assert.equal(await watch.check(), 0, 'the same gap is reported once per process');
    const [silent] = s.silences();
    assert.ok(silent);
    const f = silent.finding;
    assert.equal(f.asset?.node, 'pay-worker-1');
    assert.equal(f.asset?.cluster, 'payments-prod');
    assert.ok(
      f.pciRequirements.some((r) => r.startsWith('10.7')),
      f.pciRequirements.join(','),
    );
    assert.equal(evidence(f, 'silent_from'), iso(T0));
    assert.equal(evidence(f, 'silence_ongoing'), 'true');
    assert.equal(evidence(f, 'sensor'), 'falco');
    assert.equal(timestampDate(f.window!.start!).toISOString(), iso(T0));
    assert.equal(timestampDate(f.window!.end!).toISOString(), iso(T0 + 2 * HOUR));
    assert.equal(f.locations[0], `falco silent after ${iso(T0)}`);
    assert.equal(silent.env.subjectKey, f.id);
    await s.stopAll();
  });

  it('two replicas publish the same event id and finding id for the same silence', async () => {
    const s = setup();
    const a = await s.watch('watch-a');
    const b = await s.watch('watch-b');
    assert.notEqual(a.group, b.group, 'each replica reads every record');
    await s.post(snapshot);
    s.clock.now = T0 + 3 * HOUR;
    assert.equal(await a.check(), 1);
    s.clock.now = T0 + 3 * HOUR + 45_000;
    assert.equal(await b.check(), 1);
    const [fromA, fromB] = s.silences();
    assert.ok(fromA && fromB);
    assert.equal(fromA.env.eventId, fromB.env.eventId);
    assert.equal(fromA.finding.id, fromB.finding.id);
    assert.deepEqual(fromA.finding.window, fromB.finding.window);
    assert.deepEqual([fromA.env.producer?.instance, fromB.env.producer?.instance], ['watch-a', 'watch-b']);
    await s.stopAll();
  });

  it('when the sensor is heard again, publishes the gap’s final window under the same finding id', async () => {
    const s = setup();
    const watch = await s.watch('watch-a');
    await s.post(snapshot);
    s.clock.now = T0 + 2 * HOUR + 60_000;
    assert.equal(await watch.check(), 1);
    s.clock.now = T0 + 5 * HOUR;
    await s.post(snapshot);
    const [ongoing, ended] = s.silences();
    assert.ok(ongoing && ended, 'the return published the final window');
    assert.equal(ended.finding.id, ongoing.finding.id);
    assert.notEqual(ended.env.eventId, ongoing.env.eventId);
    assert.equal(timestampDate(ended.finding.window!.start!).toISOString(), iso(T0));
    assert.equal(timestampDate(ended.finding.window!.end!).toISOString(), iso(T0 + 5 * HOUR));
    assert.equal(evidence(ended.finding, 'silent_until'), iso(T0 + 5 * HOUR));
    assert.equal(evidence(ended.finding, 'silence_minutes'), '300');
    assert.equal(evidence(ended.finding, 'silence_ongoing'), undefined);
    assert.equal(await watch.check(), 0, 'heard again: not silent');
    assert.equal(watch.sensors()[0]?.lastSeen, iso(T0 + 5 * HOUR));
    await s.stopAll();
  });

  it('never calls a node silent that only sends alerts', async () => {
    const s = setup();
    const watch = await s.watch('watch-a');
    await s.post(shellAlert);
    const seen = s.envelopes(TOPICS.sensors);
    assert.equal(seen.length, 1, 'the alert still says its sensor is alive');
    assert.equal((seen[0]!.payload.value as { telemetry: boolean }).telemetry, false);
    s.clock.now = T0 + 48 * HOUR;
    assert.equal(await watch.check(), 0);
    assert.deepEqual(watch.sensors(), []);
    await s.stopAll();
  });

  it('a restarted replica restores what it knew by replaying the topic, without republishing old gaps', async () => {
    const s = setup();
    const before = await s.watch('watch-a');
    await s.post(snapshot);
    s.clock.now = T0 + 3 * HOUR;
    await s.post(snapshot); // a 3 h gap, ended: reported by the running replica
    assert.equal(s.silences().length, 1);
    await before.stop();

    s.clock.now = T0 + 6 * HOUR;
    const after = await s.watch('watch-a');
    assert.equal(s.silences().length, 1, 'the replay published nothing');
    assert.deepEqual(
      after.sensors().map((w) => [w.node, w.lastSeen]),
      [['pay-worker-1', iso(T0 + 3 * HOUR)]],
    );
    assert.equal(await after.check(), 1);
    const last = s.silences()[1]!;
    assert.equal(evidence(last.finding, 'silent_from'), iso(T0 + 3 * HOUR));
    await s.stopAll();
  });

  it('refuses intervals that are not positive', () => {
    const log = new ReplayableLog();
    const id = { service: 'runtime-ingest', version: '0.0.0', instance: 'x' };
    assert.throws(
      () => new SensorWatch(log, id, { silenceMs: 0, checkIntervalMs: 1000 }),
      /the silence interval 0 ms is not a positive number/,
    );
    assert.throws(
      () => new SensorWatch(log, id, { silenceMs: 1000, checkIntervalMs: Number.NaN }),
      /the check interval NaN ms is not a positive number/,
    );
  });
});
