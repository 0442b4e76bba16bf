import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FindingSource, Severity, TOPICS, encodeEnvelope, newEnvelope } from '@vigil/contracts';
import { type ConsumedRecord } from '@vigil/event-log';
import { createLogger, renderMetrics } from '@vigil/telemetry';
import { CORRELATOR_TOPICS, createCorrelatorHandler } from './index.js';

function record(value: Uint8Array, offset: string): ConsumedRecord {
  return { topic: TOPICS.findings.image, partition: 0, offset, key: 'k', value, headers: {}, timestamp: 0 };
}

test('the correlator reads every findings topic and the inventory, counts what it sees and publishes nothing', async () => {
  assert.deepEqual([...CORRELATOR_TOPICS].sort(), [
    'findings.config',
    'findings.host',
    'findings.image',
    'findings.runtime',
    'inventory',
  ]);
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('spec', {
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  const finding = newEnvelope({
    payload: {
      case: 'findingReported',
      value: {
        finding: { id: 'f-1', source: FindingSource.IMAGE, ruleId: 'CVE-2024-0001', severity: Severity.HIGH },
      },
    },
    scope: { cluster: 'c1' },
    subjectKey: 'img',
    producer: { service: 'image-scanner' },
  });
  await createCorrelatorHandler(logger)([
    record(encodeEnvelope(finding), '1'),
    record(encodeEnvelope(finding), '2'),
  ]);
  assert.deepEqual(lines[0]?.['counts'], { 'vigil.v1.FindingReported': 2 });
  assert.match(
    String(lines[0]?.['msg']),
    /read 2 event\(s\) from findings\.image; the correlate engine is not available in this build/,
  );
  assert.match(
    await renderMetrics(),
    /^vigil_correlator_events_total\{topic="findings\.image",event_type="vigil\.v1\.FindingReported"\} 2$/m,
  );
});

test('an undecodable record throws with its position so the port dead-letters it', async () => {
  await assert.rejects(
    createCorrelatorHandler(createLogger('spec', { level: 'silent' }))([
      record(new Uint8Array([0x0a, 0xff]), '5'),
    ]),
    /^Error: findings\.image\/0@5: decodeEnvelope: /,
  );
});
