// encodeEnvelope's own writer against @bufbuild/protobuf's toBinary, the reference: the same bytes for every kind
// of field it writes, and toBinary's for what it leaves to it. services/runtime-ingest checks the same over every
// finding of the runtime corpus.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, toBinary } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AssetKind } from './gen/vigil/v1/common_pb.js';
import { EventEnvelopeSchema, type EventEnvelope } from './gen/vigil/v1/envelope_pb.js';
import {
  CvssSchema,
  DetectionCloseReason,
  FindingReportedSchema,
  FindingSchema,
  FindingSource,
  Severity,
} from './gen/vigil/v1/finding_pb.js';
import { ScanStatus, ScannerKind } from './gen/vigil/v1/scan_pb.js';
import { encodeEnvelope, newEnvelope } from './envelope.js';
import { writeEnvelope } from './envelope-writer.js';

const at = new Date('2026-12-01T00:00:00Z');
const producer = { service: 'runtime-ingest', version: '0.0.0', instance: 'spec-1' };
const scope = { tenant: 'acme', cluster: 'payments-prod' };

const finding = create(FindingSchema, {
  id: 'runtime-4b1f0c2d9e8a7f6b5c4d3e2f1a0b9c8d',
  source: FindingSource.RUNTIME,
  ruleId: 'falco:Terminal shell in container',
  // Long and short non-ASCII, an astral character, and a lone surrogate (written as U+FFFD by both).
  title: `Terminal shell in container (payments/checkout-7d9 — ✓ 🐚) ${'ü'.repeat(80)}`,
  description: 'lone \ud800 surrogate',
  severity: Severity.HIGH,
  cvss: create(CvssSchema, { version: '3.1', vector: 'AV:N', score: -0.5, source: 'nvd' }),
  pciRequirements: ['10.2.1', '11.5.1'],
  asset: {
    kind: AssetKind.CONTAINER,
    cluster: 'payments-prod',
    namespace: 'payments',
    name: 'checkout-7d9',
    container: 'app',
  },
  locations: ['/bin/sh'],
  evidence: [
    { key: 'process', value: '/bin/sh -i' },
    { key: 'count', value: '3' },
  ],
  firstSeen: timestampFromDate(new Date('1960-01-01T00:00:00.5Z')),
  lastSeen: timestampFromDate(at),
  relatedFindingIds: ['image-1', 'image-2'],
});

function envelopes(): EventEnvelope[] {
  return [
    newEnvelope({
      payload: {
        case: 'findingReported',
        value: create(FindingReportedSchema, { scanId: 'zürich', finding }),
      },
      scope,
      subjectKey: finding.id,
      producer,
      clock: () => at,
    }),
    newEnvelope({
      payload: {
        case: 'sensorSeen',
        value: {
          scope,
          node: 'pay-worker-1',
          sensor: 'falco',
          firstEventAt: timestampFromDate(new Date('1960-01-01T00:00:00.5Z')),
          lastEventAt: timestampFromDate(at),
          events: '1000',
          telemetry: true,
          dropped: '18446744073709551615',
          receivedAt: timestampFromDate(at),
        },
      },
      scope,
      subjectKey: 'payments-prod/pay-worker-1/falco',
      producer,
      clock: () => at,
    }),
    newEnvelope({
      payload: {
        case: 'detectionClosed',
        value: {
          findingId: finding.id,
          scope,
          reason: DetectionCloseReason.ACKNOWLEDGED,
          closedAt: timestampFromDate(at),
          closedBy: 'ops@example.com',
        },
      },
      scope,
      subjectKey: finding.id,
      producer,
      clock: () => at,
    }),
    newEnvelope({
      payload: {
        case: 'scanCompleted',
        value: {
          scanId: 'scan-1',
          scanner: ScannerKind.IMAGE,
          scope,
          targetKey: 'registry.example/payments/api:1.4.2',
          status: ScanStatus.OK,
          units: [{ id: 'dpkg-analyzer', version: 2 }],
          findingIds: ['image-1', 'image-2'],
          counts: { high: 1, total: 2 },
          completedAt: timestampFromDate(at),
        },
      },
      scope,
      subjectKey: 'registry.example/payments/api:1.4.2',
      producer,
      clock: () => at,
    }),
  ];
}

test('encodeEnvelope writes exactly the bytes toBinary writes', () => {
  for (const env of envelopes()) {
    assert.ok(writeEnvelope(env), `${env.payload.case} is written by the writer itself`);
    assert.deepEqual(
      Buffer.from(encodeEnvelope(env)),
      Buffer.from(toBinary(EventEnvelopeSchema, env)),
      env.payload.case,
    );
  }
});

test('a message with unknown fields is left to toBinary, which keeps them', () => {
  const env = envelopes()[0]!;
  // As a newer producer's field would arrive: number 99, a varint of 7.
  env.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([7]) }];
  assert.equal(writeEnvelope(env), undefined);
  const bytes = encodeEnvelope(env);
  assert.deepEqual(Buffer.from(bytes), Buffer.from(toBinary(EventEnvelopeSchema, env)));
  assert.deepEqual(Buffer.from(bytes.subarray(bytes.length - 3)), Buffer.from([0x98, 0x06, 7]));
});
