// Acceptance: a reporting process killed with SIGKILL inside a batch and restarted ends with the same snapshot as
// an uninterrupted run over the same log, with no finding lost or doubled. Real here: Postgres (the embedded event
// log and two reporting databases), child processes running the real projection, the corpus's OSV records.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ALL_TOPICS } from '@vigil/contracts';
import { createEmbeddedEventLog, type EventLog } from '@vigil/event-log';
import { reportFromContent } from '@vigil/report';
import {
  createDatabase,
  createSql,
  dropDatabase,
  openReportingStore,
  runMigrations,
  withDatabase,
  type ReportingStore,
  type Sql,
} from '@vigil/store';
import { corpusAdvisories, eventFactory, publishAll } from './corpus-events.spec-helper.js';
import { REPORTING_TOPICS } from './reporting.module.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const child = fileURLToPath(new URL('./reporting-child.spec-helper.js', import.meta.url));
const COPIES = Number(process.env.SIGKILL_SPEC_IMAGES ?? 40);

interface Running {
  proc: ChildProcess;
  lines: string[];
  // Resolves with the line once a line matching the pattern has been printed.
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
}

function start(logUrl: string, storeUrl: string, group: string): Running {
  const proc = spawn(process.execPath, ['--enable-source-maps', child], {
    env: { ...process.env, LOG_URL: logUrl, STORE_URL: storeUrl, GROUP: group, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiters: { pattern: RegExp; done: (l: string) => void }[] = [];
  let rest = '';
  proc.stdout!.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString('utf8')).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      for (const w of [...waiters])
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.done(line);
        }
    }
  });
  return {
    proc,
    lines,
    waitFor(pattern, ms = 120_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child never printed ${pattern}`)), ms);
        waiters.push({
          pattern,
          done: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
        proc.once('exit', (code, signal) =>
          reject(new Error(`child exited (${code ?? signal}) before printing ${pattern}`)),
        );
      });
    },
  };
}

async function stop(r: Running | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!r || r.proc.exitCode !== null || r.proc.signalCode !== null) return;
  const exited = once(r.proc, 'exit');
  r.proc.kill(signal);
  await exited;
}

async function until(what: string, done: () => Promise<boolean>, ms = 300_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('reporting killed with SIGKILL mid-batch', () => {
  const names = ['log', 'a', 'b'].map((n) => `vigil_sigkill_${n}_${randomUUID().slice(0, 8)}`);
  const [logUrl, urlA, urlB] = names.map((n) => withDatabase(adminUrl, n)) as [string, string, string];
  let sql: Sql;
  let log: EventLog;
  let storeA: ReportingStore;
  let storeB: ReportingStore;
  let sqlA: Sql;
  let sqlB: Sql;
  const running: Running[] = [];

  before(async () => {
    for (const n of names) await createDatabase(adminUrl, n);
    await runMigrations(urlA);
    await runMigrations(urlB);
    sql = createSql(logUrl);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
    storeA = await openReportingStore(urlA);
    storeB = await openReportingStore(urlB);
    sqlA = createSql(urlA);
    sqlB = createSql(urlB);
  });
  after(async () => {
    for (const r of running) await stop(r, 'SIGKILL');
    await log?.close();
    await sql?.close();
    await storeA?.close();
    await storeB?.close();
    await sqlA?.close();
    await sqlB?.close();
    for (const n of names) await dropDatabase(adminUrl, n);
  });

  it('ends with the same snapshot content hash as an uninterrupted run, no finding lost or doubled', async () => {
    const scope = { tenant: '', cluster: 'payments-prod' };
    const f = eventFactory(scope);
    const advisories = corpusAdvisories();
    const findings = [];
    for (let copy = 0; copy < COPIES; copy++)
      for (const a of advisories)
        findings.push(f.finding(a, `registry.example.com/acme/service-${copy}:1.0.0`, copy));
    const ids = findings.map((x) => x.id);
    assert.equal(new Set(ids).size, ids.length, 'every finding id is distinct');
    const started = Date.now();
    await publishAll(
      log,
      findings.map((x) => f.reported('scan-backlog', x)),
    );
    const published = Date.now() - started;

    const countFindingEvents = async (store: ReportingStore) => {
      const db = store === storeA ? sqlA : sqlB;
      const r = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM events WHERE event_type = 'vigil.v1.FindingReported'`,
      );
      return Number(r.rows[0]?.n ?? 0);
    };

    // The uninterrupted run.
    const t0 = Date.now();
    const a = start(logUrl, urlA, 'spec.reporting.a');
    running.push(a);
    await a.waitFor(/^ready$/);
    await until(
      'run A to store every finding',
      async () => (await countFindingEvents(storeA)) === ids.length,
    );
    const uninterruptedMs = Date.now() - t0;

    // The killed run: SIGKILL once the fifth batch has begun and before it has ended.
    const b1 = start(logUrl, urlB, 'spec.reporting.b');
    running.push(b1);
    await b1.waitFor(/^begin 5 /);
    b1.proc.kill('SIGKILL');
    await once(b1.proc, 'exit');
    assert.ok(!b1.lines.includes('end 5'), 'the process died inside batch 5');
    const storedAtKill = await countFindingEvents(storeB);
    assert.ok(storedAtKill < ids.length, `killed before the end (${storedAtKill} of ${ids.length} stored)`);
    const lagAtKill = (await log.lag('spec.reporting.b', REPORTING_TOPICS)).reduce((n, l) => n + l.lag, 0);
    assert.ok(lagAtKill > 0);

    const b2 = start(logUrl, urlB, 'spec.reporting.b');
    running.push(b2);
    await b2.waitFor(/^ready$/);
    await until(
      'run B to store every finding',
      async () => (await countFindingEvents(storeB)) === ids.length,
    );

    // The scan's completion comes after the backlog: both runs make their version from the same events.
    await publishAll(log, [f.completed('scan-backlog', 'registry.example.com/acme', ids)]);
    await until('both runs to make version 1', async () =>
      Boolean((await storeA.latestSnapshot(scope.cluster)) && (await storeB.latestSnapshot(scope.cluster))),
    );
    const [va, vb] = [await storeA.latestSnapshot(scope.cluster), await storeB.latestSnapshot(scope.cluster)];
    assert.equal(va!.version, 1);
    assert.equal(vb!.version, 1);
    assert.equal(vb!.contentHash, va!.contentHash, 'the killed run ends with the same snapshot');
    const report = reportFromContent(vb!.content, vb!.contentHash);
    assert.equal(report.findings.length, ids.length, 'no finding lost or doubled in the snapshot');
    assert.deepEqual(report.findings.map((x) => x.id).sort(), [...ids].sort());
    for (const store of [storeA, storeB]) {
      const open = await store.findingsForScope(scope.cluster, 'open');
      assert.equal(open.length, ids.length);
      assert.equal(new Set(open.map((x) => x.findingId)).size, ids.length);
      assert.equal(await countFindingEvents(store), ids.length, 'each event stored once');
    }
    process.stdout.write(
      `# sigkill spec: ${ids.length} findings published in ${published} ms; uninterrupted run stored them in ` +
        `${uninterruptedMs} ms; killed run had stored ${storedAtKill} at the kill\n`,
    );
    for (const r of running) await stop(r, 'SIGTERM');
  });
});
