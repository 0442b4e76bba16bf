// The reporting side for the command specs: a fresh database of the real Postgres, migrated, the embedded log on it
// with every topic, and the real projection consuming it as the reporting service does; and image findings made
// from the corpus's OSV records.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ALL_TOPICS, FindingSchema, FindingSource, Severity, create } from '@vigil/contracts';
import { createEmbeddedEventLog, type EventLog } from '@vigil/event-log';
import { pciCatalog } from '@vigil/report';
import { REPORTING_TOPICS, ReportingProjection, SnapshotMaker } from '@vigil/reporting';
import { createSql, openReportingStore, runMigrations, type ReportingStore, type Sql } from '@vigil/store';
import { freshDatabase, type FreshDatabase } from '@vigil/testing';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
export const RECORDS = join(process.cwd(), '../../../shared/corpus/image/advisories/records');
export const scope = { tenant: '', cluster: 'payments-prod' };
export const producer = { service: 'test', version: '0', instance: 'spec' };
export const image = 'registry.example.com/acme/payment-api:1.4.2';

/** An image finding for one corpus OSV record, on the spec's image. */
export function findingOf(file: string) {
  const r = JSON.parse(readFileSync(join(RECORDS, file), 'utf8')) as {
    id: string;
    aliases?: string[];
    affected: { package: { ecosystem: string; name: string } }[];
  };
  const pkg = r.affected[0]!.package;
  return create(FindingSchema, {
    id: `image-${r.id}`,
    source: FindingSource.IMAGE,
    ruleId: r.aliases?.find((a) => a.startsWith('CVE-')) ?? r.id,
    title: `${r.id} in ${pkg.name}`,
    severity: Severity.HIGH,
    pciRequirements: ['6.3.1', '11.3.1'],
    asset: { cluster: scope.cluster, imageRef: image },
    package: { ecosystem: pkg.ecosystem, name: pkg.name, version: '0.0.1' },
  });
}

export interface ReportingPipeline {
  db: FreshDatabase;
  sql: Sql;
  store: ReportingStore;
  log: EventLog;
  /** Resolves once the projection has consumed everything on the log. */
  caughtUp(): Promise<void>;
  close(): Promise<void>;
}

export async function startReporting(databasePrefix: string): Promise<ReportingPipeline> {
  const db = await freshDatabase(ADMIN_URL, databasePrefix);
  await runMigrations(db.url);
  const sql = createSql(db.url, { max: 4 });
  const store = await openReportingStore(db.url);
  const log = createEmbeddedEventLog({ sql });
  await log.ensureTopics(ALL_TOPICS.map((x) => ({ name: x.name, partitions: x.partitions })));
  const projection = new ReportingProjection({
    store,
    eventLog: log,
    producer,
    snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date()),
    logger: { info: () => undefined, warn: () => undefined },
  });
  const sub = await log.subscribe({
    group: 'spec.reporting',
    topics: REPORTING_TOPICS,
    handler: projection.handle,
  });
  await sub.ready;
  return {
    db,
    sql,
    store,
    log,
    async caughtUp() {
      for (let i = 0; i < 400; i++) {
        const lag = await log.lag('spec.reporting', REPORTING_TOPICS);
        if (lag.every((l) => l.lag === 0)) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('reporting never caught up');
    },
    async close() {
      await sub.stop();
      await log.close();
      await store.close();
      await sql.close();
      await db.drop();
    },
  };
}
