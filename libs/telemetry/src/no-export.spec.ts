// Without an OTLP endpoint nothing is exported, yet spans still get real ids so logs can be joined to traces.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { createLogger, shutdownTelemetry, startTelemetry } from './index.js';

test('with no exporter configured, spans still have real trace ids and logs carry them', () => {
  delete process.env['OTEL_EXPORTER_OTLP_ENDPOINT'];
  const handle = startTelemetry({ serviceName: 'no-export-spec', serviceVersion: '0.0.0' });
  after(() => shutdownTelemetry());
  assert.equal(handle.exporting, false);
  assert.equal(
    startTelemetry({ serviceName: 'other', serviceVersion: '1' }),
    handle,
    'a second start returns the first handle',
  );
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('spec', {
    destination: { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) },
  });
  const traceId = trace.getTracer('spec').startActiveSpan('work', (span) => {
    log.warn('inside');
    span.end();
    return span.spanContext().traceId;
  });
  assert.match(traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(traceId, '0'.repeat(32));
  assert.equal(lines[0]?.['trace_id'], traceId);
});
