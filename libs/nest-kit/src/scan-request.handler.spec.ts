// Real: contracts encoding, the shared scan-request handler. Fake: the EventLog (in memory, see the fixture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ScanStatus,
  ScannerKind,
  TOPICS,
  TargetKind,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type EventEnvelope,
} from '@vigil/contracts';
import { type ConsumedRecord } from '@vigil/event-log';
import { createLogger } from '@vigil/telemetry';
import { createScanRequestHandler, deriveEventId, unavailableEngine, type ScanEngine } from './index.js';
import { InMemoryEventLog } from './in-memory-event-log.fixture.js';

const identity = { service: 'image-scanner', version: '1.2.3', instance: 'pod-a' };
const quiet = createLogger('spec', { level: 'silent' });
const fixed = new Date('2026-01-02T03:04:05.678Z');

function request(overrides: { scanner?: ScannerKind; scanId?: string } = {}): EventEnvelope {
  return newEnvelope({
    payload: {
      case: 'scanRequested',
      value: {
        scanId: overrides.scanId ?? 'scan-1',
        scanner: overrides.scanner ?? ScannerKind.IMAGE,
        scope: { cluster: 'payments' },
        target: {
          kind: TargetKind.IMAGE,
          key: 'registry.local/shop/api:1.4',
          ref: { case: 'image', value: { ref: 'registry.local/shop/api:1.4' } },
        },
        requestedBy: 'cli',
      },
    },
    scope: { cluster: 'payments' },
    subjectKey: 'registry.local/shop/api:1.4',
    producer: { service: 'cli', version: '1', instance: 'test' },
    newId: () => '11111111-2222-4333-8444-555555555555',
  });
}

function consumed(value: Uint8Array, offset = '7'): ConsumedRecord {
  return {
    topic: TOPICS.scanRequests.image,
    partition: 2,
    offset,
    key: 'k',
    value,
    headers: {},
    timestamp: 0,
  };
}

function handlerWith(engine: ScanEngine, log = new InMemoryEventLog()) {
  return {
    log,
    handle: createScanRequestHandler({
      engine,
      eventLog: log,
      identity,
      group: 'vigil.image-scanner',
      clock: () => fixed,
      logger: quiet,
    }),
  };
}

test('a ScanRequested yields ScanStarted then ScanCompleted(unavailable) on the scans topic, and no finding', async () => {
  const { log, handle } = handlerWith(unavailableEngine(ScannerKind.IMAGE, 'image-scan'));
  await handle([consumed(encodeEnvelope(request()))]);
  assert.deepEqual(
    log.published.map((r) => [r.topic, r.key]),
    [
      [TOPICS.scans, 'scan-1'],
      [TOPICS.scans, 'scan-1'],
    ],
  );
  const [started, completed] = log.published.map((r) => decodeEnvelope(r.value));
  assert.equal(started!.payload.case, 'scanStarted');
  assert.equal(completed!.payload.case, 'scanCompleted');
  if (started!.payload.case !== 'scanStarted' || completed!.payload.case !== 'scanCompleted') return;
  assert.equal(started!.payload.value.targetKey, 'registry.local/shop/api:1.4');
  const done = completed!.payload.value;
  assert.equal(done.status, ScanStatus.UNAVAILABLE);
  assert.equal(done.error, 'image-scan engine is not available in this build');
  assert.deepEqual(done.findingIds, []);
  assert.equal(done.scope?.cluster, 'payments');
  assert.equal(done.target?.key, 'registry.local/shop/api:1.4');
  assert.equal(done.completedAt?.seconds, BigInt(Math.floor(fixed.getTime() / 1000)));
  assert.equal(done.completedAt?.nanos, 678_000_000);
  assert.deepEqual(
    {
      service: completed!.producer?.service,
      version: completed!.producer?.version,
      instance: completed!.producer?.instance,
    },
    identity,
  );
});

