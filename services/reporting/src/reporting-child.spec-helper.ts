// The reporting projection as a process of its own, for the SIGKILL acceptance test: it consumes the embedded log
// at LOG_URL into the reporting database at STORE_URL as consumer group GROUP, and says on stdout when each batch
// begins and ends, so the test can kill it inside one. SIGTERM stops it cleanly.
import { createEmbeddedEventLog } from '@vigil/event-log';
import { pciCatalog } from '@vigil/report';
import { createSql, openReportingStore } from '@vigil/store';
import { REPORTING_TOPICS } from './reporting.module.js';
import { ReportingProjection } from './reporting.projection.js';
import { SnapshotMaker } from './snapshot-maker.js';

const { LOG_URL, STORE_URL, GROUP } = process.env;
if (!LOG_URL || !STORE_URL || !GROUP) {
  process.stderr.write('reporting-child: LOG_URL, STORE_URL and GROUP must be set\n');
  process.exit(2);
}
const sql = createSql(LOG_URL);
const log = createEmbeddedEventLog({ sql });
const store = await openReportingStore(STORE_URL);
const projection = new ReportingProjection({
  store,
  eventLog: log,
  producer: { service: 'reporting', version: '0', instance: `child-${process.pid}` },
  snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date()),
  logger: { info: () => undefined, warn: (m) => process.stderr.write(`${m}\n`) },
});
let batches = 0;
const sub = await log.subscribe({
  group: GROUP,
  topics: REPORTING_TOPICS,
  maxBatchSize: 500,
  handler: async (records) => {
    const n = ++batches;
    process.stdout.write(`begin ${n} ${records.length}\n`);
    await projection.handle(records);
    process.stdout.write(`end ${n}\n`);
  },
});
await sub.ready;
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void (async () => {
    await sub.stop();
    await log.close();
    await sql.close();
    await store.close();
    process.exit(0);
  })();
});
