// The text both `vigil diff` and `vigil report --diff` print, from a real diff of two reports: statuses as words;
// and from snapshots of corpus sensor files read by the real runtime-ingest engine and folded by the real fold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ComplianceReportSchema,
  FindingSchema,
  FindingSource,
  RequirementStatus,
  RuntimeEventsTargetSchema,
  ScanRequestedSchema,
  ScannerKind,
  Severity,
  TOPICS,
  TargetKind,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type EventEnvelope,
} from '@vigil/contracts';
import type { EventLog, LogRecord } from '@vigil/event-log';
import { createScanRequestHandler } from '@vigil/nest-kit';
import { buildSnapshot, diffSnapshots, fold, pciCatalog, type Snapshot } from '@vigil/report';
import { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from '@vigil/runtime-ingest';
import { setLogLevel } from '@vigil/telemetry';
import { corpusPath } from '@vigil/testing';
import { diffText } from './diff.command.js';

setLogLevel('silent');

const scope = { tenant: '', cluster: 'prod' };
const privileged = create(FindingSchema, {
  id: 'config-5f0e1b7c2a9d4e3f8b6a1c0d2e4f6a8b',
  source: FindingSource.CONFIG,
  ruleId: 'k8s/privileged',
  title: 'Deployment/payments/tokenizer runs a privileged container',
  severity: Severity.HIGH,
  pciRequirements: ['2.2.1'],
});

test('diffText names statuses in words and lists the resolved finding', () => {
  const before = create(ComplianceReportSchema, {
    scope,
    snapshotVersion: 1,
    contentHash: 'sha256:' + 'a'.repeat(64),
    requirements: [
      { id: '2.2.1', status: RequirementStatus.NOT_IN_PLACE, findingIds: [privileged.id] },
      { id: '10.2.1', status: RequirementStatus.NOT_TESTED },
    ],
    findings: [privileged],
  });
  const after = create(ComplianceReportSchema, {
    scope,
    snapshotVersion: 3,
    contentHash: 'sha256:' + 'b'.repeat(64),
    previousHash: 'sha256:' + 'a'.repeat(64),
    requirements: [
      { id: '2.2.1', status: RequirementStatus.IN_PLACE },
      { id: '10.2.1', status: RequirementStatus.NOT_TESTED },
    ],
  });
  const text = diffText(diffSnapshots(before, after), 'prod', 1, 3);
  assert.deepEqual(text.split('\n'), [
    'scope prod, version 1 → 3: 0 added, 1 resolved, 0 changed finding(s); 1 requirement status change(s)',
    `  - ${privileged.id}  k8s/privileged  Deployment/payments/tokenizer runs a privileged container`,
    '  requirement 2.2.1: not_in_place → in_place',
  ]);
});

/** What the runtime ingest publishes for one sensor file (findings, completion), decoded. */
async function ingested(
  format: 'falco' | 'tetragon',
  file: string,
  scanId: string,
): Promise<EventEnvelope[]> {
  const out: EventEnvelope[] = [];
  const log = {
    async publish(records: LogRecord[]) {
      for (const r of records) out.push(decodeEnvelope(r.value));
    },
  } as unknown as EventLog;
  const handler = createScanRequestHandler({
    engine: runtimeIngestEngine(),
    eventLog: log,
    identity: { service: 'vigil', version: '0', instance: 'spec' },
    group: RUNTIME_INGEST_GROUP,
  });
  const scope = { tenant: '', cluster: 'default' };
  const request = newEnvelope({
    payload: {
      case: 'scanRequested',
      value: create(ScanRequestedSchema, {
        scanId,
        scanner: ScannerKind.RUNTIME,
        scope,
        target: {
          kind: TargetKind.RUNTIME_EVENTS,
          key: file,
          ref: { case: 'runtimeEvents', value: create(RuntimeEventsTargetSchema, { format, source: file }) },
        },
        requestedBy: 'spec',
      }),
    },
    scope,
    subjectKey: file,
    producer: { service: 'spec', version: '0', instance: 'spec' },
  });
  await handler([
    {
      topic: TOPICS.scanRequests.runtime,
      key: file,
      value: encodeEnvelope(request),
      partition: 0,
      offset: '0',
      headers: {},
      timestamp: 0,
    } as never,
  ]);
  return out;
}

function snapshotOf(events: readonly EventEnvelope[], previous?: Snapshot): Snapshot {
  return buildSnapshot({
    state: fold(events),
    scope: { cluster: 'default' },
    catalog: pciCatalog(),
    entityType: 'merchant',
    logPosition: [{ topic: TOPICS.findings.runtime, partition: 0, offset: String(events.length) }],
    createdAt: new Date('2026-12-01T00:00:00Z'),
    ...(previous ? { previous } : {}),
  });
}

test('diffText says a runtime detection closed by the quiet period is closed, not resolved (corpus files)', async () => {
  // Tetragon's 2022 lifecycle file first, then the 2026 Falco intrusion: the Tetragon detections are now more than
  // seven days older than the scope's newest runtime event.
  const tetragon = await ingested(
    'tetragon',
    corpusPath('runtime', 'tetragon', 'lifecycle-secret-read-and-reverse-shell', 'events.jsonl'),
    'scan-tetragon',
  );
  const falco = await ingested(
    'falco',
    corpusPath('runtime', 'falco-alerts', 'constructed-payments-pod-intrusion', 'alerts.jsonl'),
    'scan-falco',
  );
  const v1 = snapshotOf(tetragon);
  const v2 = snapshotOf([...tetragon, ...falco], v1);
  assert.deepEqual(v1.report.findings.map((f) => f.ruleId).sort(), [
    'runtime/sensitive-file-read',
    'runtime/shell-in-container',
    'runtime/unexpected-egress',
  ]);
  const d = diffSnapshots(v1, v2);
  assert.equal(d.findings?.resolved.length, 3);
  assert.deepEqual(d.findings?.closedQuietIds, v1.report.findings.map((f) => f.id).sort());

  const lines = diffText(d, 'default', 1, 2).split('\n');
  assert.equal(
    lines[0],
    `scope default, version 1 → 2: 12 added, 0 resolved, 3 closed (quiet for 7 days), 0 changed finding(s); ` +
      `${d.requirements.length} requirement status change(s)`,
  );
  const closed = lines.filter((l) => l.startsWith('  - '));
  assert.equal(closed.length, 3);
  for (const f of v1.report.findings) {
    const line = closed.find((l) => l.startsWith(`  - ${f.id}  ${f.ruleId}  ${f.title}  `));
    assert.ok(line, `${f.id} listed`);
    assert.match(line, /  closed \(quiet for 7 days\), last seen 2022-02-01T18:01:5\d\.\d{3}Z$/);
  }
  assert.equal(lines.filter((l) => l.startsWith('  + ')).length, 12);

  // The other way round, nothing is quiet: the Falco detections were added to a scope whose newest events they are.
  const w1 = snapshotOf(falco);
  const w2 = snapshotOf([...falco, ...tetragon], w1);
  const back = diffSnapshots(w1, w2);
  assert.deepEqual(back.findings?.closedQuietIds, []);
  assert.match(
    diffText(back, 'default', 1, 2).split('\n')[0]!,
    /: 0 added, 0 resolved, 0 changed finding\(s\)/,
  );
});
