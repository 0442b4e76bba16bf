// Embedded Postgres on a temp data dir: cold and warm start, a second start attaching, the last leaver stopping
// the server, and recovery after the starting process (and then the server itself) is SIGKILLed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pingDatabase } from './database-admin.js';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.js';
import { createSql } from './pg-sql.adapter.js';

const dataDir = mkdtempSync(join(tmpdir(), 'vigil-embedded-'));
const lockFile = join(dataDir, 'postgres.lock');
const open: EmbeddedPostgres[] = [];
const children: ChildProcess[] = [];
const logLines: string[] = [];
const log = (l: string) => logLines.push(l);

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const pg of open) await pg.stop().catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
});

async function start(): Promise<{ pg: EmbeddedPostgres; ms: number }> {
  const t0 = performance.now();
  const pg = await startEmbeddedPostgres({ dataDir, log });
  open.push(pg);
  return { pg, ms: Math.round(performance.now() - t0) };
}

async function scalar(url: string, text: string): Promise<unknown> {
  const sql = createSql(url, { max: 1 });
  try {
    const r = await sql.query<Record<string, unknown>>(text);
    return Object.values(r.rows[0] ?? {})[0];
  } finally {
    await sql.close();
  }
}

/** A separate node process that starts (or attaches to) the data dir's server and reports on stdout. */
function childProcess(): Promise<{
  child: ChildProcess;
  info: { port: number; owner: boolean; postmasterPid: number };
}> {
  const moduleUrl = new URL('./embedded-postgres.js', import.meta.url).href;
  const code = `
    import { startEmbeddedPostgres } from ${JSON.stringify(moduleUrl)};
    import { readFileSync } from 'node:fs';
    const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
    const lock = JSON.parse(readFileSync(${JSON.stringify(lockFile)}, 'utf8'));
    process.stdout.write(JSON.stringify({ port: pg.port, owner: pg.owner, postmasterPid: lock.postmasterPid }) + '\\n');
    process.stdin.on('data', async (d) => { if (String(d).startsWith('exit')) process.exit(0); await pg.stop(); process.exit(0); });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ child, info: JSON.parse(out.split('\n')[0]!) });
    });
    child.once('exit', (code) => reject(new Error(`child exited with ${code} before reporting: ${out}`)));
  });
}

const exited = (c: ChildProcess) =>
  new Promise<void>((r) => (c.exitCode !== null || c.signalCode !== null ? r() : c.once('exit', () => r())));

describe('embedded Postgres', () => {
  let port = 0;

  it('initializes a cluster on first start and lets a second start attach to the same server', async () => {
    const cold = await start();
    assert.equal(cold.pg.owner, true);
    console.log(`# embedded Postgres cold start (initdb + start + create database): ${cold.ms} ms`);
    assert.equal(await scalar(cold.pg.url, 'SELECT current_database()'), 'vigil');
    assert.match(String(await scalar(cold.pg.url, 'SELECT version()')), /^PostgreSQL 17\./);
    await scalar(cold.pg.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('survives restarts')");
    port = cold.pg.port;

    const lock = JSON.parse(readFileSync(lockFile, 'utf8'));
    assert.equal(lock.pid, process.pid);
    assert.equal(lock.port, port);
    assert.equal(lock.url, `postgresql://postgres@127.0.0.1:${port}/vigil`);

    const second = await start();
    assert.equal(second.pg.owner, false);
    assert.equal(second.pg.port, port);
    console.log(`# embedded Postgres attach to a running server: ${second.ms} ms`);

    // The owner leaves first: the server stays for the attached one, which stops it as the last to leave.
    await cold.pg.stop();
    assert.equal(await scalar(second.pg.url, 'SELECT count(*)::int FROM kept'), 1);
    await second.pg.stop();
    assert.equal(await pingDatabase(cold.pg.adminUrl, 1_000), false);
    assert.equal(existsSync(lockFile), false);
  });

  it('starts warm on the existing cluster with its data', async () => {
    const warm = await start();
    assert.equal(warm.pg.owner, true);
    console.log(`# embedded Postgres warm start (existing cluster): ${warm.ms} ms`);
    assert.equal(await scalar(warm.pg.url, 'SELECT v FROM kept'), 'survives restarts');
    await warm.pg.stop();
  });

  it('keeps the server for the others when another process attaches and leaves', async () => {
    const mine = await start();
    const { child, info } = await childProcess();
    assert.deepEqual([info.owner, info.port], [false, mine.pg.port]);
    child.stdin!.write('stop\n');
    await exited(child);
    assert.equal(child.exitCode, 0);
    assert.equal(await scalar(mine.pg.url, 'SELECT 1'), 1);
    await mine.pg.stop();
    assert.equal(await pingDatabase(mine.pg.adminUrl, 1_000), false);
  });

  it('stops the server when the last process exits without calling stop()', async () => {
    const { child, info } = await childProcess();
    assert.equal(info.owner, true);
    child.stdin!.write('exit\n');
    await exited(child);
    assert.equal(child.exitCode, 0);
    const url = `postgresql://postgres@127.0.0.1:${info.port}/postgres`;
    const deadline = Date.now() + 10_000;
    while (existsSync(join(dataDir, 'postgres', 'postmaster.pid')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), false);
    assert.equal(await pingDatabase(url, 1_000), false);
    assert.equal(existsSync(lockFile), false);
  });

  it('attaches to the server of an owner killed with SIGKILL and stops it as the last one left', async () => {
    const { child, info } = await childProcess();
    assert.equal(info.owner, true);
    child.kill('SIGKILL');
    await exited(child);
    const next = await start();
    assert.equal(next.pg.owner, false);
    assert.equal(next.pg.port, info.port);
    assert.equal(await scalar(next.pg.url, 'SELECT v FROM kept'), 'survives restarts');
    await next.pg.stop();
    assert.equal(await pingDatabase(next.pg.adminUrl, 1_000), false);
  });

  it('starts afresh over a stale lock and postmaster.pid when the server was killed too', async () => {
    const { child, info } = await childProcess();
    assert.equal(info.owner, true);
    child.kill('SIGKILL');
    // The postmaster runs detached in its own process group: take it down the way a crash or OOM kill would.
    process.kill(-info.postmasterPid, 'SIGKILL');
    await exited(child);
    assert.equal(existsSync(lockFile), true);
    assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), true);
    const next = await start();
    assert.equal(next.pg.owner, true);
    assert.notEqual(JSON.parse(readFileSync(lockFile, 'utf8')).postmasterPid, info.postmasterPid);
    console.log(`# embedded Postgres start after a crash (recovery): ${next.ms} ms`);
    assert.equal(await scalar(next.pg.url, 'SELECT v FROM kept'), 'survives restarts');
    await next.pg.stop();
    assert.ok(
      logLines.some((l) => l.includes(`taking over the stale lock`)),
      logLines.join('\n'),
    );
  });
});
