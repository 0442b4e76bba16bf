// The EventLog contract against a real Kafka broker (KAFKA_BROKERS, default 127.0.0.1:9092); the SIGKILL case's
// projection lives in a fresh Postgres database (DATABASE_URL names the server).
import { randomUUID } from 'node:crypto';
import kafkajs from 'kafkajs';
import { createDatabase, createSql, dropDatabase, withDatabase } from '@vigil/store';
import type { EventLogLogger } from './event-log.port.js';
import { createKafkaEventLog } from './kafka.adapter.js';
import { eventLogContract, type AdminView } from './testing/event-log.contract.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
// Kafka's group.min.session.timeout.ms (6 s by default) is the shortest session a broker accepts.
const sessionTimeoutMs = 6000;

const testLogger: EventLogLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: (m) => console.error(`[event-log] ${m}`),
};

eventLogContract(`kafka adapter on ${brokers.join(',')}`, async () => {
  const dbName = `vigil_evlog_kafka_${randomUUID().slice(0, 8)}`;
  await createDatabase(adminUrl, dbName);
  const url = withDatabase(adminUrl, dbName);
  const sql = createSql(url, { max: 5, applicationName: 'vigil:event-log-test' });
  const admin = new kafkajs.Kafka({
    clientId: 'vigil-contract-admin',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  return {
    adapter: 'kafka',
    sessionTimeoutMs,
    sql,
    childEnv: { VIGIL_CHILD_ADAPTER: 'kafka', KAFKA_BROKERS: brokers.join(','), DATABASE_URL: url },
    createLog: async (o) =>
      createKafkaEventLog({
        brokers,
        clientId: 'vigil-contract',
        sessionTimeoutMs,
        heartbeatIntervalMs: 500,
        logger: o?.logger ?? testLogger,
      }),
    createUnreachableLog: ({ logger }) =>
      createKafkaEventLog({
        brokers: ['127.0.0.1:1'],
        clientId: 'vigil-contract-dead',
        logger,
        pingTimeoutMs: 1000,
        connectionTimeoutMs: 500,
      }),
    admin: async (topics, groups): Promise<AdminView> => {
      const cluster = await admin.describeCluster();
      const meta = topics.length ? await admin.fetchTopicMetadata({ topics }) : { topics: [] };
      const offsets: AdminView['offsets'] = [];
      for (const group of groups) {
        for (const t of await admin.fetchOffsets({ groupId: group })) {
          for (const p of t.partitions)
            if (p.offset !== '-1')
              offsets.push({ group, topic: t.topic, partition: p.partition, offset: p.offset });
        }
      }
      return {
        cluster: `${cluster.clusterId} (controller ${cluster.controller}, brokers ${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')})`,
        topics: meta.topics.map((t) => ({ name: t.name, partitions: t.partitions.length })),
        offsets,
      };
    },
    close: async () => {
      await admin.disconnect();
      await sql.close();
      await dropDatabase(adminUrl, dbName);
    },
  };
});
