// The Sql port over a pg.Pool. Connection failures are rewritten into errors that name the database (without
// its password); SQL errors pass through untouched so callers can still branch on their SQLSTATE `code`.
import pg from 'pg';
import { parseDatabaseUrl, quoteIdentifier, redactUrl } from './database-url.js';
import type { Sql, SqlQueryable, SqlResult } from './sql.port.js';

export interface SqlOptions {
  /** Pool size. Default 10. */
  max?: number;
  /** Shows up in pg_stat_activity, which is how an operator tells vigil's connections apart. */
  applicationName?: string;
  /** Milliseconds to wait for a new connection. Default 10000. */
  connectionTimeoutMs?: number;
  /**
   * Errors that happen outside any call (an idle pooled connection dropped, a LISTEN connection lost without its
   * own onError). Default: a process warning, because throwing from an event handler would crash the process.
   */
  onError?: (err: Error) => void;
}

/** A connection to the database could not be made or was lost; `url` is redacted. */
export class DatabaseConnectionError extends Error {
  readonly url: string;
  readonly code: string | undefined;
  constructor(url: string, cause: unknown, doing = 'cannot connect to') {
    const c = cause as { message?: string; code?: string };
    super(`${doing} ${redactUrl(url)}: ${c?.message || String(cause)}`, { cause });
    this.name = 'DatabaseConnectionError';
    this.url = redactUrl(url);
    this.code = c?.code;
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  '28000', // invalid authorization
  '28P01', // wrong password
  '3D000', // database does not exist
  '57P01', // admin shutdown
  '57P02', // crash shutdown
  '57P03', // cannot connect now (starting up / shutting down)
  '53300', // too many connections
]);

/** True for errors that mean "no usable connection" rather than "this statement failed". */
export function isConnectionError(err: unknown): boolean {
  if (err instanceof DatabaseConnectionError) return true;
  const e = err as { code?: string; message?: string };
  if (e?.code && (CONNECTION_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  const m = e?.message ?? '';
  return /Connection terminated|timeout expired|connect ECONNREFUSED|Client has encountered a connection error/i.test(
    m,
  );
}

function wrap(url: string, err: unknown): unknown {
  return isConnectionError(err) && !(err instanceof DatabaseConnectionError)
    ? new DatabaseConnectionError(url, err)
    : err;
}

function asResult<R>(r: pg.QueryResult | pg.QueryResult[]): SqlResult<R> {
  // A parameterless text with several statements yields one result each; the last one is the answer.
  const last = Array.isArray(r) ? r[r.length - 1] : r;
  return { rows: (last?.rows ?? []) as R[], rowCount: last?.rowCount ?? 0 };
}

function defaultOnError(err: Error): void {
  // 57P01 admin_shutdown on an idle pooled connection: the server is stopping (the embedded one stops when its last
  // vigil process leaves). The pool drops the connection and opens a new one if it is used again; nothing is lost.
  if ((err as { code?: string }).code === '57P01') return;
  process.emitWarning(err.message, { type: 'VigilDatabaseWarning' });
}

/** Creates the Sql port over a pool. Connections are opened lazily, so this never touches the network. */
export function createSql(url: string, options: SqlOptions = {}): Sql {
  parseDatabaseUrl(url);
  const onError = options.onError ?? defaultOnError;
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? 'vigil',
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
  });
  // An idle client that dies is dropped by the pool and the next query opens a fresh one; without a listener
  // pg would re-emit the error as an uncaught exception.
  pool.on('error', (err) => onError(new DatabaseConnectionError(url, err, 'idle connection to')));
  const listeners = new Set<pg.Client>();
  let closed = false;

  const checkOpen = () => {
    if (closed) throw new Error(`the connection pool for ${redactUrl(url)} is closed`);
  };

  return {
    async query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
      checkOpen();
      try {
        return asResult<R>(await pool.query(text, params));
      } catch (err) {
        throw wrap(url, err);
      }
    },

    async transaction<T>(fn: (tx: SqlQueryable) => Promise<T>): Promise<T> {
      checkOpen();
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw wrap(url, err);
      }
      const tx: SqlQueryable = {
        async query<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<SqlResult<R>> {
          try {
            return asResult<R>(await client.query(text, params));
          } catch (err) {
            throw wrap(url, err);
          }
        },
      };
      let broken: Error | undefined;
      try {
        await client.query('BEGIN');
        const value = await fn(tx);
        await client.query('COMMIT');
        return value;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackErr) {
          // A connection that cannot roll back must not go back to the pool in an unknown state.
          broken = rollbackErr as Error;
        }
        throw wrap(url, err);
      } finally {
        client.release(broken ?? undefined);
      }
    },

    async listen(channel: string, onNotify: (payload: string) => void, onListenError?: (err: Error) => void) {
      checkOpen();
      if (!channel) throw new Error('listen: the channel name is empty');
      const client = new pg.Client({
        connectionString: url,
        application_name: `${options.applicationName ?? 'vigil'}:listen`,
        connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
      });
      let released = false;
      client.on('error', (err) => {
        if (released) return;
        released = true;
        listeners.delete(client);
        const e = new DatabaseConnectionError(url, err, `LISTEN "${channel}" lost its connection to`);
        e.message += ' (notifications stopped; listen again to resume)';
        (onListenError ?? onError)(e);
        client.end().catch(() => undefined);
      });
      client.on('notification', (msg) => {
        if (msg.channel === channel) onNotify(msg.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      } catch (err) {
        released = true;
        await client.end().catch(() => undefined);
        throw wrap(url, err);
      }
      listeners.add(client);
      return async () => {
        if (released) return;
        released = true;
        listeners.delete(client);
        try {
          await client.query(`UNLISTEN ${quoteIdentifier(channel)}`);
        } finally {
          await client.end().catch(() => undefined);
        }
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      const open = [...listeners];
      listeners.clear();
      await Promise.all(open.map((c) => c.end().catch(() => undefined)));
      await pool.end();
    },
  };
}
