#!/usr/bin/env node
// bench/runtime-ingest: replays EVENTS sensor events, built from the real Falco and Tetragon events of
// shared/corpus/runtime, through POST /v1/events/{falco,tetragon} of the real runtime-ingest module (NestJS over
// HTTP, bearer token) into the embedded event log on Postgres. Prints events/s and the server's peak RSS, beside the
// raw publish rate of the same log for the same records in the same run. Not a test: it prints figures. Runs
// against the compiled packages (npm run build first).
//
//   node bench/runtime-ingest/run.mjs                  # 1,000,000 events, 1,000 per request, 4 connections
//   EVENTS=100000 BATCH=500 CONNECTIONS=8 node bench/runtime-ingest/run.mjs
//   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/runtime-ingest/run.mjs   # profile of the server side
//
// Environment: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), EVENTS, BATCH (events per
// request: sensors post JSON lines), CONNECTIONS (requests in flight), NODES (distinct node names, default 20).
import 'reflect-metadata';
import { fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const TOKEN = 'bench-token-0123456789abcdef';
const int = (name, dflt) => {
  const v = Number(process.env[name] ?? dflt);
  if (!Number.isInteger(v) || v < 1) {
    console.error(`bench/runtime-ingest: ${name} must be a positive integer, got "${process.env[name]}"`);
    process.exit(2);
  }
  return v;
};
const EVENTS = int('EVENTS', 1_000_000);
const BATCH = int('BATCH', 1000);
const CONNECTIONS = int('CONNECTIONS', 4);
const NODES = int('NODES', 20);
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// ---- the client: a child process, so building and sending bodies does not share the server's event loop ----
if (process.argv[2] === 'client') {
  const { readEvents } = await import('@vigil/runtime-rules');
  const port = Number(process.argv[3]);
  const corpus = join(root, '..', 'shared', 'corpus', 'runtime');
  const files = (dir) =>
    readdirSync(dir).flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return files(p);
      return /\.(jsonl|json|log)$/.test(name) && name !== 'expected.json' ? [p] : [];
    });
  // The real events of every case, as the engine's own reader finds them in the noisy files.
  const shapes = { falco: [], tetragon: [] };
  for (const source of ['falco', 'tetragon']) {
    const dir = join(corpus, source === 'falco' ? 'falco-alerts' : 'tetragon');
    for (const f of files(dir)) {
      try {
        for (const e of readEvents(readFileSync(f), { format: source, name: f }).events)
          if (!(source === 'falco' && String(e.value.rule ?? '').startsWith('Falco internal')))
            shapes[source].push(e.value);
      } catch {
        // a file of the case that holds no event of this sensor (a README-like log): not a shape
      }
    }
  }
  if (shapes.falco.length === 0 || shapes.tetragon.length === 0)
    throw new Error(`no corpus events found under ${corpus}`);
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  // Event i: a corpus shape (round robin), on one of NODES nodes, at its own millisecond.
  const eventLine = (source, i) => {
    const base = shapes[source][i % shapes[source].length];
    const node = `bench-node-${i % NODES}`;
    const time = new Date(t0 + i).toISOString();
    const v = source === 'falco' ? { ...base, hostname: node, time } : { ...base, node_name: node, time };
    return JSON.stringify(v);
  };
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const send = (source, body) =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: `/v1/events/${source}`,
          agent,
          headers: {
            authorization: `Bearer ${TOKEN}`,
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  let next = 0;
  let statusCounts = {};
  let retries = 0;
  const started = process.hrtime.bigint();
  const worker = async () => {
    for (;;) {
      const from = next;
      if (from >= EVENTS) return;
      next = Math.min(EVENTS, from + BATCH);
      // Falco and Tetragon batches alternate, as two DaemonSets' outputs would interleave.
      const source = (from / BATCH) % 2 === 0 ? 'falco' : 'tetragon';
      const lines = [];
      for (let i = from; i < next; i++) lines.push(eventLine(source, i));
      const body = lines.join('\n');
      for (;;) {
        const r = await send(source, body);
        statusCounts[r.status] = (statusCounts[r.status] ?? 0) + 1;
        if (r.status === 202) break;
        if (r.status === 429 || r.status === 503) {
          retries++;
          await new Promise((res) => setTimeout(res, 50));
          continue;
        }
        throw new Error(`POST /v1/events/${source}: ${r.status} ${r.body.slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  process.send({
    seconds,
    statusCounts,
    retries,
    shapes: { falco: shapes.falco.length, tetragon: shapes.tetragon.length },
  });
  agent.destroy();
  process.exit(0);
}

// ---- the server: the runtime-ingest module over the embedded log ----
const { NestFactory } = await import('@nestjs/core');
const { composeServiceModules } = await import('@vigil/nest-kit');
const { RuntimeIngestModule } = await import('@vigil/runtime-ingest');
const { createEmbeddedEventLog } = await import('@vigil/event-log');
const { ALL_TOPICS } = await import('@vigil/contracts');
const { createDatabase, createSql, dropDatabase, withDatabase } = await import('@vigil/store');
const { setLogLevel } = await import('@vigil/telemetry');
setLogLevel('silent');

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: (m) => console.error(`  [event-log] ${m}`),
};
const dbName = `vigil_bench_rtingest_${randomUUID().slice(0, 8)}`;
await createDatabase(adminUrl, dbName);
const sql = createSql(withDatabase(adminUrl, dbName), { max: 6, applicationName: 'vigil:bench' });
const log = createEmbeddedEventLog({ sql, logger: quiet });
// Every record the endpoint published, kept (as references) to publish again for the raw rate.
const published = [];
const recording = {
  ...log,
  publish: async (records) => {
    await log.publish(records);
    for (const r of records) published.push(r);
  },
  subscribe: (o) => log.subscribe(o),
  ensureTopics: (t) => log.ensureTopics(t),
  close: () => log.close(),
};
try {
  await log.ensureTopics(ALL_TOPICS);
  const rootModule = composeServiceModules(
    { identity: { service: 'runtime-ingest', version: 'bench', instance: 'bench-1' }, eventLog: recording },
    [
      RuntimeIngestModule.forRoot({
        http: {
          token: TOKEN,
          cluster: 'bench',
          maxBodyBytes: 16 * 1024 * 1024,
          maxInFlight: 64,
          publishTimeoutMs: 30_000,
        },
      }),
    ],
  );
  const app = await NestFactory.create(rootModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address();
  console.log(
    `bench/runtime-ingest: ${fmt(EVENTS)} events, ${fmt(BATCH)} per request, ${CONNECTIONS} connections, ${NODES} nodes; Postgres ${adminUrl.replace(/:[^:@/]*@/, ':***@')}`,
  );
  const client = fork(fileURLToPath(import.meta.url), ['client', String(port)], {
    env: process.env,
    execArgv: [],
  });
  const report = await new Promise((resolve, reject) => {
    client.on('message', resolve);
    client.on('exit', (code) => code !== 0 && reject(new Error(`the client exited with ${code}`)));
  });
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  await app.close();

  // The raw rate: the same records, straight into the same log, in calls of the same sizes, same concurrency.
  const rawRecords = published.map((r) => ({ ...r, topic: r.topic }));
  const perCall = Math.max(1, Math.round(rawRecords.length / Math.ceil(EVENTS / BATCH)));
  const rawStart = process.hrtime.bigint();
  const inFlight = [];
  for (let i = 0; i < rawRecords.length; i += perCall) {
    inFlight.push(log.publish(rawRecords.slice(i, i + perCall)));
    if (inFlight.length >= CONNECTIONS) await inFlight.shift();
  }
  await Promise.all(inFlight);
  const rawSeconds = Number(process.hrtime.bigint() - rawStart) / 1e9;

  const evps = EVENTS / report.seconds;
  console.log(
    `corpus shapes: ${report.shapes.falco} Falco alerts, ${report.shapes.tetragon} Tetragon events`,
  );
  console.log(`responses: ${JSON.stringify(report.statusCounts)}, retried ${report.retries}`);
  console.log('');
  console.log(
    `${'what'.padEnd(34)} ${'events/s'.padStart(12)} ${'records/s'.padStart(12)} ${'records'.padStart(10)}`,
  );
  console.log(
    `${'HTTP ingest → embedded log'.padEnd(34)} ${fmt(evps).padStart(12)} ${fmt(published.length / report.seconds).padStart(12)} ${fmt(published.length).padStart(10)}`,
  );
  console.log(
    `${'raw log publish, same records'.padEnd(34)} ${''.padStart(12)} ${fmt(rawRecords.length / rawSeconds).padStart(12)} ${fmt(rawRecords.length).padStart(10)}`,
  );
  console.log('');
  console.log(`server peak RSS: ${fmt(peakRssMb)} MB`);
  console.log(`HTTP ingest: ${fmt(evps)} events/s (target 20,000/s: ${evps >= 20_000 ? 'met' : 'NOT met'})`);
} finally {
  await log.close();
  await sql.close();
  await dropDatabase(adminUrl, dbName);
}
