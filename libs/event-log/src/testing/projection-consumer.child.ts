// A consumer in its own process, for the contract suite's SIGKILL case. It applies each record to a projection
// table in the same transaction as an idempotency row (event id), commits records one by one, and on the record
// named by VIGIL_CHILD_HANG_ON applies it, says so on stdout and then never returns from the handler: the parent
// kills it with SIGKILL between "applied" and "offset committed".
import { createSql } from '@vigil/store';
import type { EventLog } from '../event-log.port.js';
import { createEmbeddedEventLog } from '../embedded.adapter.js';
import { createKafkaEventLog } from '../kafka.adapter.js';
import { applyToProjection, decodeTestEvent } from './projection.js';

function env(name: string): string {
  const v = process.env[name];
  if (!v) {
    console.error(`projection-consumer: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const adapter = env('VIGIL_CHILD_ADAPTER');
const sql = createSql(env('DATABASE_URL'), { max: 3, applicationName: 'vigil:event-log-child' });
const quiet = {
  info: () => undefined,
  warn: (m: string) => console.error(m),
  error: (m: string) => console.error(m),
};
let log: EventLog;
if (adapter === 'kafka') {
  log = createKafkaEventLog({
    brokers: env('KAFKA_BROKERS').split(','),
    clientId: 'vigil-contract-child',
    sessionTimeoutMs: Number(env('VIGIL_CHILD_SESSION_MS')),
    logger: quiet,
  });
} else if (adapter === 'embedded') {
  log = createEmbeddedEventLog({
    sql,
    schema: env('VIGIL_CHILD_SCHEMA'),
    sessionTimeoutMs: Number(env('VIGIL_CHILD_SESSION_MS')),
    logger: quiet,
  });
} else {
  console.error(`projection-consumer: VIGIL_CHILD_ADAPTER must be kafka or embedded, got "${adapter}"`);
  process.exit(2);
}

const table = env('VIGIL_CHILD_TABLE');
const hangOn = env('VIGIL_CHILD_HANG_ON');

const sub = await log.subscribe({
  group: env('VIGIL_CHILD_GROUP'),
  topics: [env('VIGIL_CHILD_TOPIC')],
  maxBatchSize: 1,
  handler: async (records) => {
    for (const r of records) {
      const event = decodeTestEvent(r.value);
      await applyToProjection(sql, table, event, r);
      if (event.id === hangOn) {
        process.stdout.write(`APPLIED ${event.id} ${r.partition} ${r.offset}\n`);
        await new Promise<never>(() => undefined);
      }
      process.stdout.write(`HANDLED ${event.id}\n`);
    }
  },
});
await sub.ready;
process.stdout.write('READY\n');
