// Real: the OpenTelemetry SDK, its http instrumentation, pino, a loopback HTTP server. Spans are kept in memory.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  createLogger,
  currentTraceIds,
  injectTraceHeaders,
  contextFromHeaders,
  shutdownTelemetry,
  startTelemetry,
  withHeadersContext,
  withSpan,
} from './index.js';

const exporter = new InMemorySpanExporter();
startTelemetry({
  serviceName: 'telemetry-spec',
  serviceVersion: '0.0.0',
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});
after(() => shutdownTelemetry());

function capture(): { lines: Record<string, unknown>[]; write(s: string): void } {
  const lines: Record<string, unknown>[] = [];
  return { lines, write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) };
}

async function waitFor<T>(probe: () => T | undefined, ms = 2000): Promise<T | undefined> {
  const until = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() > until) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a log line written inside an active span carries that span’s trace and span ids', () => {
  const sink = capture();
  const log = createLogger('spec', { destination: sink });
  const tracer = trace.getTracer('spec');
  let ids: { traceId: string; spanId: string } | undefined;
  tracer.startActiveSpan('work', (span) => {
    ids = { traceId: span.spanContext().traceId, spanId: span.spanContext().spanId };
    log.info({ n: 1 }, 'inside');
    span.end();
  });
  log.info('outside');
  assert.match(ids!.traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(ids!.traceId, '0'.repeat(32));
  const [inside, outside] = sink.lines;
  assert.equal(inside!['msg'], 'inside');
  assert.equal(inside!['trace_id'], ids!.traceId);
  assert.equal(inside!['span_id'], ids!.spanId);
  assert.equal(inside!['service'], 'telemetry-spec');
  assert.equal(inside!['logger'], 'spec');
  assert.equal(inside!['level'], 'info');
  assert.equal(outside!['msg'], 'outside');
  assert.equal(outside!['trace_id'], undefined);
});

test('trace context crosses an HTTP call: the server’s log line has the client span’s trace id', async () => {
  const sink = capture();
  const log = createLogger('http-spec', { destination: sink });
  const server = http.createServer((req, res) => {
    log.info({ path: req.url }, 'handled');
    res.end('ok');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  try {
    const tracer = trace.getTracer('spec');
    const traceId = await tracer.startActiveSpan('client-call', async (span) => {
      await new Promise<void>((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path: '/orders' }, (res) => res.resume().on('end', resolve))
          .on('error', reject);
      });
      span.end();
      return span.spanContext().traceId;
    });
    const handled = sink.lines.find((l) => l['msg'] === 'handled');
    assert.equal(handled?.['trace_id'], traceId);
    // The server span ends on the response's 'finish', which can come after the client has read the body.
    const serverSpan = await waitFor(() =>
      exporter
        .getFinishedSpans()
        .find((s) => s.kind === SpanKind.SERVER && s.spanContext().traceId === traceId),
    );
    assert.ok(serverSpan, 'the http instrumentation recorded a server span in the caller’s trace');
  } finally {
    server.close();
  }
});

test('W3C headers written by one side give the other side the same trace', () => {
  const tracer = trace.getTracer('spec');
  const headers: Record<string, string> = {};
  const producerTrace = tracer.startActiveSpan('publish', (span) => {
    injectTraceHeaders(headers);
    span.end();
    return span.spanContext().traceId;
  });
  assert.match(headers['traceparent'] ?? '', new RegExp(`^00-${producerTrace}-[0-9a-f]{16}-01$`));
  const consumerTrace = tracer.startActiveSpan('consume', {}, contextFromHeaders(headers), (span) => {
    span.end();
    return currentTraceIds()?.traceId ?? span.spanContext().traceId;
  });
  assert.equal(consumerTrace, producerTrace);
  const underHeaders = withHeadersContext(headers, () =>
    tracer.startActiveSpan('handle', (span) => (span.end(), span.spanContext().traceId)),
  );
  assert.equal(underHeaders, producerTrace);
});

test('withSpan runs its work in a fresh span and records a failure on it', async () => {
  const ids = await withSpan('ok-work', () => Promise.resolve(currentTraceIds()));
  assert.match(ids?.traceId ?? '', /^[0-9a-f]{32}$/);
  await assert.rejects(
    withSpan('bad-work', () => Promise.reject(new Error('boom'))),
    /boom/,
  );
  const failed = exporter.getFinishedSpans().find((s) => s.name === 'bad-work');
  assert.equal(failed?.status.code, 2 /* ERROR */);
  assert.equal(failed?.events[0]?.name, 'exception');
});
