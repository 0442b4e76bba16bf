import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEAD_LETTER_HEADERS, type ConsumedRecord, type LogRecord } from './event-log.port.js';
import { deliver, type DeliveryContext } from './delivery.js';
import { resolveSubscribeOptions } from './validation.js';

const rec = (offset: number, poison = false): ConsumedRecord => ({
  topic: 'findings.image',
  partition: 3,
  offset: String(offset),
  key: `k${offset}`,
  value: new TextEncoder().encode(poison ? 'poison' : `ok-${offset}`),
  headers: { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
  timestamp: 0,
});

function harness(
  handler: (records: ConsumedRecord[]) => Promise<void>,
  over: { maxAttempts?: number; stopAfterMs?: number } = {},
) {
  const dead: LogRecord[] = [];
  const sleeps: number[] = [];
  let stopping = false;
  const ctx: DeliveryContext = {
    options: resolveSubscribeOptions(
      {
        group: 'reporting',
        topics: ['findings.image'],
        handler,
        maxAttempts: over.maxAttempts ?? 3,
        retryBackoffMs: 100,
        maxRetryBackoffMs: 150,
      },
      'dead-letter',
    ),
    publishRaw: async (r) => void dead.push(...r),
    logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    stopping: () => stopping,
    sleep: async (ms) => {
      sleeps.push(ms);
      if (over.stopAfterMs !== undefined && sleeps.reduce((a, b) => a + b, 0) >= over.stopAfterMs)
        stopping = true;
    },
  };
  return { ctx, dead, sleeps };
}

test('a batch the handler accepts is done in one call', async () => {
  const calls: number[] = [];
  const { ctx, dead } = harness(async (r) => void calls.push(r.length));
  assert.equal(await deliver([rec(0), rec(1), rec(2)], ctx), 3);
  assert.deepEqual(calls, [3]);
  assert.equal(dead.length, 0);
});

test('a poison record is dead-lettered after maxAttempts calls; the records around it are handled', async () => {
  const handled: string[] = [];
  let poisonCalls = 0;
  const { ctx, dead, sleeps } = harness(async (records) => {
    if (records.some((r) => new TextDecoder().decode(r.value) === 'poison')) {
      poisonCalls++;
      throw new TypeError('bad payload');
    }
    handled.push(...records.map((r) => r.offset));
  });
  assert.equal(await deliver([rec(10), rec(11, true), rec(12)], ctx), 3);
  assert.deepEqual(handled, ['10', '12']);
  assert.equal(poisonCalls, 3);
  // The poison record's first call on its own follows the batch call at once; the next one waits the doubled
  // backoff (2 x 100 ms), capped at maxRetryBackoffMs (150 ms).
  assert.deepEqual(sleeps, [150]);
  assert.equal(dead.length, 1);
  const d = dead[0]!;
  assert.equal(d.topic, 'dead-letter');
  assert.equal(d.key, 'k11');
  assert.equal(new TextDecoder().decode(d.value), 'poison');
  assert.equal(d.headers![DEAD_LETTER_HEADERS.error], 'TypeError: bad payload');
  assert.equal(d.headers![DEAD_LETTER_HEADERS.topic], 'findings.image');
  assert.equal(d.headers![DEAD_LETTER_HEADERS.partition], '3');
  assert.equal(d.headers![DEAD_LETTER_HEADERS.offset], '11');
  assert.equal(d.headers![DEAD_LETTER_HEADERS.group], 'reporting');
  assert.equal(d.headers![DEAD_LETTER_HEADERS.attempts], '3');
  assert.equal(d.headers!.traceparent, rec(11).headers.traceparent);
});

test('with maxAttempts 1 an innocent record of a failed batch still gets a call of its own', async () => {
  const { ctx, dead } = harness(
    async (records) => {
      if (records.length > 1) throw new Error('batch too big for this handler');
    },
    { maxAttempts: 1 },
  );
  assert.equal(await deliver([rec(0), rec(1)], ctx), 2);
  assert.equal(dead.length, 0);
});

test('stopping during a retry backoff leaves the failing record unhandled and not dead-lettered', async () => {
  const { ctx, dead } = harness(
    async () => {
      throw new Error('database down');
    },
    { maxAttempts: 5, stopAfterMs: 1 },
  );
  assert.equal(await deliver([rec(7)], ctx), 0);
  assert.equal(dead.length, 0);
});

test('subscribe options are checked with the field named', () => {
  const h = async () => undefined;
  assert.throws(
    () => resolveSubscribeOptions({ group: '', topics: ['a'], handler: h }, 'dead-letter'),
    /invalid group ""/,
  );
  assert.throws(
    () => resolveSubscribeOptions({ group: 'g', topics: [], handler: h }, 'dead-letter'),
    /names no topics/,
  );
  assert.throws(
    () => resolveSubscribeOptions({ group: 'g', topics: ['a'], handler: h, maxAttempts: 0 }, 'dead-letter'),
    /maxAttempts=0/,
  );
  assert.throws(
    () => resolveSubscribeOptions({ group: 'g', topics: ['dead-letter'], handler: h }, 'dead-letter'),
    /reads its own dead-letter topic/,
  );
  assert.throws(
    () => resolveSubscribeOptions({ group: 'g', topics: ['bad topic'], handler: h }, 'dead-letter'),
    /invalid topic name "bad topic"/,
  );
});

test('deadLetterValue builds the dead letter value from the failed record and the failure', async () => {
  const { ctx, dead } = harness(async () => {
    throw new Error('no upcaster for version 9');
  });
  const seen: string[] = [];
  ctx.deadLetterValue = (failed, failure) => {
    seen.push(`${failed.offset}:${failure.group}:${failure.attempts}:${failure.error}`);
    return new TextEncoder().encode(`wrapped:${new TextDecoder().decode(failed.value)}`);
  };
  assert.equal(await deliver([rec(4)], ctx), 1);
  assert.deepEqual(seen, ['4:reporting:3:Error: no upcaster for version 9']);
  assert.equal(new TextDecoder().decode(dead[0]!.value), 'wrapped:ok-4');
  assert.equal(dead[0]!.headers![DEAD_LETTER_HEADERS.error], 'Error: no upcaster for version 9');
});
