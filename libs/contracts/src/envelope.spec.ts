import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, equals, toBinary } from '@bufbuild/protobuf';
import { timestampDate } from '@bufbuild/protobuf/wkt';
import { AssetKind } from './gen/vigil/v1/common_pb.js';
import { EventEnvelopeSchema } from './gen/vigil/v1/envelope_pb.js';
import { FindingSchema, FindingSource, Severity } from './gen/vigil/v1/finding_pb.js';
import { ScanStatus, ScannerKind, TargetKind } from './gen/vigil/v1/scan_pb.js';
import {
  decodeEnvelope,
  encodeEnvelope,
  EnvelopeDecodeError,
  newEnvelope,
  reportedFindingBytes,
} from './envelope.js';
import { TOPICS, topicFor } from './topics.js';

const producer = { service: 'image-scanner', version: '0.1.0', instance: 'image-scanner-7d9f-1' };
const scope = { tenant: '', cluster: 'default' };
const at = new Date('2026-03-01T12:34:56.789Z');

function completed() {
  return newEnvelope({
    payload: {
      case: 'scanCompleted',
      value: {
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        scope,
        targetKey: 'registry.example/payments/api:1.4.2',
        target: {
          kind: TargetKind.IMAGE,
          key: 'registry.example/payments/api:1.4.2',
          ref: {
            case: 'image',
            value: { ref: 'registry.example/payments/api:1.4.2', digest: 'sha256:' + 'c'.repeat(64) },
          },
        },
        status: ScanStatus.OK,
        units: [{ id: 'dpkg-analyzer', version: 2 }],
        findingIds: ['image-235892704151f76b125864a7f2c9d933'],
        counts: { high: 1, total: 1 },
      },
    },
    scope,
    subjectKey: 'registry.example/payments/api:1.4.2',
    producer,
    clock: () => at,
    newId: () => '0b8f6a2e-5c1d-4e7a-9f3b-2d6c8e1a4b70',
  });
}

