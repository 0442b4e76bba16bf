import type { Sql } from '@vigil/store';

// The embedded log's tables, applied at startup as numbered steps. A step, once shipped, is never edited or
// removed and nothing here ever drops data: new needs get a new step.

export interface SchemaStep {
  version: number;
  name: string;
  statements: (schema: string) => string[];
}

export const SCHEMA_STEPS: readonly SchemaStep[] = [
  {
    version: 1,
    name: 'topics, records, groups',
    statements: (s) => [
      `CREATE TABLE IF NOT EXISTS ${s}.topics (
         name text PRIMARY KEY,
         partitions integer NOT NULL CHECK (partitions > 0),
         created_at timestamptz NOT NULL DEFAULT now()
       )`,
      // One row per partition: next_offset is the offset counter. Publishing locks it (UPDATE ... RETURNING) until
      // its transaction commits, so offsets become visible in order and a reader never skips over a gap.
      `CREATE TABLE IF NOT EXISTS ${s}.partitions (
         topic text NOT NULL REFERENCES ${s}.topics (name),
         partition integer NOT NULL,
         next_offset bigint NOT NULL DEFAULT 0,
         PRIMARY KEY (topic, partition)
       )`,
      `CREATE TABLE IF NOT EXISTS ${s}.records (
         topic text NOT NULL,
         partition integer NOT NULL,
         "offset" bigint NOT NULL,
         key text NOT NULL,
         value bytea NOT NULL,
         headers jsonb NOT NULL DEFAULT '{}',
         ts timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (topic, partition, "offset")
       )`,
      `CREATE TABLE IF NOT EXISTS ${s}.members (
         group_id text NOT NULL,
         member_id text NOT NULL,
         topics text[] NOT NULL,
         heartbeat_at timestamptz NOT NULL DEFAULT now(),
         joined_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (group_id, member_id)
       )`,
      // Who processes a partition for a group right now. A member claims a partition only from a member that
      // released it or stopped heartbeating, so two live members never process one partition at once.
      `CREATE TABLE IF NOT EXISTS ${s}.assignments (
         group_id text NOT NULL,
         topic text NOT NULL,
         partition integer NOT NULL,
         member_id text NOT NULL,
         claimed_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (group_id, topic, partition)
       )`,
      `CREATE TABLE IF NOT EXISTS ${s}.positions (
         group_id text NOT NULL,
         topic text NOT NULL,
         partition integer NOT NULL,
         next_offset bigint NOT NULL,
         committed_at timestamptz NOT NULL DEFAULT now(),
         PRIMARY KEY (group_id, topic, partition)
       )`,
    ],
  },
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

export function checkSchemaName(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) {
    throw new Error(
      `createEmbeddedEventLog: invalid schema "${schema}" (lowercase letters, digits and "_", starting with a letter or "_")`,
    );
  }
  return schema;
}

/** Applies the steps not yet recorded in <schema>.schema_versions; safe to run from several processes at once. */
export async function applySchema(sql: Sql, schema: string): Promise<number[]> {
  const s = checkSchemaName(schema);
  return sql.transaction(async (tx) => {
    // One advisory lock per schema name serializes concurrent startups (CREATE ... IF NOT EXISTS alone races).
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`vigil.event-log.schema:${s}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.schema_versions (
      version integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const applied = new Set(
      (await tx.query<{ version: number }>(`SELECT version FROM ${s}.schema_versions`)).rows.map((r) =>
        Number(r.version),
      ),
    );
    const now: number[] = [];
    for (const step of SCHEMA_STEPS) {
      if (applied.has(step.version)) continue;
      for (const statement of step.statements(s)) await tx.query(statement);
      await tx.query(`INSERT INTO ${s}.schema_versions (version, name) VALUES ($1, $2)`, [
        step.version,
        step.name,
      ]);
      now.push(step.version);
    }
    return now;
  });
}
