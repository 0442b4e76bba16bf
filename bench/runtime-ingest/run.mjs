#!/usr/bin/env node
// bench/runtime-ingest: replays EVENTS sensor events, built from the real Falco, Tetragon and Kubernetes audit
// events of shared/corpus/runtime, through POST /v1/events/{falco,tetragon,k8s-audit} of the real runtime-ingest
// module (NestJS over HTTP, bearer token) into the event log: embedded on Postgres (the default) or Kafka. Falco and
// Tetragon batches are JSON lines as their HTTP outputs post them; audit batches are the audit.k8s.io/v1 EventList
// the API server's webhook backend posts. Prints events/s and the server's peak RSS, beside the raw publish rate of
// the same log for the same records in the same run. Not a test: it prints figures. Runs against the compiled
// packages (npm run build first).
//
//   node bench/runtime-ingest/run.mjs                  # 1,000,000 events, 1,000 per request, 4 connections,
//                                                      # once with 1 worker process and once with 2
//   WORKERS=2 EVENTS=100000 node bench/runtime-ingest/run.mjs   # one round, 2 workers
//   EVENTS=100000 BATCH=500 CONNECTIONS=8 node bench/runtime-ingest/run.mjs
//   LOG=kafka KAFKA_BROKERS=127.0.0.1:9092 node bench/runtime-ingest/run.mjs   # bash infra/local/kafka.sh start
//   PROFILE_DIR=/tmp/prof WORKERS=1 node bench/runtime-ingest/run.mjs   # CPU profile of each server worker
//   WORKER_FLAGS='--trace-gc --max-semi-space-size=16' node bench/runtime-ingest/run.mjs   # node flags of the workers
//
// Environment: DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/postgres), LOG (embedded or kafka),
// KAFKA_BROKERS (default 127.0.0.1:9092), EVENTS, BATCH (events per request), CONNECTIONS (requests in flight),
// NODES (distinct node names, default 20), AUDIT_BATCH (audit events per EventList, default 400), WORKERS (a
// comma list of worker counts, one round each on a fresh log, default 1,2).
//
// The server runs as the service does with RUNTIME_INGEST_WORKERS=N: N node:cluster workers on one port, each a
// full NestJS runtime-ingest with its own log producer and the node flags the service gives its workers
// (workerExecArgv), the primary only handing out connections. CPU µs/event is
// the workers' CPU (and, on the embedded log, the Postgres backends' CPU) over the events: unlike events/s it
// hardly depends on what else the machine runs. Peak RSS is the sum of the workers' peaks.
import 'reflect-metadata';
import { fork } from 'node:child_process';
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import http from 'node:http';
import { loadavg } from 'node:os';
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
const AUDIT_BATCH = int('AUDIT_BATCH', 400);
const WORKERS = (process.env.WORKERS ?? '1,2').split(',').map((w) => {
  const n = Number(w.trim());
  if (!Number.isInteger(n) || n < 1 || n > 64) {
    console.error(
      `bench/runtime-ingest: WORKERS must be a comma list of worker counts (1-64), got "${process.env.WORKERS}"`,
    );
    process.exit(2);
  }
  return n;
});
const LOG = process.env.LOG ?? 'embedded';
if (LOG !== 'embedded' && LOG !== 'kafka') {
  console.error(`bench/runtime-ingest: LOG must be embedded or kafka, got "${LOG}"`);
  process.exit(2);
}
// Falco, Tetragon and audit batches take turns, as three sensors' outputs would interleave.
const SOURCES = ['falco', 'tetragon', 'k8s-audit'];
const CORPUS_DIRS = { falco: 'falco-alerts', tetragon: 'tetragon', 'k8s-audit': 'k8s-audit' };
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
  const shapes = { falco: [], tetragon: [], 'k8s-audit': [] };
  for (const source of SOURCES) {
    const dir = join(corpus, CORPUS_DIRS[source]);
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
  for (const source of SOURCES)
    if (shapes[source].length === 0) throw new Error(`no ${source} corpus events found under ${corpus}`);
  const t0 = Date.parse('2026-12-01T00:00:00Z');
  // Event i: a corpus shape (round robin), on one of NODES nodes (audit events: from one of NODES API server
  // clients), at its own millisecond, with its own audit id. Each shape is stringified once with markers where the
  // per-event values go, so a body costs string joins rather than a JSON.stringify per event: on a 2-core machine
  // the client's CPU is taken from the server's.
  // Private use: JSON.stringify leaves it as it is (a control character would come out escaped).
  const MARK = '\ue000';
  const slot = (name) => `${MARK}${name}${MARK}`;
  const templateOf = (source, base) => {
    const marked =
      source === 'falco'
        ? { ...base, hostname: slot('node'), time: slot('time') }
        : source === 'tetragon'
          ? { ...base, node_name: slot('node'), time: slot('time') }
          : {
              ...base,
              auditID: slot('audit'),
              requestReceivedTimestamp: slot('time'),
              stageTimestamp: slot('time'),
              sourceIPs: [slot('ip')],
            };
    const json = JSON.stringify(marked);
    if (json.split(MARK).length % 2 === 0)
      throw new Error(`a ${source} corpus event holds the marker character`);
    // Even pieces are literal JSON, odd pieces name the value that goes between them.
    return json.split(MARK);
  };
  const templates = Object.fromEntries(SOURCES.map((s) => [s, shapes[s].map((b) => templateOf(s, b))]));
  const eventJson = (source, i) => {
    const parts = templates[source][i % templates[source].length];
    const values = {
      node: `bench-node-${i % NODES}`,
      time: new Date(t0 + i).toISOString(),
      audit: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      ip: `10.0.${i % NODES}.1`,
    };
    let out = parts[0];
    for (let k = 1; k < parts.length; k += 2) out += values[parts[k]] + parts[k + 1];
    return out;
  };
  const bodyOf = (source, from, to) => {
    const events = [];
    for (let i = from; i < to; i++) events.push(eventJson(source, i));
    if (source === 'k8s-audit')
      return `{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[${events.join(',')}]}`;
    return events.join('\n');
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
  let turn = 0;
  let statusCounts = {};
  let retries = 0;
  const started = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  const worker = async () => {
    for (;;) {
      const from = next;
      if (from >= EVENTS) return;
      next = Math.min(EVENTS, from + BATCH);
      const source = SOURCES[turn++ % SOURCES.length];
      // The API server's webhook backend posts at most 400 audit events per EventList
      // (--audit-webhook-batch-max-size), which also keeps one EventList under the reader's 1 MiB value limit.
      if (source === 'k8s-audit') next = Math.min(EVENTS, from + Math.min(BATCH, AUDIT_BATCH));
      const body = bodyOf(source, from, next);
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
  const cpu = process.cpuUsage(cpuStart);
  process.send({
    seconds,
    cpuUs: cpu.user + cpu.system,
    statusCounts,
    retries,
    shapes: Object.fromEntries(SOURCES.map((s) => [s, shapes[s].length])),
  });
  agent.destroy();
  process.exit(0);
}

// ---- a server worker: the runtime-ingest module over the embedded log or Kafka, one of WORKERS on one port ----
const { createEmbeddedEventLog, createKafkaEventLog } = await import('@vigil/event-log');
const { ALL_TOPICS } = await import('@vigil/contracts');
const { createDatabase, createSql, dropDatabase, withDatabase } = await import('@vigil/store');
const { workerExecArgv } = await import('@vigil/runtime-ingest');
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').filter(Boolean);
const quiet = {
  info: () => undefined,
  warn: () => undefined,
  error: (m) => console.error(`  [event-log] ${m}`),
};
const openLog = (dbName, clientId) => {
  const sql = createSql(withDatabase(adminUrl, dbName), { max: 6, applicationName: 'vigil:bench' });
  const log =
    LOG === 'kafka'
      ? createKafkaEventLog({ brokers, clientId, logger: quiet })
      : createEmbeddedEventLog({ sql, logger: quiet });
  return { sql, log };
};

if (cluster.isWorker) {
  const { NestFactory } = await import('@nestjs/core');
  const { composeServiceModules } = await import('@vigil/nest-kit');
  const { RuntimeIngestModule } = await import('@vigil/runtime-ingest');
  const { setLogLevel } = await import('@vigil/telemetry');
  setLogLevel('silent');
  const slot = process.env.BENCH_WORKER;
  const { sql, log } = openLog(process.env.BENCH_DB, `vigil-bench-${slot}`);
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
  const rootModule = composeServiceModules(
    {
      identity: { service: 'runtime-ingest', version: 'bench', instance: `bench-w${slot}` },
      eventLog: recording,
    },
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
  await app.listen(Number(process.env.BENCH_PORT), '127.0.0.1');
  let cpu0 = process.cpuUsage();
  process.on('message', async (m) => {
    if (m.type === 'go') {
      cpu0 = process.cpuUsage();
    } else if (m.type === 'stop') {
      const cpu = process.cpuUsage(cpu0);
      await app.close();
      process.send({ type: 'stopped', cpuUs: cpu.user + cpu.system, records: published.length });
    } else if (m.type === 'raw') {
      // The same records straight into the same log, in calls of the same sizes, this worker's share of the
      // connections at a time.
      const started = process.hrtime.bigint();
      const inFlight = [];
      for (let i = 0; i < published.length; i += m.perCall) {
        inFlight.push(log.publish(published.slice(i, i + m.perCall)));
        if (inFlight.length >= m.concurrency) await inFlight.shift();
      }
      await Promise.all(inFlight);
      process.send({ type: 'raw', seconds: Number(process.hrtime.bigint() - started) / 1e9 });
    } else if (m.type === 'exit') {
      await log.close();
      await sql.close();
      process.send({ type: 'exited', maxRssKb: process.resourceUsage().maxRSS });
      process.disconnect();
    }
  });
  process.send({ type: 'listening' });
} else {
  // ---- the primary: one round per WORKERS entry, each on a fresh log ----
  const logName = LOG === 'kafka' ? `Kafka ${brokers.join(',')}` : 'embedded log';
  const freePort = () =>
    new Promise((resolve, reject) => {
      const srv = createServer();
      srv.on('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const { port } = srv.address();
        srv.close(() => resolve(port));
      });
    });
  const load = () =>
    loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  // CPU of the Postgres backends serving the bench database (embedded log): clock ticks from /proc.
  const TICK_US = 10_000;
  const backendTicks = async (sql, dbName) => {
    const r = await sql.query(
      'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [dbName],
    );
    const ticks = new Map();
    for (const { pid } of r.rows) {
      try {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        ticks.set(pid, Number(fields[11]) + Number(fields[12]));
      } catch {
        // a backend that ended between the query and the read, or Postgres on another host
      }
    }
    return ticks;
  };
  const round = async (workers) => {
    const dbName = `vigil_bench_rtingest_${randomUUID().slice(0, 8)}`;
    if (LOG === 'embedded') await createDatabase(adminUrl, dbName);
    const admin = openLog(LOG === 'embedded' ? dbName : 'postgres', 'vigil-bench-admin');
    const procs = [];
    try {
      await admin.log.ensureTopics(ALL_TOPICS);
      const port = await freePort();
      // PROFILE_DIR: each worker writes a CPU profile there (node --cpu-prof) when it exits.
      // The node flags the service's primary gives its workers; WORKER_FLAGS adds to them (e.g. --trace-gc).
      const extra = (process.env.WORKER_FLAGS ?? '').split(' ').filter(Boolean);
      const workerArgv = [
        ...workerExecArgv(extra, process.env.NODE_OPTIONS),
        ...(process.env.PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROFILE_DIR}`] : []),
      ];
      cluster.setupPrimary({ exec: fileURLToPath(import.meta.url), args: [], execArgv: workerArgv });
      const messages = new Map();
      const next = (w, type) =>
        new Promise((resolve, reject) => {
          const onMessage = (m) => {
            if (m.type !== type) return;
            w.off('message', onMessage);
            w.off('exit', onExit);
            resolve(m);
          };
          const onExit = (code) =>
            reject(new Error(`bench worker exited with code ${code} before "${type}"`));
          w.on('message', onMessage);
          w.once('exit', onExit);
        });
      for (let slot = 1; slot <= workers; slot++) {
        const w = cluster.fork({ BENCH_WORKER: String(slot), BENCH_DB: dbName, BENCH_PORT: String(port) });
        procs.push(w);
        messages.set(w, next(w, 'listening'));
      }
      await Promise.all(procs.map((w) => messages.get(w)));
      for (const w of procs) w.send({ type: 'go' });
      const ticks0 = LOG === 'embedded' ? await backendTicks(admin.sql, dbName) : new Map();
      const client = fork(fileURLToPath(import.meta.url), ['client', String(port)], {
        env: process.env,
        execArgv: [],
      });
      const report = await new Promise((resolve, reject) => {
        client.on('message', resolve);
        client.on('exit', (code) => code !== 0 && reject(new Error(`the client exited with ${code}`)));
      });
      const ticks1 = LOG === 'embedded' ? await backendTicks(admin.sql, dbName) : new Map();
      let dbTicks = 0;
      for (const [pid, t] of ticks1) dbTicks += t - (ticks0.get(pid) ?? 0);
      const stopped = await Promise.all(
        procs.map((w) => {
          const p = next(w, 'stopped');
          w.send({ type: 'stop' });
          return p;
        }),
      );
      const records = stopped.reduce((a, s) => a + s.records, 0);
      const accepted = report.statusCounts['202'] ?? 1;
      const perCall = Math.max(1, Math.round(records / accepted));
      const raws = await Promise.all(
        procs.map((w) => {
          const p = next(w, 'raw');
          w.send({ type: 'raw', perCall, concurrency: Math.max(1, Math.ceil(CONNECTIONS / workers)) });
          return p;
        }),
      );
      const exited = await Promise.all(
        procs.map((w) => {
          const p = next(w, 'exited');
          w.send({ type: 'exit' });
          return p;
        }),
      );
      // Let them exit on their own (a CPU profile is written at exit); the finally kills any that does not.
      await Promise.race([
        Promise.all(procs.map((w) => (w.isDead() ? null : new Promise((r) => w.once('exit', r))))),
        new Promise((r) => setTimeout(r, 10_000)),
      ]);
      return {
        workers,
        report,
        records,
        rawSeconds: Math.max(...raws.map((r) => r.seconds)),
        serverCpuUs: stopped.reduce((a, s) => a + s.cpuUs, 0),
        dbCpuUs: dbTicks * TICK_US,
        peakRssMb: exited.reduce((a, e) => a + e.maxRssKb, 0) / 1024,
        load: load(),
      };
    } finally {
      for (const w of procs) if (!w.isDead()) w.process.kill('SIGKILL');
      await admin.log.close();
      await admin.sql.close();
      if (LOG === 'embedded') await dropDatabase(adminUrl, dbName);
    }
  };

  console.log(
    `bench/runtime-ingest: ${fmt(EVENTS)} events, ${fmt(BATCH)} per request, ${CONNECTIONS} connections, ${NODES} nodes, workers ${WORKERS.join(' then ')}; ${logName}${LOG === 'embedded' ? ` on Postgres ${adminUrl.replace(/:[^:@/]*@/, ':***@')}` : ''}; load average ${load()}`,
  );
  const results = [];
  for (const n of WORKERS) {
    const r = await round(n);
    results.push(r);
    console.log(
      `  ${n} worker(s) done: ${fmt(EVENTS / r.report.seconds)} events/s, responses ${JSON.stringify(r.report.statusCounts)}, retried ${r.report.retries}; load average ${r.load}`,
    );
  }
  const first = results[0].report;
  console.log(
    `corpus shapes: ${first.shapes.falco} Falco alerts, ${first.shapes.tetragon} Tetragon events, ${first.shapes['k8s-audit']} audit events`,
  );
  console.log('');
  const base = results.find((r) => r.workers === 1) ?? results[0];
  const baseRate = EVENTS / base.report.seconds;
  const us = (x) => (x / EVENTS).toFixed(1);
  const cols = [
    ['workers', 7],
    ['events/s', 10],
    [`vs ${base.workers}w`, 6],
    ['records/s', 10],
    ['raw pub rec/s', 13],
    ['CPU µs/ev srv', 13],
    [LOG === 'embedded' ? 'pg µs/ev' : '', 8],
    ['client µs/ev', 12],
    ['peak RSS MB', 11],
    ['load (1 5 15)', 16],
  ];
  console.log(cols.map(([h, w]) => h.padStart(w)).join(' '));
  for (const r of results) {
    const evps = EVENTS / r.report.seconds;
    const row = [
      String(r.workers),
      fmt(evps),
      `${(evps / baseRate).toFixed(2)}x`,
      fmt(r.records / r.report.seconds),
      fmt(r.records / r.rawSeconds),
      us(r.serverCpuUs),
      LOG === 'embedded' ? us(r.dbCpuUs) : '',
      us(r.report.cpuUs),
      fmt(r.peakRssMb),
      r.load,
    ];
    console.log(row.map((v, i) => v.padStart(cols[i][1])).join(' '));
  }
  console.log('');
  console.log(
    `records: the FindingReported events published (${fmt(base.records)} for ${fmt(EVENTS)} events; bursts aggregate). raw pub: the same records published straight into the log by the same processes after the round.`,
  );
  const best = Math.max(...results.map((r) => EVENTS / r.report.seconds));
  console.log(
    `HTTP ingest: best ${fmt(best)} events/s (target 20,000/s: ${best >= 20_000 ? 'met' : 'NOT met'})`,
  );
}
