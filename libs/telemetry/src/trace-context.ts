import {
  SpanStatusCode,
  context,
  propagation,
  trace,
  isSpanContextValid,
  type Context,
} from '@opentelemetry/api';

/** Trace and span id of the active span, or undefined outside any span (or before telemetry started). */
export function currentTraceIds(): { traceId: string; spanId: string } | undefined {
  const ctx = trace.getActiveSpan()?.spanContext();
  return ctx && isSpanContextValid(ctx) ? { traceId: ctx.traceId, spanId: ctx.spanId } : undefined;
}

/** Adds the active context's W3C `traceparent`/`tracestate` to a header map (the log's record headers). */
export function injectTraceHeaders(
  headers: Record<string, string>,
  from: Context = context.active(),
): Record<string, string> {
  propagation.inject(from, headers);
  return headers;
}

/** The context carried by W3C headers, to run a consumer's work as a child of the producer's span. */
export function contextFromHeaders(
  headers: Record<string, string>,
  base: Context = context.active(),
): Context {
  return propagation.extract(base, headers);
}

/**
 * Runs fn inside a new active span (a child of the active one) and ends it, recording a thrown error on it.
 * For work that starts a trace of its own: a CLI command, a scheduled scan request.
 */
export async function withSpan<T>(name: string, fn: () => Promise<T>): Promise<T> {
  return trace.getTracer('vigil').startActiveSpan(name, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Runs fn inside the trace context carried by W3C headers (a consumed record's), so its spans and logs join that trace. */
export function withHeadersContext<T>(headers: Record<string, string>, fn: () => T): T {
  return context.with(contextFromHeaders(headers), fn);
}
