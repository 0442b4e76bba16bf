// `vigil db migrate|status`. Status needs only pg; migrating loads TypeORM on demand.
import pg from 'pg';
import { redactUrl } from './database-url.js';
import { MIGRATIONS, MIGRATIONS_TABLE } from './migrations/index.js';
import { DatabaseConnectionError } from './pg-sql.adapter.js';

// Two processes on one deployment (`vigil up` and a one-shot command) may both migrate at start; a session
// advisory lock on a side connection serializes them so the second one finds nothing pending.
const MIGRATION_LOCK_KEY = 0x76_69_67_69; // "vigi"

async function withMigrationLock<T>(url: string, fn: () => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'vigil:migrate',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new DatabaseConnectionError(url, err);
  }
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end().catch(() => undefined);
  }
}

/** Applies every pending migration in one transaction; returns the names applied now (empty when none). */
export async function runMigrations(url: string): Promise<string[]> {
  return withMigrationLock(url, async () => {
    // The common case at every start is "nothing to do": answer it with one query instead of loading TypeORM.
    if ((await migrationStatus(url)).pending.length === 0) return [];
    const { openDataSource } = await import('./data-source.js');
    const ds = await openDataSource(url, { max: 2, applicationName: 'vigil:migrate' });
    try {
      const applied = await ds.runMigrations({ transaction: 'all' });
      return applied.map((m) => m.name);
    } catch (err) {
      throw new Error(`migrating ${redactUrl(url)} failed: ${(err as Error).message}`, { cause: err });
    } finally {
      await ds.destroy();
    }
  });
}

export interface AppliedMigration {
  name: string;
  timestamp: number;
}

export interface MigrationStatus {
  applied: AppliedMigration[];
  pending: string[];
  /** Names recorded in the database that this build does not know (a newer vigil migrated it). */
  unknown: string[];
}

/** What is applied and what is pending, without changing anything (not even creating the bookkeeping table). */
export async function migrationStatus(url: string): Promise<MigrationStatus> {
  const client = new pg.Client({
    connectionString: url,
    application_name: 'vigil:migrate',
    connectionTimeoutMillis: 10_000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new DatabaseConnectionError(url, err);
  }
  try {
    const table = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
      MIGRATIONS_TABLE,
    ]);
    const rows = table.rows[0]?.t
      ? (
          await client.query<{ name: string; timestamp: string }>(
            `SELECT name, "timestamp" FROM ${MIGRATIONS_TABLE} ORDER BY id`,
          )
        ).rows
      : [];
    const applied = rows.map((r) => ({ name: r.name, timestamp: Number(r.timestamp) }));
    const done = new Set(applied.map((a) => a.name));
    const known = MIGRATIONS.map((m) => new m().name);
    return {
      applied,
      pending: known.filter((n) => !done.has(n)),
      unknown: applied.map((a) => a.name).filter((n) => !known.includes(n)),
    };
  } finally {
    await client.end().catch(() => undefined);
  }
}