test('a redelivered request republishes the same event ids (consumers are idempotent on them)', async () => {
  const { log, handle } = handlerWith(unavailableEngine(ScannerKind.IMAGE, 'image-scan'));
  const bytes = encodeEnvelope(request());
  await handle([consumed(bytes)]);
  await handle([consumed(bytes)]);
  const ids = log.published.map((r) => decodeEnvelope(r.value).eventId);
  assert.equal(ids.length, 4);
  assert.equal(ids[0], ids[2]);
  assert.equal(ids[1], ids[3]);
  assert.notEqual(ids[0], ids[1]);
  assert.match(ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(deriveEventId('e', 'vigil.a', 'scanStarted'), deriveEventId('e', 'vigil.b', 'scanStarted'));
});

test('records that are not a ScanRequested for this scanner throw (the port retries, then dead-letters) and publish nothing', async () => {
  const { log, handle } = handlerWith(unavailableEngine(ScannerKind.IMAGE, 'image-scan'));
  await assert.rejects(
    handle([consumed(new Uint8Array([0xff, 0xff, 0xff]), '9')]),
    /^Error: scan\.requests\.image\/2@9: decodeEnvelope: /,
  );
  await assert.rejects(
    handle([consumed(encodeEnvelope(request({ scanner: ScannerKind.HOST })))]),
    /scan scan-1 is for scanner HOST, this consumer runs IMAGE/,
  );
  const notARequest = newEnvelope({
    payload: {
      case: 'scanStarted',
      value: { scanId: 'x', scanner: ScannerKind.IMAGE, scope: { cluster: 'c' } },
    },
    scope: { cluster: 'c' },
    subjectKey: 'x',
    producer: { service: 'someone' },
  });
  await assert.rejects(
    handle([consumed(encodeEnvelope(notARequest))]),
    /expected a vigil\.v1\.ScanRequested on a scan-request topic, got vigil\.v1\.ScanStarted/,
  );
  assert.equal(log.published.length, 0);
});

test('an engine that throws completes the scan as FAILED with its error', async () => {
  const broken: ScanEngine = {
    scanner: ScannerKind.IMAGE,
    name: 'image-scan',
    scan: () => Promise.reject(new Error('registry timed out')),
  };
  const { log, handle } = handlerWith(broken);
  await handle([consumed(encodeEnvelope(request()))]);
  const completed = decodeEnvelope(log.published[1]!.value);
  assert.equal(completed.payload.case, 'scanCompleted');
  if (completed.payload.case !== 'scanCompleted') return;
  assert.equal(completed.payload.value.status, ScanStatus.FAILED);
  assert.equal(completed.payload.value.error, 'image-scan failed: registry timed out');
});

test('a request the engine does not accept is skipped: nothing started, nothing completed', async () => {
  let scanned = 0;
  const engine: ScanEngine = {
    scanner: ScannerKind.IMAGE,
    name: 'picky',
    scan: () => {
      scanned++;
      return Promise.resolve({ status: ScanStatus.OK, error: '' });
    },
    accepts: (r) => r.scanId === 'mine',
  };
  const { log, handle } = handlerWith(engine);
  await handle([consumed(encodeEnvelope(request({ scanId: 'theirs' })))]);
  assert.equal(scanned, 0);
  assert.deepEqual(log.published, []);
  await handle([consumed(encodeEnvelope(request({ scanId: 'mine' })), '8')]);
  assert.equal(scanned, 1);
  assert.equal(log.published.length, 2);
});

test('every replica names the same tick of a schedule with the same id', async () => {
  const { everyInterval, nameBasedId } = await import('./index.js');
  assert.equal(nameBasedId('pay\nschedule:1'), nameBasedId('pay\nschedule:1'));
  assert.notEqual(nameBasedId('pay\nschedule:1'), nameBasedId('pay\nschedule:2'));
  assert.match(nameBasedId('x'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ticks: number[] = [];
  const stop = everyInterval(
    3_600_000,
    async (b) => void ticks.push(b),
    () => new Date('2026-12-03T10:17:00Z'),
  );
  stop();
  assert.deepEqual(ticks, [Date.parse('2026-12-03T10:00:00Z')]);
});
