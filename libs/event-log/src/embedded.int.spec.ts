// The EventLog contract against the embedded log on a real Postgres (DATABASE_URL names the server; the suite
// works in a fresh database of its own).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createDatabase, createSql, dropDatabase, withDatabase, type Sql } from '@vigil/store';
import type { EventLogLogger } from './event-log.port.js';
import { createEmbeddedEventLog } from './embedded.adapter.js';
import { applySchema, SCHEMA_STEPS as EMBEDDED_LOG_SCHEMA_STEPS } from './embedded.schema.js';
import { eventLogContract, type AdminView } from './testing/event-log.contract.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const sessionTimeoutMs = 1500;
const schema = 'vigil_log';

const testLogger: EventLogLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: (m) => console.error(`[event-log] ${m}`),
};

eventLogContract('embedded adapter on Postgres', async () => {
  const dbName = `vigil_evlog_embedded_${randomUUID().slice(0, 8)}`;
  await createDatabase(adminUrl, dbName);
  const url = withDatabase(adminUrl, dbName);
  const sql = createSql(url, { max: 8, applicationName: 'vigil:event-log-test' });
  const extra: Sql[] = [];
  return {
    adapter: 'embedded',
    sessionTimeoutMs,
    sql,
    childEnv: { VIGIL_CHILD_ADAPTER: 'embedded', DATABASE_URL: url, VIGIL_CHILD_SCHEMA: schema },
    createLog: async (o) =>
      createEmbeddedEventLog({
        sql,
        schema,
        sessionTimeoutMs,
        heartbeatIntervalMs: 300,
        pollIntervalMs: 500,
        logger: o?.logger ?? testLogger,
      }),
    createUnreachableLog: ({ logger }) => {
      const dead = createSql('postgresql://postgres@127.0.0.1:1/postgres', {
        connectionTimeoutMs: 500,
        onError: () => undefined,
      });
      extra.push(dead);
      return createEmbeddedEventLog({ sql: dead, schema, logger, pingTimeoutMs: 1000 });
    },
    admin: async (topics, groups): Promise<AdminView> => {
      const id = await sql.query<{ id: string; db: string; version: string }>(
        `SELECT system_identifier::text AS id, current_database() AS db, current_setting('server_version') AS version FROM pg_control_system()`,
      );
      const t = await sql.query<{ name: string; partitions: number }>(
        `SELECT name, partitions FROM ${schema}.topics WHERE name = ANY($1::text[]) ORDER BY name`,
        [topics],
      );
      const o = await sql.query<{ group_id: string; topic: string; partition: number; next_offset: string }>(
        `SELECT group_id, topic, partition, next_offset::text AS next_offset FROM ${schema}.positions WHERE group_id = ANY($1::text[]) ORDER BY 1, 2, 3`,
        [groups],
      );
      const r = id.rows[0]!;
      return {
        cluster: `postgres system ${r.id}, database ${r.db} (PostgreSQL ${r.version}), schema ${schema}`,
        topics: t.rows.map((x) => ({ name: x.name, partitions: Number(x.partitions) })),
        offsets: o.rows.map((x) => ({
          group: x.group_id,
          topic: x.topic,
          partition: Number(x.partition),
          offset: x.next_offset,
        })),
      };
    },
    close: async () => {
      await Promise.all(extra.map((s) => s.close()));
      await sql.close();
      await dropDatabase(adminUrl, dbName);
    },
  };
});

describe('embedded log specifics', () => {
  let dbName: string;
  let url: string;
  before(async () => {
    dbName = `vigil_evlog_durable_${randomUUID().slice(0, 8)}`;
    await createDatabase(adminUrl, dbName);
    url = withDatabase(adminUrl, dbName);
  });
  after(async () => {
    await dropDatabase(adminUrl, dbName);
  });

  test('the schema steps apply once and are recorded; a second start applies nothing', async () => {
    const sql = createSql(url, { max: 2 });
    try {
      const [first, second] = await Promise.all([
        applySchema(sql, 'log_steps'),
        applySchema(sql, 'log_steps'),
      ]);
      // Two processes starting at once: one applies the steps, the other finds them applied.
      assert.deepEqual(
        [...first, ...second],
        EMBEDDED_LOG_SCHEMA_STEPS.map((s) => s.version),
      );
      assert.deepEqual(await applySchema(sql, 'log_steps'), []);
      const rows = await sql.query<{ version: number }>(
        'SELECT version FROM log_steps.schema_versions ORDER BY version',
      );
      assert.deepEqual(
        rows.rows.map((r) => Number(r.version)),
        EMBEDDED_LOG_SCHEMA_STEPS.map((s) => s.version),
      );
    } finally {
      await sql.close();
    }
  });

  test('records and committed positions survive a restart (new pool, new log instance)', async () => {
    const topic = 'durable.topic';
    const enc = (s: string) => new TextEncoder().encode(s);
    const sql1 = createSql(url, { max: 3 });
    const log1 = createEmbeddedEventLog({ sql: sql1, schema: 'log_durable', logger: testLogger });
    await log1.ensureTopics([{ name: topic, partitions: 2 }]);
    await log1.publish(['a', 'b', 'c', 'd'].map((k) => ({ topic, key: k, value: enc(`first-${k}`) })));
    const firstRun: string[] = [];
    const sub1 = await log1.subscribe({
      group: 'durable',
      topics: [topic],
      handler: async (b) => void firstRun.push(...b.map((r) => r.key)),
    });
    await sub1.ready;
    const deadline = Date.now() + 10_000;
    while (firstRun.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    await sub1.stop();
    await log1.close();
    await sql1.close();

    const sql2 = createSql(url, { max: 3 });
    const log2 = createEmbeddedEventLog({ sql: sql2, schema: 'log_durable', logger: testLogger });
    try {
      await log2.publish([{ topic, key: 'e', value: enc('second-e') }]);
      const replayed: string[] = [];
      await log2.replay(
        [topic],
        async (b) => void replayed.push(...b.map((r) => new TextDecoder().decode(r.value))),
      );
      assert.deepEqual(replayed.sort(), ['first-a', 'first-b', 'first-c', 'first-d', 'second-e']);
      const secondRun: string[] = [];
      const sub2 = await log2.subscribe({
        group: 'durable',
        topics: [topic],
        handler: async (b) => void secondRun.push(...b.map((r) => r.key)),
      });
      const until = Date.now() + 10_000;
      while (secondRun.length < 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
      await new Promise((r) => setTimeout(r, 300));
      await sub2.stop();
      assert.deepEqual(firstRun.sort(), ['a', 'b', 'c', 'd']);
      assert.deepEqual(secondRun, ['e'], 'the group resumes after its committed positions');
    } finally {
      await log2.close();
      await sql2.close();
    }
  });
});
