import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type {
  BatchHandler,
  ConsumedRecord,
  EventLog,
  LogRecord,
  SubscribeOptions,
} from './event-log.port.js';
import { traced, withRecordContext } from './traced.js';

// The wrapper alone, over a log that hands published records straight to its subscriber (the contract suite
// shows the same on both real adapters).
function loopback(): EventLog & { published: LogRecord[] } {
  let handler: BatchHandler | undefined;
  const published: LogRecord[] = [];
  return {
    published,
    ensureTopics: async () => undefined,
    publish: async (records) => {
      published.push(...records);
      const consumed: ConsumedRecord[] = records.map((r, i) => ({
        ...r,
        partition: 0,
        offset: String(i),
        headers: r.headers ?? {},
        timestamp: 0,
      }));
      await handler?.(consumed);
    },
    subscribe: async (o: SubscribeOptions) => {
      handler = o.handler;
      return { ready: Promise.resolve(), stop: async () => undefined };
    },
    replay: async () => undefined,
    lag: async () => [],
    ping: async () => true,
    close: async () => undefined,
  };
}

const exporter = new InMemorySpanExporter();
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
propagation.setGlobalPropagator(new W3CTraceContextPropagator());
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

test('publish injects traceparent; the handler runs in the publisher trace under a consumer span', async () => {
  const inner = loopback();
  const log = traced(inner);
  let handlerTrace: string | undefined;
  await log.subscribe({
    group: 'g',
    topics: ['t'],
    handler: async () => {
      handlerTrace = trace.getActiveSpan()?.spanContext().traceId;
    },
  });
  const root = trace.getTracer('test').startSpan('scan request');
  await context.with(trace.setSpan(context.active(), root), () =>
    log.publish([{ topic: 't', key: 'k', value: new Uint8Array([1]), headers: { keep: 'me' } }]),
  );
  root.end();
  const id = root.spanContext().traceId;
  assert.match(inner.published[0]!.headers!.traceparent!, new RegExp(`^00-${id}-`));
  assert.equal(inner.published[0]!.headers!.keep, 'me');
  assert.equal(handlerTrace, id);
  const names = exporter
    .getFinishedSpans()
    .filter((s) => s.spanContext().traceId === id)
    .map((s) => s.name);
  assert.deepEqual(names.sort(), ['process t', 'publish t', 'scan request']);
});

test('withRecordContext runs code in the trace of one record of a mixed batch', () => {
  const a = trace.getTracer('test').startSpan('a');
  const headers: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), a), headers);
  a.end();
  const seen = withRecordContext({ headers }, () => trace.getSpanContext(context.active())?.traceId);
  assert.equal(seen, a.spanContext().traceId);
});

test('without headers the handler still runs (no trace to continue)', async () => {
  const inner = loopback();
  const log = traced(inner);
  let ran = false;
  await log.subscribe({ group: 'g', topics: ['t'], handler: async () => void (ran = true) });
  await inner.publish([{ topic: 't', key: 'k', value: new Uint8Array() }]);
  assert.equal(ran, true);
});
