// `vigil snapshots [create]`, `vigil diff` and `vigil reporting rebuild` over the real reporting projection, the
// embedded event log and a fresh database of the real Postgres; findings named after the corpus's OSV records.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  FindingReportedSchema,
  ScanCompletedSchema,
  ScannerKind,
  ScanStatus,
  create,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  topicFor,
  type EventEnvelope,
} from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import type { ReportingStore, Sql } from '@vigil/store';
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
import { UsageError } from '../usage-error.js';
import { diffCommand } from './diff.command.js';
import { knownClusters, requireKnownCluster } from './known-cluster.js';
import { reportingCommand } from './reporting.command.js';
import { snapshotCreateCommand, snapshotsCommand, type SnapshotRow } from './snapshots.command.js';

function capture(): Output & { results: string[] } {
  const results: string[] = [];
  return { results, result: (t) => results.push(t), progress: () => undefined, warn: () => undefined };
}

let t = Date.parse('2026-11-30T10:00:00Z');
const clock = () => new Date((t += 1000));

function scanEvents(scanId: string, findings: ReturnType<typeof findingOf>[]): EventEnvelope[] {
  return [
    ...findings.map((finding) =>
      newEnvelope({
        payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding }) },
        scope,
        subjectKey: finding.id,
        producer,
        clock,
      }),
    ),
    newEnvelope({
      payload: {
        case: 'scanCompleted',
        value: create(ScanCompletedSchema, {
          scanId,
          scanner: ScannerKind.IMAGE,
          scope,
          targetKey: image,
          status: ScanStatus.OK,
          findingIds: findings.map((f) => f.id),
          startedAt: timestampFromDate(clock()),
          completedAt: timestampFromDate(clock()),
        }),
      },
      scope,
      subjectKey: image,
      producer,
      clock,
    }),
  ];
}

describe('vigil snapshots, diff and reporting rebuild', () => {
  let sql: Sql;
  let store: ReportingStore;
  let log: EventLog;
  let pipeline: ReportingPipeline | undefined;
  const caughtUp = () => pipeline!.caughtUp();

  before(async () => {
    pipeline = await startReporting('vigil_snapshots_cli');
    ({ sql, store, log } = pipeline);
  });
  after(async () => {
    await pipeline?.close();
  });

  it('lists versions with their trigger, cuts one on request, diffs a fix and rebuilds every hash', async () => {
    const files = readdirSync(RECORDS)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .slice(0, 3);
    const findings = files.map(findingOf);
    const publish = (events: EventEnvelope[]) =>
      log.publish(events.map((e) => ({ topic: topicFor(e), key: e.subjectKey, value: encodeEnvelope(e) })));
    await publish(scanEvents('scan-1', findings));
    await caughtUp();
    // The fix: the second scan of the same image no longer lists the first record's finding.
    await publish(scanEvents('scan-2', findings.slice(1)));
    await caughtUp();

    const out = capture();
    const made = await snapshotCreateCommand({
      store,
      eventLog: log,
      scope: 'payments-prod',
      requestedBy: 'cli:spec',
      waitUntilCaughtUp: caughtUp,
      format: 'json',
      out,
    });
    assert.equal(made, 0);
    const created = JSON.parse(out.results[0]!) as { version: number; requestId: string };
    assert.equal(created.version, 3);
    // The scope is known from its events; a request alone does not make a scope known (see known-cluster.ts).
    assert.deepEqual(await knownClusters(sql), ['payments-prod']);
    await assert.rejects(
      requireKnownCluster(sql, 'payments-prdo', 'vigil snapshots create'),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          'vigil snapshots create: cluster "payments-prdo" has no recorded events; the clusters with recorded events are payments-prod; nothing was published',
    );

    const list = capture();
    assert.equal(
      await snapshotsCommand({ store, sql, scope: 'payments-prod', format: 'json', out: list }),
      0,
    );
    const rows = (JSON.parse(list.results[0]!) as { snapshots: SnapshotRow[] }).snapshots;
    assert.deepEqual(
      rows.map((r) => [r.version, r.trigger.kind, r.findings.total]),
      [
        [1, 'scan', 3],
        [2, 'scan', 2],
        [3, 'request', 2],
      ],
    );
    assert.deepEqual(rows[2]!.trigger, {
      kind: 'request',
      requestIds: [created.requestId],
      by: ['cli:spec'],
    });
    assert.equal(rows[1]!.previousHash, rows[0]!.contentHash);
    const table = capture();
    await snapshotsCommand({ store, sql, scope: 'payments-prod', format: 'table', out: table });
    // A filter that names a cluster with no recorded events is refused, not answered with an empty list.
    const typo = capture();
    await assert.rejects(
      snapshotsCommand({ store, sql, scope: 'payments-prdo', format: 'table', out: typo }),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          'vigil snapshots: cluster "payments-prdo" has no recorded events; the clusters with recorded events are payments-prod; nothing to list',
    );
    assert.deepEqual(typo.results, []);
    assert.match(
      table.results[0]!,
      /payments-prod\s+2\s+\S+\s+sha256:[0-9a-f]{12}\s+0\s+2\s+0\s+0\s+0\s+2\s+scan scan-2/,
    );

    const diff = capture();
    assert.equal(
      await diffCommand({ store, scope: 'payments-prod', from: '1', to: '2', format: 'table', out: diff }),
      0,
    );
    assert.match(diff.results[0]!, /0 added, 1 resolved, 0 changed finding\(s\)/);
    assert.match(diff.results[0]!, new RegExp(`- ${findings[0]!.id} `));
    await assert.rejects(
      diffCommand({ store, scope: 'payments-prod', from: '1', to: 'x', format: 'table', out: diff }),
      (e: unknown) => e instanceof UsageError && /"x" is not a snapshot version/.test(e.message),
    );
    await assert.rejects(
      diffCommand({ store, scope: 'payments-prod', from: '1', to: '9', format: 'table', out: diff }),
      /scope payments-prod has no snapshot version 9/,
    );

    const rebuild = capture();
    const base = {
      sub: 'rebuild',
      store,
      eventLog: log,
      entityType: 'merchant' as const,
      format: 'table' as const,
    };
    assert.equal(await reportingCommand({ ...base, out: rebuild }), 0);
    assert.deepEqual(
      rebuild.results.slice(0, 3).map((l) => l.replace(/ sha256:.*/, '')),
      ['payments-prod v1 ok', 'payments-prod v2 ok', 'payments-prod v3 ok'],
    );
    assert.match(
      rebuild.results[3]!,
      /3 version\(s\) checked from \d+ stored event\(s\): every content hash reproduced/,
    );
    assert.equal((await store.findingsForScope('payments-prod', 'resolved')).length, 1);

    // An event gone from the store (here: the first scan's report of the finding the fix resolved) means version 1
    // no longer comes out of the replay: the version is named with both hashes, and the exit code is 1.
    const gone = await sql.query(
      `DELETE FROM events WHERE event_type = 'vigil.v1.FindingReported' AND subject_key = $1`,
      [findings[0]!.id],
    );
    assert.equal(gone.rowCount, 1);
    const broken = capture();
    assert.equal(await reportingCommand({ ...base, out: broken }), 1);
    assert.match(
      broken.results.join('\n'),
      new RegExp(
        `payments-prod v1 MISMATCH: stored ${rows[0]!.contentHash}, replay gives sha256:[0-9a-f]{64}`,
      ),
    );
    assert.match(broken.results.at(-1)!, /3 version\(s\) checked .*: [1-3] mismatch\(es\)/);
    await assert.rejects(reportingCommand({ ...base, sub: 'rebuilt', out: broken }), UsageError);
  });
});
