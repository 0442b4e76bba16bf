import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Link,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import type {
  BatchHandler,
  ConsumedRecord,
  EventLog,
  LogRecord,
  SubscribeOptions,
} from './event-log.port.js';

// W3C trace context crosses the log inside the port, so every adapter carries it the same way: publish injects
// the active context (traceparent, tracestate) into each record's headers; consume extracts it and runs the
// handler inside it, under a consumer span. Only @opentelemetry/api is used: without a registered propagator
// and tracer provider (the telemetry library registers them) all of this is a cheap no-op.

const TRACER_NAME = 'vigil.event-log';
const MAX_LINKS = 128;

const setter: TextMapSetter<Record<string, string>> = {
  set: (carrier, key, value) => {
    carrier[key] = value;
  },
};

const getter: TextMapGetter<Record<string, string>> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => carrier[key],
};

/** The trace context a consumed record was published in (the active context when it carries none). */
export function recordContext(
  record: Pick<ConsumedRecord, 'headers'>,
  parent: Context = context.active(),
): Context {
  return propagation.extract(parent, record.headers, getter);
}

/** Runs fn inside the trace context of one record: for handlers that work record by record within a batch. */
export function withRecordContext<T>(record: Pick<ConsumedRecord, 'headers'>, fn: () => T): T {
  return context.with(recordContext(record), fn);
}

function tracedHandler(
  handler: BatchHandler,
  group: string | undefined,
  operation: 'process' | 'replay',
): BatchHandler {
  return async (records) => {
    const first = records[0];
    if (!first) return handler(records);
    const tracer = trace.getTracer(TRACER_NAME);
    // A batch can hold records of many traces. The first record's context is the parent (so a one-record hand-off
    // stays one trace end to end); every other distinct context becomes a span link.
    const parent = recordContext(first, context.active());
    const parentId = trace.getSpanContext(parent)?.spanId;
    const links: Link[] = [];
    const seen = new Set<string>(parentId ? [parentId] : []);
    for (const r of records) {
      if (links.length >= MAX_LINKS) break;
      const sc = trace.getSpanContext(recordContext(r, context.active()));
      if (sc && !seen.has(sc.spanId)) {
        seen.add(sc.spanId);
        links.push({ context: sc });
      }
    }
    const span = tracer.startSpan(
      `${operation} ${first.topic}`,
      {
        kind: SpanKind.CONSUMER,
        links,
        attributes: {
          'messaging.system': 'vigil.event-log',
          'messaging.operation.type': operation,
          'messaging.destination.name': first.topic,
          'messaging.destination.partition.id': String(first.partition),
          'messaging.batch.message_count': records.length,
          'messaging.kafka.offset': Number(first.offset),
          ...(group ? { 'messaging.consumer.group.name': group } : {}),
        },
      },
      parent,
    );
    try {
      return await context.with(trace.setSpan(parent, span), () => handler(records));
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      throw err;
    } finally {
      span.end();
    }
  };
}

async function tracedPublish(log: EventLog, records: LogRecord[]): Promise<void> {
  const tracer = trace.getTracer(TRACER_NAME);
  const topics = [...new Set(records.map((r) => r.topic))].join(',');
  // One producer span per publish call; with no tracer provider it is a non-recording span that still carries
  // the active context, so the injected traceparent names the caller's trace either way.
  const span = tracer.startSpan(`publish ${topics}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': 'vigil.event-log',
      'messaging.operation.type': 'send',
      'messaging.destination.name': topics,
      'messaging.batch.message_count': records.length,
    },
  });
  const ctx = trace.setSpan(context.active(), span);
  const withHeaders = records.map((r) => {
    const headers: Record<string, string> = { ...r?.headers };
    propagation.inject(ctx, headers, setter);
    return { ...r, headers };
  });
  try {
    await context.with(ctx, () => log.publish(withHeaders));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
    throw err;
  } finally {
    span.end();
  }
}

/** Wraps an adapter so trace context rides in the record headers. Both factories return their log wrapped. */
export function traced(log: EventLog): EventLog {
  return {
    ensureTopics: (topics) => log.ensureTopics(topics),
    publish: (records) =>
      Array.isArray(records) && records.length > 0 ? tracedPublish(log, records) : log.publish(records),
    subscribe: (options: SubscribeOptions) =>
      log.subscribe(
        options && typeof options.handler === 'function'
          ? { ...options, handler: tracedHandler(options.handler, options.group, 'process') }
          : options,
      ),
    replay: (topics, handler) =>
      log.replay(
        topics,
        typeof handler === 'function' ? tracedHandler(handler, undefined, 'replay') : handler,
      ),
    lag: (group, topics) => log.lag(group, topics),
    ping: () => log.ping(),
    close: () => log.close(),
  };
}