test('newEnvelope fills the header from the payload, clock and id generator', () => {
  const env = completed();
  assert.equal(env.eventId, '0b8f6a2e-5c1d-4e7a-9f3b-2d6c8e1a4b70');
  assert.equal(env.eventType, 'vigil.v1.ScanCompleted');
  assert.equal(env.schemaVersion, 1);
  assert.ok(env.occurredAt);
  assert.equal(timestampDate(env.occurredAt).toISOString(), '2026-03-01T12:34:56.789Z');
  assert.equal(env.subjectKey, 'registry.example/payments/api:1.4.2');
  assert.equal(env.producer?.instance, 'image-scanner-7d9f-1');
  assert.equal(topicFor(env), TOPICS.scans);
  const byDefault = newEnvelope({
    payload: { case: 'scanStarted', value: { scanId: 's' } },
    scope,
    subjectKey: 's',
    producer,
  });
  assert.match(byDefault.eventId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('an envelope survives a binary round trip unchanged', () => {
  const env = completed();
  const bytes = encodeEnvelope(env);
  const back = decodeEnvelope(bytes);
  assert.ok(equals(EventEnvelopeSchema, back, env));
  assert.equal(back.payload.case, 'scanCompleted');
  if (back.payload.case !== 'scanCompleted') return;
  assert.deepEqual(back.payload.value.findingIds, ['image-235892704151f76b125864a7f2c9d933']);
  assert.equal(back.payload.value.target?.ref.case, 'image');
  assert.equal(back.payload.value.counts?.high, 1);
  assert.deepEqual(encodeEnvelope(back), bytes);
});

test('topicFor routes findings by source and scan requests by scanner', () => {
  const finding = create(FindingSchema, {
    id: 'host-0',
    source: FindingSource.HOST,
    ruleId: 'host-sshd-root-login',
    severity: Severity.HIGH,
    asset: { kind: AssetKind.NODE, cluster: 'default', node: 'worker-1' },
  });
  const reported = newEnvelope({
    payload: { case: 'findingReported', value: { scanId: 's', finding } },
    scope,
    subjectKey: 'worker-1',
    producer,
  });
  assert.equal(topicFor(reported), 'findings.host');
  const request = newEnvelope({
    payload: { case: 'scanRequested', value: { scanId: 's', scanner: ScannerKind.CONFIG } },
    scope,
    subjectKey: 'live',
    producer,
  });
  assert.equal(topicFor(request), 'scan.requests.config');
});

function decodeFailure(bytes: Uint8Array): EnvelopeDecodeError {
  try {
    decodeEnvelope(bytes);
  } catch (err) {
    assert.ok(err instanceof EnvelopeDecodeError, `expected an EnvelopeDecodeError, got ${String(err)}`);
    return err;
  }
  assert.fail('decodeEnvelope accepted the bytes');
}

test('decoding garbage throws an error that says what is wrong', () => {
  const text = decodeFailure(new TextEncoder().encode('{"eventId":"not protobuf"}'));
  assert.equal(text.failure, 'malformed');
  assert.match(text.message, /^decodeEnvelope: 26-byte message is not a vigil\.v1\.EventEnvelope: /);

  // Valid protobuf with no envelope fields in it (an empty message) is not an event either.
  const empty = decodeFailure(new Uint8Array());
  assert.equal(empty.failure, 'invalid');
  assert.match(empty.message, /has no payload/);

  // Truncated: the last byte of a real envelope cut off.
  const bytes = encodeEnvelope(completed());
  const cut = decodeFailure(bytes.subarray(0, bytes.length - 1));
  assert.equal(cut.failure, 'malformed');
});

test('decodeEnvelope rejects envelopes whose header contradicts the payload', () => {
  const env = completed();
  env.eventType = 'vigil.v1.ScanStarted';
  const wrongType = decodeFailure(toBinary(EventEnvelopeSchema, env));
  assert.equal(wrongType.failure, 'invalid');
  assert.match(
    wrongType.message,
    /says event_type "vigil\.v1\.ScanStarted" but carries a vigil\.v1\.ScanCompleted/,
  );

  const noId = completed();
  noId.eventId = '';
  assert.match(decodeFailure(toBinary(EventEnvelopeSchema, noId)).message, /has no event_id/);

  const newer = completed();
  newer.schemaVersion = 2;
  const tooNew = decodeFailure(toBinary(EventEnvelopeSchema, newer));
  assert.equal(tooNew.failure, 'unsupported-version');
  assert.match(tooNew.message, /schema version 2 is newer than this build reads \(1\)/);
});

test('a payload added by a newer schema is reported as unknown, not as garbage', () => {
  const header = create(EventEnvelopeSchema, {
    eventId: 'e-1',
    eventType: 'vigil.v1.FromTheFuture',
    schemaVersion: 1,
  });
  // Field 40, length-delimited, empty: a oneof member this build has never heard of. Tag (40 << 3 | 2) = 322 is
  // the varint 0xc2 0x02, then a zero length.
  const bytes = new Uint8Array([...toBinary(EventEnvelopeSchema, header), 0xc2, 0x02, 0x00]);
  const err = decodeFailure(bytes);
  assert.equal(err.failure, 'unknown-payload');
  assert.match(
    err.message,
    /event e-1 \(vigil\.v1\.FromTheFuture\) carries a payload this build does not know \(field 40\)/,
  );
});

test('newEnvelope and encodeEnvelope reject incomplete events, naming the input', () => {
  assert.throws(
    () => newEnvelope({ payload: { case: 'scanStarted', value: {} }, scope, subjectKey: '', producer }),
    /newEnvelope\(vigil\.v1\.ScanStarted\): subjectKey is empty/,
  );
  assert.throws(
    () =>
      newEnvelope({
        payload: { case: 'scanStarted', value: {} },
        scope: { cluster: '' },
        subjectKey: 'k',
        producer,
      }),
    /scope\.cluster is empty/,
  );
  assert.throws(
    () => encodeEnvelope(create(EventEnvelopeSchema, { eventId: 'e-2' })),
    /event e-2 has no payload/,
  );
});

test('reportedFindingBytes gives the finding of a FindingReported envelope as the bytes it was encoded to', () => {
  const finding = create(FindingSchema, {
    id: 'image-235892704151f76b125864a7f2c9d933',
    source: FindingSource.IMAGE,
    ruleId: 'CVE-2024-6119',
    severity: Severity.HIGH,
    pciRequirements: ['6.3.1', '6.3.3', '11.3.1'],
    asset: { kind: AssetKind.IMAGE, cluster: 'default', imageDigest: 'sha256:' + 'c'.repeat(64) },
    locations: ['/usr/lib/x86_64-linux-gnu/libssl.so.3'],
  });
  const bytes = encodeEnvelope(
    newEnvelope({
      payload: { case: 'findingReported', value: { scanId: 'scan-1', finding } },
      scope,
      subjectKey: finding.id,
      producer,
      clock: () => at,
    }),
  );
  const inner = reportedFindingBytes(bytes);
  assert.ok(inner);
  assert.deepEqual(Buffer.from(inner), Buffer.from(toBinary(FindingSchema, finding)));
  // A view into the message, not a copy.
  assert.equal(inner.buffer, bytes.buffer);

  assert.equal(reportedFindingBytes(encodeEnvelope(completed())), undefined);
  // A second copy of the payload field is merged by a decoder: the first copy alone is not the finding.
  const twice = new Uint8Array([...bytes, ...bytes.subarray(bytes.length - inner.length - 20)]);
  assert.equal(reportedFindingBytes(twice), undefined);
  assert.equal(reportedFindingBytes(new Uint8Array([0xff, 0xff])), undefined);
});
