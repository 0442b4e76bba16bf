// The one contract suite of the EventLog port. kafka.int.spec.ts and embedded.int.spec.ts run it against real
// servers; everything here talks to the port only, except the harness' admin view (what the broker or the log's
// tables say), which each spec provides and which the suite prints so a run shows it hit a real server.
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { context, propagation, trace, SpanKind } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Sql } from '@vigil/store';
import {
  DEAD_LETTER_HEADERS,
  type ConsumedRecord,
  type EventLog,
  type EventLogLogger,
  type Subscription,
} from '../event-log.port.js';
import {
  applyToProjection,
  createProjection,
  decodeTestEvent,
  encodeTestEvent,
  type TestEvent,
} from './projection.js';

export interface AdminView {
  /** The server's own identity: Kafka's cluster id, or the Postgres system identifier and database. */
  cluster: string;
  topics: { name: string; partitions: number }[];
  offsets: { group: string; topic: string; partition: number; offset: string }[];
}

export interface ContractHarness {
  adapter: 'kafka' | 'embedded';
  /** A new, independent client of the same log, as another process would hold. */
  createLog(options?: { logger?: EventLogLogger }): Promise<EventLog>;
  /** A client pointed at a server that does not answer. */
  createUnreachableLog(options: { logger: EventLogLogger }): EventLog;
  /** Environment for the child consumer process so it builds the same log. */
  childEnv: Record<string, string>;
  /** Session timeout the logs and the child use, so the suite knows how long a dead member takes to expire. */
  sessionTimeoutMs: number;
  /** The database of the projections (both adapters project into Postgres). */
  sql: Sql;
  admin(topics: string[], groups: string[]): Promise<AdminView>;
  close(): Promise<void>;
}

const CHILD = fileURLToPath(new URL('./projection-consumer.child.js', import.meta.url));

let exporter: InMemorySpanExporter | undefined;

/** Registers a real W3C propagator, context manager and tracer provider once per test process. */
function installTracing(): InMemorySpanExporter {
  if (exporter) return exporter;
  exporter = new InMemorySpanExporter();
  const ok =
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    ) &&
    propagation.setGlobalPropagator(new W3CTraceContextPropagator()) &&
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  assert.ok(ok, 'another OpenTelemetry global was registered before the contract suite');
  return exporter;
}

function unique(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}.${randomUUID().slice(0, 8)}`;
}

async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean | Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function events(keys: string[], seqFrom: number, seqTo: number, topic: string) {
  // Interleaved: seq-major, so every publish call mixes keys and partitions.
  const out: { topic: string; key: string; value: Uint8Array; event: TestEvent }[] = [];
  for (let seq = seqFrom; seq < seqTo; seq++) {
    for (const key of keys) {
      const event = { id: `${key}#${seq}`, key, seq };
      out.push({ topic, key, value: encodeTestEvent(event), event });
    }
  }
  return out;
}

async function publishInChunks(
  log: EventLog,
  records: { topic: string; key: string; value: Uint8Array }[],
  size: number,
) {
  for (let i = 0; i < records.length; i += size) {
    await log.publish(records.slice(i, i + size).map(({ topic, key, value }) => ({ topic, key, value })));
  }
}

async function waitCaughtUp(
  log: EventLog,
  group: string,
  topics: string[],
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(`group ${group} to commit the end of ${topics.join(',')}`, timeoutMs, async () => {
    const lag = await log.lag(group, topics);
    return lag.length > 0 && lag.every((p) => p.lag === 0 && (p.end === '0' || p.committed === p.end));
  });
}

function firstOccurrences(seqs: number[]): number[] {
  const seen = new Set<number>();
  return seqs.filter((s) => (seen.has(s) ? false : (seen.add(s), true)));
}

