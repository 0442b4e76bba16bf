import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixedClock, repoRoot } from '@vigil/testing';
import { ingestEvents } from '../ingest.js';
import { SENSOR_DROPS_RULE, SENSOR_SILENT_RULE, sensorHealthFindings } from './sensor-health.js';

// The real metrics snapshot Falco 0.43 wrote on pay-worker-1 (examples/payments), and variants of it: the same
// record later, with its drop counters raised, as a drop-heavy hour would write it.
const lines = readFileSync(join(repoRoot(), 'examples/payments/runtime/falco-alerts.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '');
const snapshot = JSON.parse(lines.find((l) => l.includes('metrics snapshot')) ?? 'null') as {
  time: string;
  output_fields: Record<string, unknown>;
};
const alerts = lines.filter((l) => l.startsWith('{') && !l.includes('Falco internal'));

function metricsAt(time: string, drops = 0): string {
  return JSON.stringify({
    ...snapshot,
    time,
    output_fields: { ...snapshot.output_fields, 'scap.n_drops': drops },
  });
}

// Falco's syscall_event_drops "alert" action: rule and output as Falco writes them, with its n_drops* counters.
function dropAlert(time: string, node: string): string {
  return JSON.stringify({
    hostname: node,
    output: 'Falco internal: syscall event drop. 9000 system calls dropped in last second.',
    output_fields: { ebpf_enabled: '1', n_drops: '9000', n_drops_buffer_total: '9000', n_evts: '120000' },
    priority: 'Debug',
    rule: 'Falco internal: syscall event drop',
    source: 'internal',
    time,
  });
}

const clock = fixedClock('2026-11-21T00:00:00Z');
const ingest = (input: string, sensorSilenceMs?: number) =>
  ingestEvents({
    input,
    format: 'falco',
    clock,
    cluster: 'prod',
    ...(sensorSilenceMs ? { policy: { sensorSilenceMs } } : {}),
  });

describe('sensor health (10.7.2)', () => {
  it('finds nothing for the real example: a metrics snapshot without drops, no heartbeat gap', () => {
    const r = ingest(lines.join('\n'));
    assert.ok(snapshot, 'the example has a metrics snapshot');
    assert.deepEqual(
      r.findings.filter((f) => f.ruleId.startsWith('runtime/sensor')),
      [],
    );
    assert.equal(r.telemetry[0]?.kind, 'metrics');
    assert.equal(r.telemetry[0]?.time, snapshot.time);
  });

  it('turns drop counters and drop alerts into one finding per node against 10.7.2', () => {
    const r = ingest(
      [
        metricsAt('2026-11-20T15:00:02Z', 0),
        metricsAt('2026-11-20T16:00:02Z', 4200),
        dropAlert('2026-11-20T16:20:00Z', 'pay-worker-1'),
        metricsAt('2026-11-20T17:00:02Z', 6100),
        dropAlert('2026-11-20T16:30:00Z', 'pay-worker-2'),
      ].join('\n'),
    );
    const drops = r.findings.filter((f) => f.ruleId === SENSOR_DROPS_RULE);
    assert.deepEqual(
      drops.map((f) => f.asset?.node),
      ['pay-worker-1', 'pay-worker-2'],
    );
    const w1 = drops[0]!;
    assert.ok(w1.pciRequirements.includes('10.7.2'));
    const ev = Object.fromEntries(w1.evidence.map((e) => [e.key, e.value]));
    // Cumulative counters: the largest (6100), not the sum; the drop alert's 9000 is its own count.
    assert.equal(ev['dropped_events_max'], '9000');
    assert.equal(ev['drop_alerts'], '1');
    assert.equal(ev['reports'], '3');
    assert.equal(ev['first_seen'], '2026-11-20T16:00:02Z');
    assert.equal(ev['last_seen'], '2026-11-20T17:00:02Z');
    assert.equal(r.counts.detections, 0, 'telemetry is never a detection');
  });

  it('reports a heartbeat gap longer than the interval, and not a shorter one', () => {
    const input = [
      metricsAt('2026-11-20T10:00:00Z'),
      metricsAt('2026-11-20T11:00:00Z'),
      // 3 h 30 min without anything from pay-worker-1
      metricsAt('2026-11-20T14:30:00Z'),
      metricsAt('2026-11-20T15:30:00Z'),
    ].join('\n');
    const silent = ingest(input).findings.filter((f) => f.ruleId === SENSOR_SILENT_RULE);
    assert.equal(silent.length, 1);
    const ev = Object.fromEntries(silent[0]!.evidence.map((e) => [e.key, e.value]));
    assert.deepEqual(
      [ev['silent_from'], ev['silent_until'], ev['silence_minutes']],
      ['2026-11-20T11:00:00Z', '2026-11-20T14:30:00Z', '210'],
    );
    assert.equal(silent[0]!.asset?.node, 'pay-worker-1');
    // With a 4 h interval the same input is healthy.
    assert.equal(
      ingest(input, 4 * 60 * 60 * 1000).findings.filter((f) => f.ruleId === SENSOR_SILENT_RULE).length,
      0,
    );
  });

  it('counts alerts as signs of life between heartbeats, and never judges alert-only nodes for silence', () => {
    const first = JSON.parse(alerts[0]!) as Record<string, unknown>;
    const alertAt = (time: string) => JSON.stringify({ ...first, time });
    const withAlert = [
      metricsAt('2026-11-20T10:00:00Z'),
      alertAt('2026-11-20T11:30:00Z'),
      metricsAt('2026-11-20T13:00:00Z'),
    ].join('\n');
    assert.equal(ingest(withAlert).findings.filter((f) => f.ruleId === SENSOR_SILENT_RULE).length, 0);
    const alertOnly = [alertAt('2026-11-20T01:00:00Z'), alertAt('2026-11-20T20:00:00Z')].join('\n');
    assert.equal(ingest(alertOnly).findings.filter((f) => f.ruleId === SENSOR_SILENT_RULE).length, 0);
  });

  it('refuses a silence interval that is not positive', () => {
    assert.throws(() => sensorHealthFindings([], 'prod', 0), /silence interval 0 ms/);
  });
});
