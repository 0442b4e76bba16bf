// `vigil ack` on a fresh database of the real Postgres (DATABASE_URL, else the local one), migrated, with a runtime
// finding the real ingest engine raised from a corpus file stored through the real reporting store: a known id is
// acknowledged on the log, an unknown well-formed id exits 2 "no such finding" and publishes nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import {
  ExceptionRecordedSchema,
  ExceptionRevokedSchema,
  FindingReportedSchema,
  FindingSchema,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  toBinary,
  topicFor,
  type Finding,
} from '@vigil/contracts';
import type { ConsumedRecord, EventLog, LogRecord } from '@vigil/event-log';
import { ingestEvents } from '@vigil/runtime-rules';
import { createSql, openReportingStore, runMigrations, type ReportingStore, type Sql } from '@vigil/store';
import { corpusPath, freshDatabase, type FreshDatabase } from '@vigil/testing';
import type { Output } from '../output.js';
import { ackCommand } from './ack.command.js';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

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

let db: FreshDatabase;
let sql: Sql;
let store: ReportingStore;
let findingId: string;
let finding: Finding;
// What this test published; `log` is every record on the (in-memory) log, read back by replay as a log would.
const published: LogRecord[] = [];
const log: LogRecord[] = [];
const eventLog = {
  publish: async (records: LogRecord[]) => {
    published.push(...records);
    log.push(...records);
  },
  replay: async (topics: string[], handler: (records: ConsumedRecord[]) => Promise<void>) => {
    const records = log
      .filter((r) => topics.includes(r.topic))
      .map((r, k) => ({ ...r, partition: 0, offset: String(k), headers: {}, timestamp: 0 }));
    if (records.length > 0) await handler(records);
  },
} as unknown as EventLog;

/** An accepted risk on the log, as `vigil exception accept` records it. */
function putException(exceptionId: string, expires: string, cluster = 'prod'): void {
  const env = newEnvelope({
    payload: {
      case: 'exceptionRecorded',
      value: create(ExceptionRecordedSchema, {
        exceptionId,
        scope: { tenant: '', cluster },
        owner: 'payments-platform',
        justification: 'break-glass sessions are reviewed daily',
        expiresAt: timestampFromDate(new Date(expires)),
      }),
    },
    scope: { tenant: '', cluster },
    subjectKey: exceptionId,
    producer: { service: 'spec', version: '0', instance: 'spec' },
    clock: () => new Date('2026-12-01T09:00:00Z'),
  });
  log.push({ topic: topicFor(env), key: exceptionId, value: encodeEnvelope(env) });
}

