// Real: a Kafka broker (KAFKA_BROKERS, default 127.0.0.1:9092; `bash infra/local/kafka.sh start`), this service's
// dist/main.js as a separate process, the Kafka adapter on both sides. Nothing is faked.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  ScanStatus,
  ScannerKind,
  TOPICS,
  TargetKind,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  topicFor,
  type EventEnvelope,
} from '@vigil/contracts';
import { createKafkaEventLog, type ConsumedRecord } from '@vigil/event-log';
import { currentTraceIds, setLogLevel, shutdownTelemetry, startTelemetry, withSpan } from '@vigil/telemetry';

const BROKERS = (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092').split(',');
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

startTelemetry({ serviceName: 'image-scanner-int-spec', serviceVersion: '0.0.0' });
setLogLevel('warn');
after(() => shutdownTelemetry());

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

test('a ScanRequested on the broker gets ScanStarted and ScanCompleted(unavailable) from the running service', async () => {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      KAFKA_BROKERS: BROKERS.join(','),
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICE_INSTANCE_ID: `int-${process.pid}`,
      // Our own group: other runs on this shared broker may have vigil.image-scanner members of their own.
      CONSUMER_GROUP_PREFIX: `test-${randomUUID()}.`,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });
  const log = createKafkaEventLog({
    brokers: BROKERS,
    clientId: 'image-scanner-int-spec',
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  try {
    const port = await waitFor(
      () => lines.find((l) => String(l['msg']).includes('listening on'))?.['port'] as number | undefined,
      20_000,
      'the service to listen',
    );
    const base = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => ((await fetch(`${base}/readyz`)).status === 200 ? true : undefined),
      60_000,
      '/readyz 200',
    );

    // Read the scans topic from its start in a group of our own, and keep only this test's scan.
    const scanId = `int-${randomUUID()}`;
    const seen: { record: ConsumedRecord; envelope: EventEnvelope }[] = [];
    const sub = await log.subscribe({
      group: `test.image-scanner.${randomUUID()}`,
      topics: [TOPICS.scans],
      start: 'earliest',
      handler: async (records) => {
        for (const record of records) {
          const envelope = decodeEnvelope(record.value);
          const p = envelope.payload;
          if ((p.case === 'scanStarted' || p.case === 'scanCompleted') && p.value.scanId === scanId)
            seen.push({ record, envelope });
        }
      },
    });
    await sub.ready;

    const request = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: {
          scanId,
          scanner: ScannerKind.IMAGE,
          scope: { cluster: 'int-spec' },
          target: {
            kind: TargetKind.IMAGE,
            key: 'registry.example/pay/api:2.0',
            ref: { case: 'image', value: { ref: 'registry.example/pay/api:2.0' } },
          },
          requestedBy: 'image-scanner.int.spec',
        },
      },
      scope: { cluster: 'int-spec' },
      subjectKey: 'registry.example/pay/api:2.0',
      producer: { service: 'int-spec', version: '0', instance: String(process.pid) },
    });
    const traceId = await withSpan('request scan', async () => {
      await log.publish([
        { topic: topicFor(request), key: request.subjectKey, value: encodeEnvelope(request) },
      ]);
      return currentTraceIds()!.traceId;
    });

    await waitFor(() => (seen.length >= 2 ? true : undefined), 30_000, 'ScanStarted and ScanCompleted');
    await sub.stop();
    assert.deepEqual(
      seen.map((s) => s.envelope.payload.case),
      ['scanStarted', 'scanCompleted'],
    );
    const completed = seen[1]!.envelope;
    assert.equal(completed.payload.case, 'scanCompleted');
    if (completed.payload.case !== 'scanCompleted') return;
    assert.equal(completed.payload.value.status, ScanStatus.UNAVAILABLE);
    assert.equal(completed.payload.value.error, 'image-scan engine is not available in this build');
    assert.deepEqual(completed.payload.value.findingIds, []);
    assert.equal(completed.payload.value.targetKey, 'registry.example/pay/api:2.0');
    assert.equal(completed.producer?.service, 'image-scanner');
    assert.equal(completed.producer?.instance, `int-${process.pid}`);
    assert.equal(seen[1]!.record.key, scanId);
    // The trace started here crossed Kafka into the service and back out on its events.
    assert.match(seen[1]!.record.headers['traceparent'] ?? '', new RegExp(`^00-${traceId}-`));

    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(
      metrics,
      /^vigil_scans_completed_total\{scanner="image",status="unavailable",service="image-scanner"\} [1-9]\d*$/m,
    );
    const logged = lines.find(
      (l) => l['scanId'] === scanId && String(l['msg']).includes('completed: unavailable'),
    );
    assert.equal(
      logged?.['trace_id'],
      traceId,
      'the service logged the completion inside the requester’s trace',
    );
  } finally {
    child.kill('SIGTERM');
    await exited;
    await log.close();
  }
  assert.ok(
    lines.some((l) => /^consumer test-[0-9a-f-]+\.vigil\.image-scanner stopped$/.test(String(l['msg']))),
    `the consumer was stopped on SIGTERM; last lines: ${lines
      .slice(-4)
      .map((l) => String(l['msg']))
      .join(' / ')}`,
  );
});
