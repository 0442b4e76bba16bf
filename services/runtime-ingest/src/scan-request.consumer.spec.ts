// Real: @vigil/runtime-rules on corpus files, the kit's scan-request handler, envelopes as encoded on the log.
// Fake: the EventLog (recording, in memory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FindingSource,
  ScanStatus,
  ScannerKind,
  Severity,
  TOPICS,
  TargetKind,
  ScanRequestedSchema,
  TargetSchema,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type FindingReported,
  type ScanCompleted,
  type ScanRequested,
} from '@vigil/contracts';
import { createScanRequestHandler } from '@vigil/nest-kit';
import { setLogLevel } from '@vigil/telemetry';
import { corpusPath } from '@vigil/testing';
import { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from './index.js';
import { InMemoryEventLog } from '@vigil/nest-kit/testing';

setLogLevel('silent');
const clock = () => new Date('2026-12-01T00:00:00Z');

function request(format: string, source: string, options: Record<string, string> = {}): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId: 'scan-rt-1',
    scanner: ScannerKind.RUNTIME,
    scope: { cluster: 'payments-prod' },
    target: create(TargetSchema, {
      kind: TargetKind.RUNTIME_EVENTS,
      key: source,
      ref: { case: 'runtimeEvents', value: { format, source } },
    }),
    options,
  });
}

test('a Falco alert file becomes one FindingReported per finding, completing ok with the ids, assets and units', async () => {
  const file = corpusPath('runtime', 'falco-alerts', 'docs-terminal-shell-critical', 'alerts.jsonl');
  const expected = JSON.parse(
    readFileSync(
      corpusPath('runtime', 'falco-alerts', 'docs-terminal-shell-critical', 'expected.json'),
      'utf8',
    ),
  ) as { alerts: { rule: string; k8s_namespace: string; k8s_pod: string }[] };
  const alert = expected.alerts[0]!;
  const result = await runtimeIngestEngine({ clock }).scan(request('falco', file));
  assert.equal(result.status, ScanStatus.OK);
  assert.equal(result.error, '', 'every line was an event');
  const events = result.events ?? [];
  assert.equal(events.length, 1);
  const reported = events[0]!.payload.value as FindingReported;
  assert.equal(reported.scanId, 'scan-rt-1');
  assert.equal(reported.finding?.ruleId, `falco:${alert.rule}`);
  assert.equal(reported.finding?.source, FindingSource.RUNTIME);
  assert.equal(reported.finding?.asset?.cluster, 'payments-prod');
  assert.equal(reported.finding?.asset?.namespace, alert.k8s_namespace);
  assert.equal(events[0]!.subjectKey, reported.finding?.id);
  assert.deepEqual(result.findingIds, [reported.finding?.id]);
  // The operator raised the rule to Critical; the alert's priority decides the severity.
  assert.equal(reported.finding?.severity, Severity.CRITICAL);
  assert.equal(result.counts?.critical, 1);
  assert.equal(result.counts?.total, 1);
  assert.ok(
    result.units?.some((u) => u.id.includes('falco') && u.version >= 1),
    'the Falco normalizer is a unit',
  );
  assert.equal(result.assets?.length, 1);
});

test('lines that are not events are counted in the completion, and the events around them still count', async () => {
  const dir = corpusPath('runtime', 'falco-alerts', 'alerts-with-summary-lines');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    lines_total: number;
    alerts_expected: number;
    non_alert_lines: number[];
  };
  const result = await runtimeIngestEngine({ clock }).scan(request('falco', join(dir, 'falco.log')));
  assert.equal(result.status, ScanStatus.OK);
  assert.match(
    result.error,
    new RegExp(
      `^${expected.non_alert_lines.length} of \\d+ non-blank lines were not events \\(${expected.alerts_expected} events read\\): line ${expected.non_alert_lines[0]}: not JSON`,
    ),
  );
  assert.ok((result.findingIds?.length ?? 0) > 0);
  assert.ok(result.findingIds?.every((id) => id.startsWith('runtime-')));
});

