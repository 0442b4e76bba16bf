// `vigil report` over the real reporting projection, the embedded event log and a fresh database of the real
// Postgres: one image scan of three findings named after the corpus's OSV records, two of them accepted by one
// exception. Every format of one snapshot shows the deployment's evidence key fingerprint (the data dir's key,
// made on first use as for the HTML report), and the table words what the exception column counts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ComplianceReportSchema,
  FindingReportedSchema,
  ScanCompletedSchema,
  ScannerKind,
  ScanStatus,
  create,
  encodeEnvelope,
  fromReportJson,
  newEnvelope,
  timestampFromDate,
  topicFor,
  type EventEnvelope,
} from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import { exceptionRecorded, requirementsCsv, reportFromContent } from '@vigil/report';
import type { ReportingStore } from '@vigil/store';
import type { Output } from '../output.js';
import {
  RECORDS,
  findingOf,
  image,
  producer,
  scope,
  startReporting,
  type ReportingPipeline,
} from './reporting-pipeline.spec-helper.js';
import { SIGNING_KEY_FILE, loadSigningKey } from './evidence.command.js';
import { reportCommand, type ReportFormat } from './report.command.js';

function capture(): Output & { results: string[]; warnings: string[] } {
  const results: string[] = [];
  const warnings: string[] = [];
  return {
    results,
    warnings,
    result: (t) => results.push(t),
    progress: () => undefined,
    warn: (l) => warnings.push(l),
  };
}

let t = Date.parse('2026-11-30T10:00:00Z');
const clock = () => new Date((t += 1000));

function envelope(payload: Parameters<typeof newEnvelope>[0]['payload'], subjectKey: string) {
  return newEnvelope({ payload, scope, subjectKey, producer, clock });
}

describe('vigil report', () => {
  let store: ReportingStore;
  let log: EventLog;
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-report-cmd-'));
  const exceptionId = 'exc-00000000-0000-4000-8000-000000000001';
  let fingerprint = '';
  let pipeline: ReportingPipeline | undefined;
  const caughtUp = () => pipeline!.caughtUp();
  const publish = (events: EventEnvelope[]) =>
    log.publish(events.map((e) => ({ topic: topicFor(e), key: e.subjectKey, value: encodeEnvelope(e) })));

  before(async () => {
    pipeline = await startReporting('vigil_report_cli');
    ({ store, log } = pipeline);

    const files = readdirSync(RECORDS)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .slice(0, 3);
    const findings = files.map(findingOf);
    // One exception accepts two of the three findings, for every requirement.
    const accepted = exceptionRecorded({
      cluster: scope.cluster,
      selector: { findingIds: [findings[0]!.id, findings[1]!.id] },
      owner: 'payments-platform',
      justification: 'base image rebuild scheduled',
      approver: 'ciso@acme.example',
      expiresAt: new Date('2027-05-31T23:59:59Z'),
      now: new Date(t),
      newId: () => exceptionId,
    });
    await publish([envelope({ case: 'exceptionRecorded', value: accepted }, exceptionId)]);
    await caughtUp();
    await publish([
      ...findings.map((finding) =>
        envelope(
          { case: 'findingReported', value: create(FindingReportedSchema, { scanId: 'scan-1', finding }) },
          finding.id,
        ),
      ),
      envelope(
        {
          case: 'scanCompleted',
          value: create(ScanCompletedSchema, {
            scanId: 'scan-1',
            scanner: ScannerKind.IMAGE,
            scope,
            targetKey: image,
            status: ScanStatus.OK,
            findingIds: findings.map((f) => f.id),
            startedAt: timestampFromDate(clock()),
            completedAt: timestampFromDate(clock()),
          }),
        },
        image,
      ),
    ]);
    await caughtUp();
  });
  after(async () => {
    await pipeline?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function report(format: ReportFormat, withKey = true) {
    const out = capture();
    const code = await reportCommand({
      store,
      cluster: scope.cluster,
      format,
      toolVersion: '0.1.0',
      ...(withKey
        ? {
            keyFingerprint: async () => {
              const key = await loadSigningKey({ dataDir, command: 'vigil report' });
              fingerprint = key.fingerprint;
              return key.fingerprint;
            },
          }
        : {}),
      policy: { ignores: [], now: new Date() },
      out,
    });
    assert.equal(code, 0);
    return out;
  }

  it('ends the table with the fingerprint of the key it made on first use, as vigil evidence key prints it', async () => {
    assert.equal(existsSync(join(dataDir, SIGNING_KEY_FILE)), false);
    const out = await report('table');
    assert.equal(existsSync(join(dataDir, SIGNING_KEY_FILE)), true);
    assert.equal(fingerprint, (await loadSigningKey({ dataDir })).fingerprint);
    assert.match(fingerprint, /^sha256:[0-9a-f]{64}$/);
    const lines = out.results[0]!.trimEnd().split('\n');
    assert.equal(lines.at(-1), `Evidence key ${fingerprint} (vigil evidence key)`);
    assert.equal(
      lines.at(-2),
      'Findings: 1 open (0 CRITICAL · 1 HIGH · 0 MEDIUM · 0 LOW · 0 UNKNOWN), 2 accepted',
    );
  });

  it('words the exception note of a requirement as what it counts: findings, and the exceptions accepting them', async () => {
    const table = (await report('table')).results[0]!.replace(/\n {43}/g, ' ');
    const row = table.split('\n').find((l) => l.startsWith('  6.3.1 '));
    assert.ok(row, table);
    assert.match(row, new RegExp(`\\(2 findings accepted by 1 exception: ${exceptionId}\\)$`));
    assert.doesNotMatch(table, /accepted risk/);
  });

  it('puts the fingerprint beside the JSON report, leaving the snapshot and its hash as stored', async () => {
    const json = JSON.parse((await report('json')).results[0]!) as Record<string, unknown>;
    assert.equal(json['evidenceKeyFingerprint'], fingerprint);
    const stored = await store.latestSnapshot(scope.cluster);
    assert.ok(stored);
    assert.equal(json['contentHash'], stored.contentHash);
    const { evidenceKeyFingerprint: _, ...rest } = json;
    assert.deepEqual(rest, JSON.parse((await report('json', false)).results[0]!));
    // A reader of the report JSON (vigil ci --baseline) takes the extra field as a newer writer's.
    const read = fromReportJson(ComplianceReportSchema, json, { ignoreUnknownFields: true });
    assert.equal(read.findings.length, 3);
  });

  it('puts it in SARIF run.properties and in every JUnit suite, and on stderr beside a CSV left as the bundle has it', async () => {
    const sarif = JSON.parse((await report('sarif')).results[0]!) as {
      runs: { properties: Record<string, unknown> }[];
    };
    assert.equal(sarif.runs[0]!.properties['vigil-evidence-key-fingerprint'], fingerprint);

    const junit = (await report('junit')).results[0]!;
    const suites = junit.match(/<testsuite /g)?.length ?? 0;
    assert.ok(suites > 0);
    assert.equal(
      junit.split(`<property name="vigil.evidence-key.fingerprint" value="${fingerprint}"/>`).length - 1,
      suites,
    );

    const csv = await report('csv');
    const stored = await store.latestSnapshot(scope.cluster);
    assert.ok(stored);
    const content = reportFromContent(stored.content, stored.contentHash);
    assert.equal(csv.results[0], requirementsCsv({ ...content, contentHash: stored.contentHash }));
    assert.doesNotMatch(csv.results[0]!, /sha256:[0-9a-f]{64}/);
    assert.deepEqual(csv.warnings, [`vigil report: evidence key ${fingerprint} (vigil evidence key)`]);
  });
});
