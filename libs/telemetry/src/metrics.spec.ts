import { test } from 'node:test';
import assert from 'node:assert/strict';
import { metrics, renderMetrics, METRICS_CONTENT_TYPE } from './index.js';

test('counters render as Prometheus text beside the default process metrics', async () => {
  const handled = metrics.counter({
    name: 'vigil_spec_events_total',
    help: 'Events handled in the spec',
    labelNames: ['topic'],
  });
  handled.inc({ topic: 'scans' }, 2);
  // A second declaration (another module of the all-in-one) is the same counter, not a registration error.
  metrics
    .counter({ name: 'vigil_spec_events_total', help: 'Events handled in the spec', labelNames: ['topic'] })
    .inc({ topic: 'scans' });
  metrics.histogram({ name: 'vigil_spec_seconds', help: 'Durations', buckets: [0.1, 1] }).observe(0.5);
  const text = await renderMetrics();
  assert.match(text, /^# TYPE vigil_spec_events_total counter$/m);
  assert.match(text, /^vigil_spec_events_total\{topic="scans"\} 3$/m);
  assert.match(text, /^vigil_spec_seconds_bucket\{le="1"\} 1$/m);
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(METRICS_CONTENT_TYPE, /^text\/plain/);
});

test('metric names outside the vigil_ namespace, or reused with another type, are refused', () => {
  assert.throws(() => metrics.counter({ name: 'events_total', help: 'x' }), /must start with vigil_/);
  metrics.gauge({ name: 'vigil_spec_depth', help: 'x' });
  assert.throws(
    () => metrics.counter({ name: 'vigil_spec_depth', help: 'x' }),
    /already registered as another metric type/,
  );
});