test('a Tetragon export scanned through the kit handler publishes findings on findings.runtime, then the completion; a redelivery republishes the same ids', async () => {
  const file = corpusPath('runtime', 'tetragon', 'lifecycle-secret-read-and-reverse-shell', 'events.jsonl');
  const log = new InMemoryEventLog();
  const handler = createScanRequestHandler({
    engine: runtimeIngestEngine({ clock }),
    eventLog: log,
    identity: { service: 'runtime-ingest', version: '0.0.0', instance: 'spec' },
    group: RUNTIME_INGEST_GROUP,
    clock,
  });
  const req = request('tetragon', file);
  const env = newEnvelope({
    payload: { case: 'scanRequested', value: req },
    scope: { tenant: '', cluster: 'payments-prod' },
    subjectKey: file,
    producer: { service: 'spec', version: '0', instance: 'spec' },
  });
  const record = {
    topic: TOPICS.scanRequests.runtime,
    partition: 0,
    offset: '0',
    key: file,
    value: encodeEnvelope(env),
    headers: {},
    timestamp: 0,
  };
  await handler([record]);
  const first = log.published.map((r) => ({ topic: r.topic, env: decodeEnvelope(r.value) }));
  const findings = first.filter((r) => r.env.payload.case === 'findingReported');
  assert.ok(findings.every((r) => r.topic === TOPICS.findings.runtime));
  const ruleIds = findings.map((r) => (r.env.payload.value as FindingReported).finding?.ruleId).sort();
  assert.deepEqual(ruleIds, [
    'runtime/sensitive-file-read',
    'runtime/shell-in-container',
    'runtime/unexpected-egress',
  ]);
  const last = first[first.length - 1]!;
  assert.equal(last.topic, TOPICS.scans);
  assert.equal(last.env.payload.case, 'scanCompleted');
  const completed = last.env.payload.value as ScanCompleted;
  assert.equal(completed.status, ScanStatus.OK);
  assert.equal(completed.targetKey, file);
  assert.deepEqual(
    [...completed.findingIds].sort(),
    findings.map((r) => (r.env.payload.value as FindingReported).finding?.id).sort(),
  );

  await handler([record]);
  const again = log.published.slice(first.length).map((r) => decodeEnvelope(r.value).eventId);
  assert.deepEqual(
    again,
    first.map((r) => r.env.eventId),
    'same event ids on redelivery',
  );
});

test('input with no event at all fails the scan and names the input; a stdin spool is named by input-name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'runtime-ingest-'));
  try {
    const file = join(dir, 'not-events.log');
    await writeFile(file, 'Events detected: 0\nRule counts by severity:\n');
    const result = await runtimeIngestEngine({ clock }).scan(request('falco', file));
    assert.equal(result.status, ScanStatus.FAILED);
    assert.match(
      result.error,
      new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: no falco event in 2 lines`),
    );
    const named = await runtimeIngestEngine({ clock }).scan(
      request('falco', file, { 'input-name': 'stdin' }),
    );
    assert.match(named.error, /^stdin: no falco event/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a request the runtime ingest cannot read fails with the reason', async () => {
  const engine = runtimeIngestEngine({ clock });
  const wrongFormat = await engine.scan(request('syslog', '/var/log/x'));
  assert.equal(wrongFormat.status, ScanStatus.FAILED);
  assert.match(wrongFormat.error, /format "syslog" is not one of falco, tetragon, k8s-audit/);
  const typo = await engine.scan(request('falco', '/var/log/x', { inputname: 'x' }));
  assert.match(typo.error, /unknown option\(s\) inputname/);
  const missing = await engine.scan(request('falco', '/nonexistent/falco.jsonl'));
  assert.match(missing.error, /^\/nonexistent\/falco\.jsonl: cannot read/);
  const noTarget = await engine.scan(
    create(ScanRequestedSchema, { scanId: 's', scanner: ScannerKind.RUNTIME }),
  );
  assert.match(noTarget.error, /needs a runtime-events target with a source path \(got no target\)/);
});

test('the completion error carries the skipped-line count so that callers can read it back', async () => {
  const { skippedLineCount } = await import('./index.js');
  const dir = corpusPath('runtime', 'falco-alerts', 'alerts-with-summary-lines');
  const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
    non_alert_lines: number[];
  };
  const result = await runtimeIngestEngine({ clock }).scan(request('falco', join(dir, 'falco.log')));
  assert.equal(skippedLineCount(result.error), expected.non_alert_lines.length);
  assert.equal(skippedLineCount(''), 0);
});
