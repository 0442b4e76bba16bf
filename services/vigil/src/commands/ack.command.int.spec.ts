// `vigil ack` on a fresh database of the real Postgres (DATABASE_URL, else the local one), migrated, with a runtime
// finding the real ingest engine raised from a corpus file stored through the real reporting store: a known id is
// acknowledged on the log, an unknown well-formed id exits 2 "no such finding" and publishes nothing.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FindingSchema, decodeEnvelope, toBinary } from '@vigil/contracts';
import type { EventLog, LogRecord } from '@vigil/event-log';
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
const published: LogRecord[] = [];
const eventLog = {
  publish: async (records: LogRecord[]) => {
    published.push(...records);
  },
} as unknown as EventLog;

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
    const finding = findings[0];
    assert.ok(finding, 'the corpus case raises a finding');
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
});