export function eventLogContract(name: string, setup: () => Promise<ContractHarness>): void {
  describe(`EventLog contract: ${name}`, () => {
    let h: ContractHarness;
    let log: EventLog;
    const subs: Subscription[] = [];
    const logs: EventLog[] = [];
    const children: ChildProcess[] = [];

    before(async () => {
      installTracing();
      h = await setup();
      log = await h.createLog();
      logs.push(log);
    });

    after(async () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(subs.map((s) => s.stop()));
      await Promise.all(logs.map((l) => l.close()));
      await h?.close();
    });

    async function newLog(): Promise<EventLog> {
      const l = await h.createLog();
      logs.push(l);
      return l;
    }

    async function printAdmin(t: TestContext, topics: string[], groups: string[]): Promise<void> {
      const view = await h.admin(topics, groups);
      t.diagnostic(`${h.adapter} admin: cluster ${view.cluster}`);
      for (const tp of view.topics)
        t.diagnostic(`${h.adapter} admin: topic ${tp.name} partitions=${tp.partitions}`);
      for (const o of view.offsets) {
        t.diagnostic(
          `${h.adapter} admin: group ${o.group} committed ${o.topic}[${o.partition}] next offset ${o.offset}`,
        );
      }
      // What the suite prints must be what the server holds, not a restatement of what the test asked for.
      for (const tp of topics)
        assert.ok(
          view.topics.some((x) => x.name === tp),
          `the admin view lists topic ${tp}`,
        );
      for (const g of groups)
        assert.ok(
          view.offsets.some((o) => o.group === g),
          `the admin view lists offsets of group ${g}`,
        );
    }

    test('keeps order per key across many keys and partitions', async (t) => {
      const topic = unique('contract.order');
      const group = unique('g.order');
      await log.ensureTopics([{ name: topic, partitions: 3 }]);
      const keys = Array.from({ length: 24 }, (_, i) => `asset-${i}`);
      const records = events(keys, 0, 25, topic);
      await publishInChunks(log, records, 70);

      const got = new Map<string, number[]>();
      const partitionOf = new Map<string, Set<number>>();
      let received = 0;
      const sub = await log.subscribe({
        group,
        topics: [topic],
        maxBatchSize: 40,
        handler: async (batch) => {
          for (const r of batch) {
            const e = decodeTestEvent(r.value);
            assert.equal(r.key, e.key);
            got.set(e.key, [...(got.get(e.key) ?? []), e.seq]);
            partitionOf.set(e.key, (partitionOf.get(e.key) ?? new Set()).add(r.partition));
            received++;
          }
        },
      });
      subs.push(sub);
      await waitFor('600 records', 20_000, () => received >= records.length);
      await waitCaughtUp(log, group, [topic]);
      await sub.stop();

      assert.equal(received, records.length);
      for (const key of keys) {
        assert.deepEqual(
          got.get(key),
          Array.from({ length: 25 }, (_, i) => i),
          `seqs of ${key} in order`,
        );
        assert.equal(partitionOf.get(key)!.size, 1, `${key} stays on one partition`);
      }
      const used = new Set([...partitionOf.values()].flatMap((s) => [...s]));
      assert.ok(used.size > 1, `keys spread over partitions (${[...used].join(',')})`);
      await printAdmin(t, [topic], [group]);
    });

    test('carries one W3C trace from publish into the consumer handler', async (t) => {
      const spans = installTracing();
      const topic = unique('contract.trace');
      const group = unique('g.trace');
      await log.ensureTopics([{ name: topic, partitions: 2 }]);
      const tracer = trace.getTracer('vigil.contract-test');
      const root = tracer.startSpan('scan request');
      const traceId = root.spanContext().traceId;
      await context.with(trace.setSpan(context.active(), root), () =>
        log.publish([
          {
            topic,
            key: 'image:nginx',
            value: encodeTestEvent({ id: 'trace-1', key: 'image:nginx', seq: 0 }),
          },
        ]),
      );
      root.end();

      let seen: { activeTraceId?: string; traceparent?: string } | undefined;
      const sub = await log.subscribe({
        group,
        topics: [topic],
        handler: async ([r]) => {
          seen = {
            activeTraceId: trace.getActiveSpan()?.spanContext().traceId,
            traceparent: r!.headers.traceparent,
          };
        },
      });
      subs.push(sub);
      await waitFor('the traced record', 20_000, () => seen !== undefined);
      await waitCaughtUp(log, group, [topic]);
      await sub.stop();

      assert.match(seen!.traceparent ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
      assert.equal(seen!.activeTraceId, traceId);
      const finished = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const producer = finished.find((s) => s.kind === SpanKind.PRODUCER);
      const consumer = finished.find((s) => s.kind === SpanKind.CONSUMER);
      assert.ok(producer && consumer, `producer and consumer spans in trace ${traceId}`);
      assert.equal(
        consumer.parentSpanContext?.spanId,
        producer.spanContext().spanId,
        'the consumer span is a child of the publish span',
      );
      t.diagnostic(
        `${h.adapter}: trace ${traceId}: ${finished.map((s) => `${s.name} (${SpanKind[s.kind]})`).join(' -> ')}`,
      );
      await printAdmin(t, [topic], [group]);
    });

    test('redelivers after a consumer is SIGKILLed between handling and commit; projection applies each event once', async (t) => {
      const topic = unique('contract.kill');
      const group = unique('g.kill');
      const table = `proj_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
      await log.ensureTopics([{ name: topic, partitions: 2 }]);
      await createProjection(h.sql, table);
      const keys = ['card-1', 'card-2', 'card-3'];
      const records = events(keys, 0, 6, topic);
      await publishInChunks(log, records, 100);
      const hangOn = 'card-2#3';

      const child = spawn(process.execPath, ['--enable-source-maps', CHILD], {
        env: {
          ...process.env,
          ...h.childEnv,
          VIGIL_CHILD_TOPIC: topic,
          VIGIL_CHILD_GROUP: group,
          VIGIL_CHILD_TABLE: table,
          VIGIL_CHILD_HANG_ON: hangOn,
          VIGIL_CHILD_SESSION_MS: String(h.sessionTimeoutMs),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += String(d)));
      child.stderr!.on('data', (d) => (err += String(d)));
      await waitFor(`the child to apply ${hangOn} (stdout: ${out}; stderr: ${err})`, 30_000, () =>
        out.includes(`APPLIED ${hangOn}`),
      );
      const exited = new Promise((r) => child.once('exit', (code, signal) => r(signal ?? code)));
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');
      const appliedByChild = out
        .split('\n')
        .filter((l) => l.startsWith('APPLIED ') || l.startsWith('HANDLED ')).length;
      t.diagnostic(
        `${h.adapter}: child applied ${appliedByChild} events, hung on ${hangOn}, killed with SIGKILL`,
      );

      const killedLine = out.split('\n').find((l) => l.startsWith(`APPLIED ${hangOn}`))!;
      const [, , killedPartition, killedOffset] = killedLine.split(' ');
      const lagAtKill = await log.lag(group, [topic]);
      const p = lagAtKill.find((x) => String(x.partition) === killedPartition)!;
      assert.ok(
        BigInt(p.committed) <= BigInt(killedOffset!),
        `offset ${killedOffset} was not committed (committed ${p.committed})`,
      );

      // The restarted consumer: same group, another process' worth of client.
      const restarted = await newLog();
      const redelivered: string[] = [];
      let duplicates = 0;
      const sub = await restarted.subscribe({
        group,
        topics: [topic],
        handler: async (batch) => {
          for (const r of batch) {
            const e = decodeTestEvent(r.value);
            redelivered.push(e.id);
            if (!(await applyToProjection(h.sql, table, e, r))) duplicates++;
          }
        },
      });
      subs.push(sub);
      await waitFor('the restarted consumer to catch up', 60_000, async () => {
        const lag = await restarted.lag(group, [topic]);
        return lag.every((x) => x.lag === 0);
      });
      await sub.stop();

      assert.ok(
        redelivered.includes(hangOn),
        `${hangOn} delivered again after the kill (got ${redelivered.join(',')})`,
      );
      assert.ok(duplicates >= 1, 'the projection saw the redelivery and ignored it');
      const applied = await h.sql.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}_applied`);
      assert.equal(Number(applied.rows[0]!.n), records.length, 'every event applied, none lost');
      const totals = await h.sql.query<{ key: string; events: number; seq_sum: string }>(
        `SELECT key, events, seq_sum::text AS seq_sum FROM ${table}_totals ORDER BY key`,
      );
      assert.deepEqual(
        totals.rows.map((r) => [r.key, r.events, Number(r.seq_sum)]),
        keys.map((k) => [k, 6, 0 + 1 + 2 + 3 + 4 + 5]),
        'each event applied exactly once',
      );
      t.diagnostic(
        `${h.adapter}: restarted consumer got ${redelivered.length} records (${duplicates} already applied, ignored)`,
      );
      await printAdmin(t, [topic], [group]);
    });

    test('two consumers of one group split the partitions; a rebalance loses nothing', async (t) => {
      const topic = unique('contract.rebalance');
      const group = unique('g.rebalance');
      await log.ensureTopics([{ name: topic, partitions: 4 }]);
      const keys = Array.from({ length: 20 }, (_, i) => `node-${i}`);
      type Seen = { consumer: string; partition: number; key: string; seq: number };
      const seen: Seen[] = [];
      const handlerFor = (consumer: string) => async (batch: ConsumedRecord[]) => {
        for (const r of batch) {
          const e = decodeTestEvent(r.value);
          seen.push({ consumer, partition: r.partition, key: e.key, seq: e.seq });
        }
      };
      const logA = await newLog();
      const logB = await newLog();
      const a = await logA.subscribe({ group, topics: [topic], handler: handlerFor('A'), maxBatchSize: 25 });
      subs.push(a);
      await a.ready;
      const b = await logB.subscribe({ group, topics: [topic], handler: handlerFor('B'), maxBatchSize: 25 });
      subs.push(b);
      await b.ready;
      // A settles its share when B joins; on Kafka B's join completes only once A has rejoined.
      await new Promise((r) => setTimeout(r, 300));

      await publishInChunks(log, events(keys, 0, 10, topic), 50);
      await waitFor(
        'the first 200 records',
        30_000,
        () => new Set(seen.map((s) => `${s.key}#${s.seq}`)).size >= 200,
      );
      const partsOf = (c: string) => new Set(seen.filter((s) => s.consumer === c).map((s) => s.partition));
      const aParts = partsOf('A');
      const bParts = partsOf('B');
      t.diagnostic(
        `${h.adapter}: while both ran, A read partitions [${[...aParts].sort()}], B read [${[...bParts].sort()}]`,
      );
      assert.ok(aParts.size > 0 && bParts.size > 0, 'both members got partitions');
      assert.deepEqual(
        [...aParts].filter((p) => bParts.has(p)),
        [],
        'no partition read by both',
      );
      assert.equal(aParts.size + bParts.size, 4);

      await waitCaughtUp(log, group, [topic]);
      await b.stop();
      const before = seen.length;
      await publishInChunks(log, events(keys, 10, 20, topic), 50);
      await waitFor(
        'all 400 records',
        60_000,
        () => new Set(seen.map((s) => `${s.key}#${s.seq}`)).size >= 400,
      );
      await waitCaughtUp(log, group, [topic], 30_000);

      const afterLeave = seen.slice(before);
      assert.ok(
        afterLeave.every((s) => s.consumer === 'A'),
        'only A reads after B left',
      );
      assert.deepEqual(
        new Set(afterLeave.map((s) => s.partition)),
        new Set([0, 1, 2, 3]),
        "A took over B's partitions",
      );
      for (const key of keys) {
        const all = new Set(seen.filter((s) => s.key === key).map((s) => s.seq));
        assert.deepEqual(
          [...all].sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i),
          `nothing of ${key} lost or skipped`,
        );
        for (const c of ['A', 'B']) {
          const seqs = firstOccurrences(
            seen.filter((s) => s.key === key && s.consumer === c).map((s) => s.seq),
          );
          assert.deepEqual(
            seqs,
            [...seqs].sort((x, y) => x - y),
            `${c} read ${key} in order`,
          );
        }
      }
      const duplicates = seen.length - 400;
      t.diagnostic(`${h.adapter}: 400 distinct records, ${duplicates} redelivered across the rebalance`);
      await printAdmin(t, [topic], [group]);
    });

    test('replays every record from the start, in order per partition, without a group', async (t) => {
      const topic = unique('contract.replay');
      await log.ensureTopics([{ name: topic, partitions: 3 }]);
      const keys = Array.from({ length: 9 }, (_, i) => `ns-${i}`);
      await publishInChunks(log, events(keys, 0, 10, topic), 30);

      const read = async () => {
        const got: ConsumedRecord[] = [];
        await log.replay([topic], async (batch) => {
          got.push(...batch);
        });
        return got;
      };
      const first = await read();
      assert.equal(first.length, 90);
      const byPartition = new Map<number, string[]>();
      for (const r of first)
        byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r.offset]);
      for (const [p, offsets] of byPartition) {
        assert.deepEqual(
          offsets,
          offsets.map((_, i) => String(i)),
          `partition ${p} replayed from offset 0 without gaps`,
        );
      }
      for (const key of keys) {
        assert.deepEqual(
          first.filter((r) => r.key === key).map((r) => decodeTestEvent(r.value).seq),
          Array.from({ length: 10 }, (_, i) => i),
        );
      }
      await log.publish([
        { topic, key: 'ns-0', value: encodeTestEvent({ id: 'late', key: 'ns-0', seq: 10 }) },
      ]);
      const second = await read();
      assert.equal(second.length, 91, 'a second replay reads to the new end');
      t.diagnostic(
        `${h.adapter}: replay read ${first.length} then ${second.length} records over ${byPartition.size} partitions`,
      );
      await printAdmin(t, [topic], []);
    });

    test('dead-letters a poison record after maxAttempts with the error, and keeps going', async (t) => {
      const topic = unique('contract.poison');
      const dlq = unique('contract.dlq');
      const group = unique('g.poison');
      await log.ensureTopics([{ name: topic, partitions: 1 }]);
      const recs = [0, 1, 2, 3, 4].map((seq) => ({ id: `k#${seq}`, key: 'k', seq, poison: seq === 2 }));
      await log.publish(
        recs.map((e) => ({
          topic,
          key: e.key,
          value: encodeTestEvent(e),
          headers: { 'test-header': `h${e.seq}` },
        })),
      );

      const handled: number[] = [];
      let poisonCalls = 0;
      const sub = await log.subscribe({
        group,
        topics: [topic],
        deadLetterTopic: dlq,
        maxAttempts: 3,
        retryBackoffMs: 20,
        handler: async (batch) => {
          const ok: number[] = [];
          for (const r of batch) {
            const e = decodeTestEvent(r.value);
            if (e.poison) {
              poisonCalls++;
              throw new Error(`cannot decode event ${e.id}: unknown payload`);
            }
            ok.push(e.seq);
          }
          handled.push(...ok);
        },
      });
      subs.push(sub);
      const dead: ConsumedRecord[] = [];
      const dlqGroup = unique('g.dlq');
      const dlqSub = await log.subscribe({
        group: dlqGroup,
        topics: [dlq],
        handler: async (b) => void dead.push(...b),
      });
      subs.push(dlqSub);
      await waitFor(
        'records after the poison and the dead letter',
        30_000,
        () => handled.includes(4) && dead.length >= 1,
      );
      await waitCaughtUp(log, group, [topic]);
      await sub.stop();
      await dlqSub.stop();

      assert.deepEqual(firstOccurrences(handled), [0, 1, 3, 4]);
      assert.equal(poisonCalls, 3, 'the poison record was tried maxAttempts times');
      assert.equal(dead.length, 1);
      const d = dead[0]!;
      assert.equal(d.key, 'k');
      assert.deepEqual(decodeTestEvent(d.value), recs[2]);
      assert.equal(d.headers[DEAD_LETTER_HEADERS.error], 'Error: cannot decode event k#2: unknown payload');
      assert.equal(d.headers[DEAD_LETTER_HEADERS.topic], topic);
      assert.equal(d.headers[DEAD_LETTER_HEADERS.partition], '0');
      assert.equal(d.headers[DEAD_LETTER_HEADERS.offset], '2');
      assert.equal(d.headers[DEAD_LETTER_HEADERS.group], group);
      assert.equal(d.headers[DEAD_LETTER_HEADERS.attempts], '3');
      assert.equal(d.headers['test-header'], 'h2', 'the original headers travel with the dead letter');
      t.diagnostic(
        `${h.adapter}: dead letter on ${dlq}: ${d.headers[DEAD_LETTER_HEADERS.error]} (attempts ${d.headers[DEAD_LETTER_HEADERS.attempts]})`,
      );
      await printAdmin(t, [topic, dlq], [group, dlqGroup]);
    });

    test('graceful stop lets the handler in flight finish and commits its offset', async (t) => {
      const topic = unique('contract.drain');
      const group = unique('g.drain');
      await log.ensureTopics([{ name: topic, partitions: 1 }]);
      await log.publish([{ topic, key: 'x', value: encodeTestEvent({ id: 'x#0', key: 'x', seq: 0 }) }]);
      let entered = false;
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let finished = false;
      const sub = await log.subscribe({
        group,
        topics: [topic],
        handler: async () => {
          entered = true;
          await gate;
          finished = true;
        },
      });
      subs.push(sub);
      await waitFor('the handler to start', 20_000, () => entered);
      let stopped = false;
      const stopping = sub.stop().then(() => (stopped = true));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(stopped, false, 'stop waits for the handler in flight');
      release();
      await stopping;
      assert.equal(finished, true);
      const lag = await log.lag(group, [topic]);
      assert.deepEqual(
        lag.map((p) => [p.partition, p.committed, p.lag]),
        [[0, '1', 0]],
        'the drained record is committed',
      );
      await printAdmin(t, [topic], [group]);
    });

    test('an ephemeral group reads like any other and is deleted with its committed positions on stop', async () => {
      const topic = unique('contract.ephemeral');
      const group = unique('g.ephemeral');
      const kept = unique('g.kept');
      await log.ensureTopics([{ name: topic, partitions: 2 }]);
      await log.publish(
        ['a', 'b', 'c', 'd'].map((key, seq) => ({
          topic,
          key,
          value: encodeTestEvent({ id: `${key}#${seq}`, key, seq }),
        })),
      );
      const seen = { ephemeral: 0, kept: 0 };
      const subscribe = (g: string, ephemeral: boolean, count: keyof typeof seen) =>
        log.subscribe({
          group: g,
          topics: [topic],
          ephemeral,
          handler: async (records) => {
            seen[count] += records.length;
          },
        });
      const sub = await subscribe(group, true, 'ephemeral');
      const other = await subscribe(kept, false, 'kept');
      subs.push(other);
      await waitFor(
        'both groups to read the 4 records',
        20_000,
        () => seen.ephemeral === 4 && seen.kept === 4,
      );
      await waitFor('the ephemeral group to commit', 20_000, async () =>
        (await log.lag(group, [topic])).every((p) => p.lag === 0),
      );
      await sub.stop();
      const view = await h.admin([topic], [group, kept]);
      assert.deepEqual(
        view.offsets.filter((o) => o.group === group),
        [],
        'the ephemeral group has no committed positions left',
      );
      assert.ok(
        view.offsets.some((o) => o.group === kept),
        'a group that is not ephemeral keeps its positions',
      );
      assert.ok(
        (await log.lag(group, [topic])).every((p) => p.committed === '-1'),
        'lag sees no committed offset for the deleted group',
      );
    });

    test('an unreachable server: ping is false, subscribe retries and says which server', async (t) => {
      const lines: string[] = [];
      const logger: EventLogLogger = {
        info: () => undefined,
        warn: (m) => void lines.push(m),
        error: (m) => void lines.push(m),
      };
      const dead = h.createUnreachableLog({ logger });
      const started = Date.now();
      assert.equal(await dead.ping(), false);
      assert.ok(Date.now() - started < 5_000, 'ping answers within its timeout');
      // Subscribe does not fail on an outage: the member retries in the background and logs what it is waiting for.
      const sub = await dead.subscribe({
        group: unique('g.dead'),
        topics: ['never.there'],
        handler: async () => undefined,
      });
      await waitFor('a retry log line', 30_000, () => lines.some((l) => /retrying in \d+ ms/.test(l)));
      await sub.stop();
      await dead.close();
      for (const l of lines.filter((x) => /retrying in|not answer/.test(x)).slice(0, 2))
        t.diagnostic(`${h.adapter}: unreachable server: ${l}`);
      assert.equal(await log.ping(), true, 'the real server answers ping');
    });

    test('ensureTopics creates missing topics and leaves existing ones as they are', async (t) => {
      const topic = unique('contract.topics');
      await log.ensureTopics([{ name: topic, partitions: 2 }]);
      await log.ensureTopics([
        { name: topic, partitions: 5 },
        { name: `${topic}.b`, partitions: 3 },
      ]);
      const view = await h.admin([topic, `${topic}.b`], []);
      assert.deepEqual(view.topics.map((x) => [x.name, x.partitions]).sort(), [
        [topic, 2],
        [`${topic}.b`, 3],
      ]);
      await assert.rejects(
        log.publish([{ topic: unique('contract.missing'), key: 'k', value: new Uint8Array([1]) }]),
        /topic "contract\.missing[^"]*" does not exist/,
      );
      await assert.rejects(
        log.subscribe({
          group: unique('g.missing'),
          topics: [unique('contract.missing')],
          handler: async () => undefined,
        }),
        /contract\.missing.*does not exist/,
      );
      await assert.rejects(
        log.lag(unique('g.missing'), [unique('contract.missing')]),
        /contract\.missing.*does not exist/,
      );
      await assert.rejects(
        log.replay([unique('contract.missing')], async () => undefined),
        /contract\.missing.*does not exist/,
      );
      await printAdmin(t, [topic, `${topic}.b`], []);
    });
  });
}
