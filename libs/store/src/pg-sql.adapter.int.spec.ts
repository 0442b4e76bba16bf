// The Sql port against the real Postgres at DATABASE_URL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDatabase, dropDatabase, waitForDatabase } from './database-admin.js';
import { ADMIN_URL, freshTestDatabase } from './int-test-database.js';
import { DatabaseConnectionError, createSql } from './pg-sql.adapter.js';
import type { Sql } from './sql.port.js';

let db: { url: string; drop(): Promise<void> };
let sql: Sql;
const warnings: Error[] = [];

before(async () => {
  db = await freshTestDatabase('sql_int');
  sql = createSql(db.url, { max: 3, applicationName: 'vigil-sql-test', onError: (e) => warnings.push(e) });
  await sql.query('CREATE TABLE t (id int PRIMARY KEY, v text NOT NULL)');
});
after(async () => {
  await sql?.close();
  await db?.drop();
});

describe('Sql port over pg', () => {
  it('runs parameterized queries and reports row counts', async () => {
    const ins = await sql.query('INSERT INTO t (id, v) VALUES ($1, $2), ($3, $4)', [1, 'one', 2, 'two']);
    assert.equal(ins.rowCount, 2);
    const sel = await sql.query<{ id: number; v: string }>('SELECT id, v FROM t ORDER BY id');
    assert.deepEqual(sel.rows, [
      { id: 1, v: 'one' },
      { id: 2, v: 'two' },
    ]);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    const value = await sql.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (3, 'three')");
      return (await tx.query<{ n: string }>('SELECT count(*) AS n FROM t')).rows[0]?.n;
    });
    assert.equal(value, '3');
    await assert.rejects(
      sql.transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (4, 'four')");
        await tx.query("INSERT INTO t VALUES (1, 'duplicate')");
      }),
      (err: Error & { code?: string }) => err.code === '23505',
    );
    const ids = await sql.query<{ id: number }>('SELECT id FROM t ORDER BY id');
    assert.deepEqual(
      ids.rows.map((r) => r.id),
      [1, 2, 3],
    );
  });

  it('delivers NOTIFY payloads to a listener until it unlistens', async () => {
    const got: string[] = [];
    let wake: () => void = () => undefined;
    const unlisten = await sql.listen('vigil.events wake', (p) => {
      got.push(p);
      wake();
    });
    const arrived = new Promise<void>((r) => (wake = r));
    await sql.query(`SELECT pg_notify('vigil.events wake', 'topic-a:3')`);
    await arrived;
    assert.deepEqual(got, ['topic-a:3']);
    await unlisten();
    await sql.query(`SELECT pg_notify('vigil.events wake', 'after')`);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(got, ['topic-a:3']);
  });

  it('surfaces a lost LISTEN connection as a clear error', async () => {
    const errors: Error[] = [];
    let report: () => void = () => undefined;
    const reported = new Promise<void>((r) => (report = r));
    await sql.listen(
      'lost-channel',
      () => undefined,
      (e) => {
        errors.push(e);
        report();
      },
    );
    await sql.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vigil-sql-test:listen' AND pid <> pg_backend_pid()",
    );
    await reported;
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof DatabaseConnectionError);
    assert.match(
      errors[0]!.message,
      /^LISTEN "lost-channel" lost its connection to postgresql:\/\/.*\(notifications stopped; listen again to resume\)$/,
    );
  });

  it('names the database, never the password, when it cannot connect', async () => {
    const bad = createSql('postgresql://vigil:topsecret@127.0.0.1:1/nowhere', { connectionTimeoutMs: 2_000 });
    await assert.rejects(bad.query('SELECT 1'), (err: Error) => {
      assert.ok(err instanceof DatabaseConnectionError);
      assert.match(
        err.message,
        /^cannot connect to postgresql:\/\/vigil:\*\*\*@127\.0\.0\.1:1\/nowhere: .*ECONNREFUSED/,
      );
      assert.doesNotMatch(err.message, /topsecret/);
      return true;
    });
    await bad.close();
  });

  it('refuses calls after close', async () => {
    const s = createSql(db.url);
    await s.close();
    await assert.rejects(s.query('SELECT 1'), /the connection pool for postgresql:\/\/.* is closed/);
  });
});

describe('database admin helpers', () => {
  it('creates once, reports an existing database, and drops it with sessions attached', async () => {
    const name = `admin_int_${process.pid}`;
    assert.equal(await createDatabase(ADMIN_URL, name), true);
    assert.equal(await createDatabase(ADMIN_URL, name), false);
    const url = ADMIN_URL.replace(/\/[^/?]*(\?|$)/, `/${name}$1`);
    await waitForDatabase(url, 2_000);
    const holder = createSql(url, { onError: () => undefined });
    await holder.query('SELECT 1');
    await dropDatabase(ADMIN_URL, name);
    await assert.rejects(holder.query('SELECT 1'));
    await holder.close();
    await assert.rejects(waitForDatabase(url, 2_000), /database .* does not exist/);
  });

  it('gives up waiting at the deadline, naming the URL and the last error', async () => {
    await assert.rejects(
      waitForDatabase('postgresql://postgres:pw@127.0.0.1:1/vigil', 400),
      /^Error: database postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/vigil did not answer within 400 ms: connect ECONNREFUSED/,
    );
  });
});