describe('vigil ack', () => {
  before(async () => {
    db = await freshDatabase(ADMIN_URL, 'vigil_ack_cli');
    await runMigrations(db.url);
    sql = createSql(db.url, { max: 2 });
    store = await openReportingStore(db.url);
    const input = readFileSync(
      corpusPath('runtime', 'falco-alerts', 'docs-terminal-shell-critical', 'alerts.jsonl'),
    );
    const { findings } = ingestEvents({
      input,
      format: 'falco',
      clock: () => new Date('2026-12-01T00:00:00Z'),
      cluster: 'prod',
    });
    assert.ok(findings[0], 'the corpus case raises a finding');
    finding = findings[0];
    findingId = finding.id;
    await store.inTransaction((tx) =>
      tx.upsertFinding({
        scope: 'prod',
        findingId,
        source: 'runtime',
        ruleId: finding.ruleId,
        severity: 'HIGH',
        scanner: 'runtime',
        targetKey: 'runtime-http:prod:falco',
        lastScanId: null,
        assetKey: 'spec',
        pciRequirements: finding.pciRequirements,
        status: 'open',
        firstSeen: new Date('2026-12-01T00:00:00Z'),
        lastSeen: new Date('2026-12-01T00:00:00Z'),
        resolvedAt: null,
        resolvedByScan: null,
        payload: toBinary(FindingSchema, finding),
      }),
    );
  });
  after(async () => {
    await store?.close();
    await sql?.close();
    await db?.drop();
  });

  it('acknowledges a finding the store holds, with a DetectionClosed keyed by its id', async () => {
    const out = capture();
    const code = await ackCommand({
      deployment: { eventLog, sql },
      args: [findingId],
      cluster: 'prod',
      reason: 'approved break-glass session CHG-1234',
      by: 'alice',
      out,
      clock: () => new Date('2026-12-02T10:00:00Z'),
    });
    assert.equal(code, 0);
    assert.equal(published.length, 1);
    assert.equal(published[0]?.key, findingId);
    const env = decodeEnvelope(published[0]!.value);
    assert.equal(env.payload.case, 'detectionClosed');
    assert.match(
      out.results[0] ?? '',
      new RegExp(`^${findingId} acknowledged by alice at 2026-12-02T10:00:00.000Z`),
    );
  });

  it('refuses a well-formed id no finding of the cluster has: exit 2, "no such finding", nothing published', async () => {
    published.length = 0;
    for (const [id, cluster] of [
      ['runtime-0123456789abcdef0123456789abcdef', 'prod'],
      // The right id in another cluster is not that cluster's finding.
      [findingId, 'staging'],
    ] as const) {
      const out = capture();
      const code = await ackCommand({
        deployment: { eventLog, sql },
        args: [id],
        cluster,
        reason: 'typo',
        out,
      });
      assert.equal(code, 2);
      assert.equal(published.length, 0);
      assert.equal(out.results.length, 0);
      assert.match(
        out.warnings.join('\n'),
        new RegExp(`^vigil ack: ${id}: no such finding in cluster "${cluster}"`),
      );
    }
  });

  it('leaves a detection acknowledged and not seen since as it is, and closes it again once it recurs', async () => {
    published.length = 0;
    // The exception the excepted closes cite, on the log as `vigil exception accept` puts it there.
    putException('exc-1', '2027-06-01T00:00:00Z');
    const ack = async (o: { by: string; at: string; exceptionId?: string }) => {
      const out = capture();
      const code = await ackCommand({
        deployment: { eventLog, sql },
        args: [findingId],
        cluster: 'prod',
        reason: 'approved break-glass session CHG-1234',
        by: o.by,
        ...(o.exceptionId ? { exceptionId: o.exceptionId } : {}),
        out,
        clock: () => new Date(o.at),
      });
      assert.equal(code, 0);
      return out.results.join('\n');
    };
    // The first test's close (alice, 10:00) is on the log: a second ack is not published and says so.
    assert.equal(
      await ack({ by: 'bob', at: '2026-12-02T11:00:00Z' }),
      `${findingId} is already acknowledged by alice at 2026-12-02T10:00:00.000Z and not seen since; nothing was published`,
    );
    assert.equal(published.length, 0);

    // Covering it by an exception is a different close: recorded.
    assert.match(
      await ack({ by: 'bob', at: '2026-12-02T11:30:00Z', exceptionId: 'exc-1' }),
      /excepted \(exc-1\) by bob at 2026-12-02T11:30:00.000Z\nnot in a snapshot yet: vigil report shows it from the next snapshot of prod /,
    );
    assert.equal(published.length, 1);
    assert.match(
      await ack({ by: 'carol', at: '2026-12-02T11:40:00Z', exceptionId: 'exc-1' }),
      /is already excepted \(exc-1\) by bob at 2026-12-02T11:30:00.000Z/,
    );
    assert.equal(published.length, 1);

    // The sensor reports it again after the close: the window is open, so acknowledging it is news again.
    const again = create(FindingSchema, {
      ...finding,
      lastSeen: timestampFromDate(new Date('2026-12-02T12:00:00Z')),
    });
    const report = newEnvelope({
      payload: { case: 'findingReported', value: create(FindingReportedSchema, { finding: again }) },
      scope: { tenant: '', cluster: 'prod' },
      subjectKey: findingId,
      producer: { service: 'spec', version: '0', instance: 'spec' },
      clock: () => new Date('2026-12-02T12:00:01Z'),
    });
    log.push({ topic: topicFor(report), key: findingId, value: encodeEnvelope(report) });
    assert.match(
      await ack({ by: 'bob', at: '2026-12-02T12:30:00Z', exceptionId: 'exc-1' }),
      /^runtime-[0-9a-f]{32} excepted \(exc-1\) by bob at 2026-12-02T12:30:00.000Z\n/,
    );
    assert.equal(published.length, 2);
  });

  it('refuses to except a detection under an exception that is not there, was revoked or has expired', async () => {
    putException('exc-revoked', '2027-06-01T00:00:00Z');
    const revoke = newEnvelope({
      payload: {
        case: 'exceptionRevoked',
        value: create(ExceptionRevokedSchema, {
          exceptionId: 'exc-revoked',
          scope: { tenant: '', cluster: 'prod' },
          revokedBy: 'ciso',
          reason: 'the control was removed',
        }),
      },
      scope: { tenant: '', cluster: 'prod' },
      subjectKey: 'exc-revoked',
      producer: { service: 'spec', version: '0', instance: 'spec' },
      clock: () => new Date('2026-12-02T13:00:00Z'),
    });
    log.push({ topic: topicFor(revoke), key: 'exc-revoked', value: encodeEnvelope(revoke) });
    putException('exc-lapsed', '2026-12-02T00:00:00Z');
    // Recorded for another cluster: not one of prod's.
    putException('exc-staging', '2027-06-01T00:00:00Z', 'staging');
    published.length = 0;
    for (const [exceptionId, says] of [
      ['exc-bogus', 'is not an exception of cluster "prod"'],
      ['exc-staging', 'is not an exception of cluster "prod"'],
      ['exc-revoked', 'was revoked'],
      ['exc-lapsed', 'expired at 2026-12-02T00:00:00.000Z'],
    ] as const) {
      const out = capture();
      const code = await ackCommand({
        deployment: { eventLog, sql },
        args: [findingId],
        cluster: 'prod',
        reason: 'covered',
        by: 'mallory',
        exceptionId,
        out,
        clock: () => new Date('2026-12-02T14:00:00Z'),
      });
      assert.equal(code, 2, exceptionId);
      assert.deepEqual(out.warnings, [
        `vigil ack: ${findingId}: --exception ${exceptionId} ${says} (vigil exception list shows them); nothing was published`,
      ]);
    }
    assert.equal(published.length, 0);
  });
});
