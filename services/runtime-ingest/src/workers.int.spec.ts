// Real: the built service (dist/main.js) with RUNTIME_INGEST_WORKERS=2 on the embedded log in a fresh Postgres
// database, a corpus Falco alert over HTTP. Checks what the primary promises: both workers serve the one port, a
// killed worker is replaced, SIGTERM drains them all to exit 0, and /metrics reports the sum over the workers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decodeEnvelope } from '@vigil/contracts';
import { createDatabase, createSql, dropDatabase, withDatabase } from '@vigil/store';
import { corpusPath } from '@vigil/testing';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const TOKEN = 'workers-int-token-0123456789';
const main = fileURLToPath(new URL('./main.js', import.meta.url));
const alert = readFileSync(
  corpusPath('runtime', 'falco-alerts', 'docs-terminal-shell-critical', 'alerts.jsonl'),
);
const dbName = `vigil_runtime_ingest_w_${randomUUID().slice(0, 8)}`;

before(() => createDatabase(adminUrl, dbName));
after(() => dropDatabase(adminUrl, dbName));

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });

// The primary's children, from the kernel's own list.
function childrenOf(pid: number): number[] {
  const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const post = async (port: number) => {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/v1/events/falco`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: alert,
    });
    return { status: r.status, body: (await r.json()) as { findings: { ruleId: string }[] } };
  } catch {
    return undefined;
  }
};

test('two workers serve one port; a dead one is replaced; SIGTERM drains both and the primary exits 0', async () => {
  const port = await freePort();
  const service: ChildProcess = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      RUNTIME_INGEST_WORKERS: '2',
      RUNTIME_INGEST_TOKEN: TOKEN,
      EVENT_LOG: 'embedded',
      DATABASE_URL: withDatabase(adminUrl, dbName),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  service.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  service.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => service.on('exit', (code) => resolve(code)));
  try {
    const pid = service.pid!;
    const workers = await until('two workers', () => {
      const c = childrenOf(pid);
      return c.length === 2 ? c : undefined;
    });
    const first = await until('a 202', async () => ((await post(port))?.status === 202 ? true : undefined));
    assert.ok(first);
    // Keep-alive off (fetch opens a connection per request here): the primary's round-robin reaches both.
    for (let i = 0; i < 6; i++) {
      const r = await post(port);
      assert.equal(r?.status, 202);
      assert.deepEqual(
        r.body.findings.map((f) => f.ruleId),
        ['falco:Terminal shell in container'],
      );
    }

    process.kill(workers[0]!, 'SIGKILL');
    const replaced = await until('a replacement worker', () => {
      const c = childrenOf(pid);
      return c.length === 2 && !c.includes(workers[0]!) ? c : undefined;
    });
    assert.ok(replaced.includes(workers[1]!), 'the healthy worker was left alone');
    await until('the replacement listening', () =>
      (output.match(/runtime-ingest listening on/g) ?? []).length === 3 ? true : undefined,
    );
    assert.equal((await post(port))?.status, 202);
    assert.match(output, new RegExp(`worker 1 \\(pid ${workers[0]}\\) died with signal SIGKILL`));

    service.kill('SIGTERM');
    assert.equal(await exited, 0, output);
    assert.match(output, /received SIGTERM: draining 2 worker\(s\)/);
    assert.equal((output.match(/exited with code 0/g) ?? []).length, 2, output);
  } finally {
    if (service.exitCode === null) service.kill('SIGKILL');
  }
});

// The value of one series of the scraped text: the metric with every one of these labels (any others, any order).
function seriesValue(text: string, name: string, labels: Record<string, string>): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    if (Object.entries(labels).every(([k, v]) => m[2]!.split(',').includes(`${k}="${v}"`)))
      out.push(Number(m[3]));
  }
  return out;
}

test('with two workers, a scrape of /metrics reaching either one reports what both were sent', async () => {
  const port = await freePort();
  const metricsDb = `${dbName}_m`;
  await createDatabase(adminUrl, metricsDb);
  const service: ChildProcess = spawn(process.execPath, [main], {
    env: {
      ...process.env,
      RUNTIME_INGEST_WORKERS: '2',
      RUNTIME_INGEST_TOKEN: TOKEN,
      SERVICE_INSTANCE_ID: 'ri-metrics',
      EVENT_LOG: 'embedded',
      DATABASE_URL: withDatabase(adminUrl, metricsDb),
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  service.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  service.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => service.on('exit', (code) => resolve(code)));
  const sql = createSql(withDatabase(adminUrl, metricsDb), { max: 1 });
  try {
    await until('both workers listening', () =>
      (output.match(/runtime-ingest listening on/g) ?? []).length === 2 ? true : undefined,
    );
    const sent = 10;
    for (let i = 0; i < sent; i++) assert.equal((await post(port))?.status, 202, output);
    // Which workers published: each stamps its own instance id (-w1, -w2) on the events it writes.
    const rows = await sql.query<{ value: Buffer }>(
      `SELECT value FROM vigil_log.records WHERE topic = 'findings.runtime'`,
    );
    const producers = new Set(rows.rows.map((r) => decodeEnvelope(r.value).producer?.instance));
    assert.deepEqual([...producers].sort(), ['ri-metrics-w1', 'ri-metrics-w2']);
    // fetch opens a connection per request here, so the scrapes reach both workers too.
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(r.status, 200);
      const text = await r.text();
      const labels = { source: 'falco', status: '202' };
      assert.deepEqual(seriesValue(text, 'vigil_runtime_ingest_requests_total', labels), [sent], text);
      assert.deepEqual(
        seriesValue(text, 'vigil_runtime_ingest_findings_published_total', { source: 'falco' }),
        [sent],
      );
    }
    service.kill('SIGTERM');
    assert.equal(await exited, 0, output);
  } finally {
    if (service.exitCode === null) service.kill('SIGKILL');
    await sql.close();
    await dropDatabase(adminUrl, metricsDb);
  }
});
