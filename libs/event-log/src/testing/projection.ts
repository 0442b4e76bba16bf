import type { Sql } from '@vigil/store';
import type { ConsumedRecord } from '../event-log.port.js';

// The projection of the SIGKILL case: a per-key running total plus the ids of the events applied, written in one
// transaction. A redelivered event finds its id and changes nothing, so the totals show whether any event was
// applied twice or lost.

export interface TestEvent {
  id: string;
  key: string;
  seq: number;
  poison?: boolean;
}

export function encodeTestEvent(e: TestEvent): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(e));
}

export function decodeTestEvent(value: Uint8Array): TestEvent {
  return JSON.parse(new TextDecoder().decode(value)) as TestEvent;
}

export async function createProjection(sql: Sql, table: string): Promise<void> {
  await sql.query(
    `CREATE TABLE ${table}_applied (event_id text PRIMARY KEY, topic text NOT NULL, partition int NOT NULL, "offset" bigint NOT NULL)`,
  );
  await sql.query(
    `CREATE TABLE ${table}_totals (key text PRIMARY KEY, events int NOT NULL, seq_sum bigint NOT NULL)`,
  );
}

/** Returns false when the event had been applied before (a redelivery). */
export async function applyToProjection(
  sql: Sql,
  table: string,
  e: TestEvent,
  r: ConsumedRecord,
): Promise<boolean> {
  return sql.transaction(async (tx) => {
    const ins = await tx.query(
      `INSERT INTO ${table}_applied (event_id, topic, partition, "offset") VALUES ($1, $2, $3, $4) ON CONFLICT (event_id) DO NOTHING RETURNING 1`,
      [e.id, r.topic, r.partition, r.offset],
    );
    if (ins.rowCount === 0) return false;
    await tx.query(
      `INSERT INTO ${table}_totals (key, events, seq_sum) VALUES ($1, 1, $2)
       ON CONFLICT (key) DO UPDATE SET events = ${table}_totals.events + 1, seq_sum = ${table}_totals.seq_sum + EXCLUDED.seq_sum`,
      [e.key, e.seq],
    );
    return true;
  });
}
