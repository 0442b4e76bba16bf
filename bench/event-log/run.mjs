#!/usr/bin/env node
// bench/event-log: publishes and consumes N small events through each EventLog adapter and prints events/s,
// beside Kafka's own ProducerPerformance / ConsumerPerformance on the same broker in the same run, with the same
// record size and acks=-1. Not a test: it prints figures. Runs against the compiled packages (npm run build first).
//
//   node bench/event-log/run.mjs                 # 200,000 events of 100 bytes
//   EVENTS=50000 RECORD_SIZE=200 node bench/event-log/run.mjs
//
// Environment: KAFKA_BROKERS (default 127.0.0.1:9092), DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres),
// EVENTS, RECORD_SIZE, PARTITIONS (default 6), PUBLISH_BATCH (records per publish call, default 5000),
// SKIP=kafka|embedded|tools (comma list).
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEmbeddedEventLog, createKafkaEventLog } from '@vigil/event-log';
import { createDatabase, createSql, dropDatabase, withDatabase } from '@vigil/store';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const int = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench/event-log: ${name} must be a positive integer, got "${process.env[name]}"`);
    process.exit(2);
  }
  return v;
};
const EVENTS = int('EVENTS', 200_000);
const RECORD_SIZE = int('RECORD_SIZE', 100);
const PARTITIONS = int('PARTITIONS', 6);
const PUBLISH_BATCH = int('PUBLISH_BATCH', 5000);
const skip = new Set((process.env.SKIP ?? '').split(',').filter(Boolean));
const lib = join(root, 'infra/local/.kafka/lib');
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: (m) => console.error(`  [event-log] ${m}`),
};

// Same value bytes for every record, like ProducerPerformance's payload; the key (the port requires one, the
// Kafka tool sends none) spreads records over partitions and adds 10 bytes.
const value = new Uint8Array(RECORD_SIZE).map((_, i) => 97 + (i % 26));
function records(topic, from, to) {
  const out = [];
  for (let i = from; i < to; i++) out.push({ topic, key: `k${String(i % 10_000).padStart(9, '0')}`, value });
  return out;
}

async function publishAll(log, topic) {
  const started = process.hrtime.bigint();
  // Two calls in flight: one being encoded and sent while the previous one waits for its acks.
  const inFlight = [];
  for (let i = 0; i < EVENTS; i += PUBLISH_BATCH) {
    inFlight.push(log.publish(records(topic, i, Math.min(EVENTS, i + PUBLISH_BATCH))));
    if (inFlight.length >= 2) await inFlight.shift();
  }
  await Promise.all(inFlight);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

async function consumeAll(log, topic, group, maxBatchSize) {
  const started = process.hrtime.bigint();
  let n = 0;
  let finish;
  const done = new Promise((r) => (finish = r));
  const sub = await log.subscribe({
    group,
    topics: [topic],
    maxBatchSize,
    handler: async (batch) => {
      n += batch.length;
      if (n >= EVENTS) finish();
    },
  });
  await done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await sub.stop();
  return seconds;
}

function java(mainClass, args) {
  const r = spawnSync('java', ['-Xmx512m', '-cp', `${lib}/*`, mainClass, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${mainClass} failed (${r.status}): ${r.stderr || r.stdout}`);
  return r.stdout;
}

const results = [];
const rate = (s) => EVENTS / s;
const fmt = (x) => Math.round(x).toLocaleString('en-US');

async function benchKafka() {
  const log = createKafkaEventLog({ brokers, clientId: 'vigil-bench', logger: quiet, tracing: true });
  try {
    const topic = `bench.event-log.kafka.${randomUUID().slice(0, 8)}`;
    await log.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
    const pub = await publishAll(log, topic);
    const con = await consumeAll(log, topic, `bench.${randomUUID().slice(0, 8)}`, 5000);
    results.push({ what: 'kafka adapter', produce: rate(pub), consume: rate(con) });
  } finally {
    await log.close();
  }
}

function benchTools() {
  if (!existsSync(lib) || !readdirSync(lib).some((f) => f.startsWith('kafka-tools-'))) {
    throw new Error(
      `no kafka-tools jar in ${lib}: run bash infra/local/kafka.sh start (it fetches the jars)`,
    );
  }
  return (async () => {
    const log = createKafkaEventLog({ brokers, clientId: 'vigil-bench-admin', logger: quiet });
    const topic = `bench.event-log.tool.${randomUUID().slice(0, 8)}`;
    try {
      await log.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
    } finally {
      await log.close();
    }
    // acks=-1 and idempotence like the adapter; batch.size/linger let the Java client batch about as much per
    // request as one publish call of the adapter does per partition.
    const perPartitionBytes = Math.ceil((PUBLISH_BATCH / PARTITIONS) * (RECORD_SIZE + 10));
    const out = java('org.apache.kafka.tools.ProducerPerformance', [
      '--topic',
      topic,
      '--num-records',
      String(EVENTS),
      '--record-size',
      String(RECORD_SIZE),
      '--throughput',
      '-1',
      '--producer-props',
      `bootstrap.servers=${brokers.join(',')}`,
      'acks=-1',
      'enable.idempotence=true',
      `batch.size=${Math.max(16384, perPartitionBytes)}`,
      'linger.ms=5',
      'compression.type=none',
    ]);
    const line =
      out
        .trim()
        .split('\n')
        .filter((l) => l.includes('records sent'))
        .pop() ?? '';
    const produce = Number((line.match(/records sent, ([\d.]+) records\/sec/) ?? [])[1]);
    const cout = java('org.apache.kafka.tools.ConsumerPerformance', [
      '--bootstrap-server',
      brokers.join(','),
      '--topic',
      topic,
      '--num-records',
      String(EVENTS),
      '--group',
      `bench.tool.${randomUUID().slice(0, 8)}`,
      '--timeout',
      '30000',
    ]);
    // CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
    const row = cout
      .trim()
      .split('\n')
      .pop()
      .split(',')
      .map((s) => s.trim());
    const consume = Number(row[5]);
    if (!(produce > 0) || !(consume > 0))
      throw new Error(`could not read the Kafka tools' figures:\n${out}\n${cout}`);
    results.push({
      what: 'kafka tools (Java)',
      produce,
      consume,
      note: `consume excluding group join: ${fmt(Number(row[9]))}/s`,
    });
  })();
}

async function benchEmbedded() {
  const name = `vigil_bench_evlog_${randomUUID().slice(0, 8)}`;
  await createDatabase(adminUrl, name);
  const sql = createSql(withDatabase(adminUrl, name), { max: 6, applicationName: 'vigil:bench' });
  const log = createEmbeddedEventLog({ sql, logger: quiet });
  try {
    const topic = 'bench.event-log.embedded';
    await log.ensureTopics([{ name: topic, partitions: PARTITIONS }]);
    const pub = await publishAll(log, topic);
    const con = await consumeAll(log, topic, 'bench', 5000);
    results.push({ what: 'embedded adapter', produce: rate(pub), consume: rate(con) });
  } finally {
    await log.close();
    await sql.close();
    await dropDatabase(adminUrl, name);
  }
}

console.log(
  `bench/event-log: ${fmt(EVENTS)} events of ${RECORD_SIZE} bytes, ${PARTITIONS} partitions, acks=-1, ` +
    `${fmt(PUBLISH_BATCH)} records per publish call; Kafka ${brokers.join(',')}, Postgres ${adminUrl.replace(/:[^:@/]*@/, ':***@')}`,
);
if (!skip.has('tools')) await benchTools();
if (!skip.has('kafka')) await benchKafka();
if (!skip.has('embedded')) await benchEmbedded();

console.log('');
console.log(`${'what'.padEnd(20)} ${'produce ev/s'.padStart(14)} ${'consume ev/s'.padStart(14)}`);
for (const r of results)
  console.log(
    `${r.what.padEnd(20)} ${fmt(r.produce).padStart(14)} ${fmt(r.consume).padStart(14)}${r.note ? '   ' + r.note : ''}`,
  );
const tool = results.find((r) => r.what.startsWith('kafka tools'));
const adapter = results.find((r) => r.what === 'kafka adapter');
const embedded = results.find((r) => r.what === 'embedded adapter');
console.log('');
if (tool && adapter) {
  console.log(
    `kafka adapter / kafka tools: produce ${(adapter.produce / tool.produce).toFixed(2)}, consume ${(adapter.consume / tool.consume).toFixed(2)} (goal 0.3 or more)`,
  );
}
if (embedded) {
  const ok = embedded.produce >= 10_000 && embedded.consume >= 10_000;
  console.log(
    `embedded adapter: produce ${fmt(embedded.produce)}/s, consume ${fmt(embedded.consume)}/s (target 10,000/s: ${ok ? 'met' : 'NOT met'})`,
  );
}
