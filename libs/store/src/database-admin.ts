// Creating, dropping and waiting for databases: used by the test setup, the CLI and embedded Postgres.
import pg from 'pg';
import { checkDatabaseName, parseDatabaseUrl, quoteIdentifier, redactUrl } from './database-url.js';
import { DatabaseConnectionError, isConnectionError } from './pg-sql.adapter.js';

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>, timeoutMs = 10_000): Promise<T> {
  parseDatabaseUrl(url);
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    application_name: 'vigil:admin',
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new DatabaseConnectionError(url, err);
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates database `name` on the server of adminUrl. Returns false when it already existed. */
export async function createDatabase(adminUrl: string, name: string): Promise<boolean> {
  checkDatabaseName(name);
  return withClient(adminUrl, async (c) => {
    const exists = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    try {
      await c.query(`CREATE DATABASE ${quoteIdentifier(name)}`);
      return true;
    } catch (err) {
      // Two processes creating the same database at once: the loser sees duplicate_database (or, since both
      // copy template1, a unique violation on pg_database); either way it exists now.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  });
}

/** Drops database `name` if it exists, disconnecting its sessions first (WITH (FORCE), Postgres 13+). */
export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  checkDatabaseName(name);
  await withClient(adminUrl, async (c) => {
    const v = await c.query<{ server_version_num: string }>('SHOW server_version_num');
    const force = Number(v.rows[0]?.server_version_num ?? 0) >= 130000;
    if (!force) {
      await c.query(
        'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [name],
      );
    }
    await c.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)}${force ? ' WITH (FORCE)' : ''}`);
  });
}

/** True when the server answers a query on this URL now. */
export async function pingDatabase(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    await withClient(url, (c) => c.query('SELECT 1'), timeoutMs);
    return true;
  } catch {
    return false;
  }
}

/**
 * Resolves once the database answers `SELECT 1`; retries connection-level failures (refused, starting up)
 * every 100 ms and fails at the deadline naming the URL and the last error. Other errors fail at once.
 */
export async function waitForDatabase(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    const left = deadline - Date.now();
    try {
      await withClient(url, (c) => c.query('SELECT 1'), Math.max(250, Math.min(left, 5_000)));
      return;
    } catch (err) {
      last = err;
      const cause = err instanceof DatabaseConnectionError ? err.cause : err;
      const code = (cause as { code?: string })?.code;
      // A missing database or a refused login will not fix itself by waiting.
      if (code === '3D000' || code === '28P01' || code === '28000' || !isConnectionError(err)) throw err;
    }
    if (Date.now() + 100 > deadline) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const cause = last instanceof DatabaseConnectionError ? (last.cause as Error) : (last as Error);
  throw new Error(
    `database ${redactUrl(url)} did not answer within ${timeoutMs} ms: ${cause?.message ?? String(cause)}`,
    {
      cause: last,
    },
  );
}
