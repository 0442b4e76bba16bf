import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeEnvelope } from '@vigil/contracts';
import { startFakeApiServer } from '@vigil/testing';
import { LiveAuditTrigger, type LiveAuditTriggerOptions } from './live-audit.trigger.js';

const producer = { service: 'config-auditor', version: 'test', instance: 't' };

function collecting(): {
  records: { topic: string; key: string; value: Uint8Array }[];
  publish: LiveAuditTriggerOptions['publish'];
} {
  const records: { topic: string; key: string; value: Uint8Array }[] = [];
  return { records, publish: async (r) => void records.push(r) };
}

test('every replica asks for the same scheduled audit with the same event id', async () => {
  const clock = () => new Date('2026-12-03T10:17:00Z');
  const a = collecting();
  const b = collecting();
  const base = {
    cluster: 'pay',
    intervalMs: 6 * 3600_000,
    watch: false,
    debounceMs: 0,
    connect: {},
    producer,
    clock,
  };
  const ta = new LiveAuditTrigger({ ...base, publish: a.publish, cdeLabel: 'zone=cde' });
  const tb = new LiveAuditTrigger({ ...base, publish: b.publish, cdeLabel: 'zone=cde' });
  ta.start();
  tb.start();
  await ta.stop();
  await tb.stop();
  assert.equal(a.records.length, 1);
  const ea = decodeEnvelope(a.records[0]!.value);
  const eb = decodeEnvelope(b.records[0]!.value);
  assert.equal(a.records[0]!.topic, 'scan.requests.config');
  assert.equal(a.records[0]!.key, 'live');
  assert.equal(ea.eventId, eb.eventId);
  assert.equal(ea.payload.case, 'scanRequested');
  if (ea.payload.case === 'scanRequested') {
    assert.equal(ea.payload.value.scanId, ea.eventId);
    assert.equal(ea.payload.value.requestedBy, 'schedule');
    assert.equal(ea.payload.value.target?.ref.case, 'liveCluster');
    assert.deepEqual(ea.payload.value.options, { 'cde-label': 'zone=cde' });
  }
  // The next interval is another audit.
  const later = collecting();
  const tc = new LiveAuditTrigger({
    ...base,
    publish: later.publish,
    clock: () => new Date('2026-12-03T16:00:01Z'),
  });
  tc.start();
  await tc.stop();
  assert.notEqual(decodeEnvelope(later.records[0]!.value).eventId, ea.eventId);
});

test('a change seen on the watch asks for one re-audit; the initial list does not', async () => {
  const server = await startFakeApiServer();
  const sink = collecting();
  const trigger = new LiveAuditTrigger({
    cluster: 'kind',
    intervalMs: 0,
    watch: true,
    debounceMs: 200,
    connect: { kubeconfig: server.kubeconfigPath, context: server.context },
    publish: sink.publish,
    producer,
  });
  try {
    trigger.start();
    const deadline = Date.now() + 15_000;
    while (sink.records.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // The recorded pod watch events arrive in one burst: one request for all of them.
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(sink.records.length, 1);
    const env = decodeEnvelope(sink.records[0]!.value);
    assert.equal(env.payload.case, 'scanRequested');
    if (env.payload.case === 'scanRequested') assert.equal(env.payload.value.requestedBy, 'watch');
    assert.ok(server.requests.some((r) => r.query['watch'] === 'true' || r.query['watch'] === '1'));
  } finally {
    await trigger.stop();
    await server.stop();
  }
});
