// decodeEnvelope's own reader against @bufbuild/protobuf's fromBinary, the reference: the same envelope (values,
// types, prototypes, property order) for real corpus inputs and every payload with edge values, and undefined for
// what it leaves to fromBinary or cannot read, so fromBinary keeps or throws as it does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScalarType, create, fromBinary, toBinary, type DescMessage } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AssetKind } from './gen/vigil/v1/common_pb.js';
import { EventEnvelopeSchema, type EventEnvelope } from './gen/vigil/v1/envelope_pb.js';
import {
  FindingSchema,
  FindingSource,
  MatchType,
  Severity,
  type Finding,
} from './gen/vigil/v1/finding_pb.js';
import { ScanRequestedSchema, ScannerKind } from './gen/vigil/v1/scan_pb.js';
import { EnvelopeDecodeError, decodeEnvelope, encodeEnvelope, newEnvelope } from './envelope.js';
import { readEnvelope } from './envelope-reader.js';
import { findingId } from './finding-id.js';

// Tests run from libs/contracts/dist: the repository root is three levels up and ../shared sits beside it.
const corpus = fileURLToPath(new URL('../../../../shared/corpus/', import.meta.url));
const at = new Date('2026-12-01T00:00:00Z');
const producer = { service: 'reader-spec', version: '0.0.0', instance: 'spec-1' };
const scope = { tenant: 'acme', cluster: 'payments-prod' };

function reported(finding: Finding, scanId: string): EventEnvelope {
  return newEnvelope({
    payload: { case: 'findingReported', value: { scanId, finding } },
    scope,
    subjectKey: finding.id,
    producer,
    clock: () => at,
  });
}

function files(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p, pattern);
    return pattern.test(name) && name !== 'expected.json' ? [p] : [];
  });
}

/** Every JSON object in a sensor's capture: a whole-file document, a JSON array, or one object a line. */
function sensorEvents(file: string): Record<string, unknown>[] {
  const text = readFileSync(file, 'utf8');
  try {
    const doc: unknown = JSON.parse(text);
    const list = Array.isArray(doc) ? doc : [doc];
    return list.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null);
  } catch {
    return text.split('\n').flatMap((line) => {
      try {
        const x: unknown = JSON.parse(line);
        return typeof x === 'object' && x !== null ? [x as Record<string, unknown>] : [];
      } catch {
        // Falco's summary lines and other text between the events.
        return [];
      }
    });
  }
}

/** The scalar leaves of an event as path/value pairs, as a runtime finding's evidence carries them. */
function leaves(value: unknown, path: string, out: { key: string; value: string }[]): void {
  if (out.length >= 60) return;
  if (value === null || typeof value !== 'object') {
    out.push({ key: path, value: String(value) });
    return;
  }
  for (const [k, v] of Object.entries(value)) leaves(v, path ? `${path}.${k}` : k, out);
}

/** A runtime finding for every event Falco, Tetragon and the API server's audit log wrote in the corpus. */
function runtimeFindings(): Finding[] {
  const out: Finding[] = [];
  for (const sensor of ['falco-alerts', 'tetragon', 'k8s-audit'])
    for (const file of files(join(corpus, 'runtime', sensor), /\.(jsonl|json|log)$/))
      for (const [i, event] of sensorEvents(file).entries()) {
        const evidence: { key: string; value: string }[] = [{ key: 'sensor', value: sensor }];
        leaves(event, '', evidence);
        const title = String(event['rule'] ?? event['verb'] ?? Object.keys(event)[0] ?? sensor);
        const time = Date.parse(String(event['time'] ?? event['requestReceivedTimestamp'] ?? ''));
        const asset = {
          kind: AssetKind.CONTAINER,
          cluster: scope.cluster,
          resourceKind: 'Pod',
          namespace: 'payments',
          name: `${file.slice(corpus.length)}#${i}`,
          container: 'app',
        };
        out.push(
          create(FindingSchema, {
            id: findingId({ source: FindingSource.RUNTIME, ruleId: title, asset, location: `${file}#${i}` }),
            source: FindingSource.RUNTIME,
            ruleId: `${sensor}:${title}`,
            title,
            description: String(event['output'] ?? JSON.stringify(event)),
            severity: Severity.HIGH,
            pciRequirements: ['10.2.1', '11.5.1'],
            asset,
            locations: [file],
            evidence,
            firstSeen: timestampFromDate(Number.isNaN(time) ? at : new Date(time)),
            lastSeen: timestampFromDate(at),
          }),
        );
      }
  return out;
}

interface OsvRecord {
  id: string;
  summary?: string;
  details?: string;
  aliases?: string[];
  published?: string;
  references?: { url: string }[];
  severity?: { type: string; score: string }[];
  affected?: { package?: { ecosystem: string; name: string }; ranges?: { events: { fixed?: string }[] }[] }[];
}

/** An image finding for every package every OSV record of the corpus names, as the image scanner reports one. */
function imageFindings(): Finding[] {
  const out: Finding[] = [];
  const asset = {
    kind: AssetKind.IMAGE,
    cluster: scope.cluster,
    imageRef: 'registry.example/payments/api:1.4.2',
    imageDigest: 'sha256:' + '4'.repeat(64),
  };
  for (const file of files(join(corpus, 'image', 'advisories'), /\.json$/)) {
    const record = JSON.parse(readFileSync(file, 'utf8')) as OsvRecord;
    if (typeof record.id !== 'string') continue;
    for (const affected of record.affected ?? []) {
      const pkg = affected.package;
      if (!pkg) continue;
      const fixed = (affected.ranges ?? []).flatMap((r) => r.events).find((e) => e.fixed)?.fixed ?? '';
      const location = `pkg:${pkg.ecosystem}/${pkg.name}`;
      const seen = timestampFromDate(record.published ? new Date(record.published) : at);
      out.push(
        create(FindingSchema, {
          id: findingId({ source: FindingSource.IMAGE, ruleId: record.id, asset, location }),
          source: FindingSource.IMAGE,
          ruleId: record.id,
          aliases: record.aliases ?? [],
          title: record.summary ?? record.id,
          description: record.details ?? '',
          severity: Severity.MEDIUM,
          cvss: { vector: record.severity?.[0]?.score ?? '', score: 5.3, source: 'osv' },
          pciRequirements: ['6.3.1', '6.3.3', '11.3.1'],
          asset,
          package: { ecosystem: pkg.ecosystem, name: pkg.name, version: '0', fixedVersion: fixed },
          locations: [location],
          remediation: { summary: fixed ? `upgrade ${pkg.name} to ${fixed}` : `no fix for ${pkg.name} yet` },
          firstSeen: seen,
          lastSeen: seen,
          detection: {
            matchType: MatchType.SOURCE_PACKAGE,
            unit: { id: 'osv', version: 1 },
            record: record.id,
            matchedRange: `< ${fixed}`,
          },
          references: (record.references ?? []).map((r) => r.url),
        }),
      );
    }
  }
  return out;
}

/** The property names of a decoded value at every depth, in order: what deepStrictEqual does not compare. */
function shape(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array) return typeof v;
  if (Array.isArray(v)) return v.map(shape);
  return Object.entries(v).map(([k, x]) => [k, shape(x)]);
}

/** readEnvelope gives fromBinary's envelope for these bytes, itself, with the same property order. */
function assertSame(bytes: Uint8Array, what: string): EventEnvelope {
  const fast = readEnvelope(bytes);
  assert.ok(fast, `${what}: read by the reader itself`);
  const reference = fromBinary(EventEnvelopeSchema, bytes);
  assert.deepStrictEqual(fast, reference, what);
  assert.deepStrictEqual(shape(fast), shape(reference), `${what}: property order`);
  return fast;
}

const corpusEnvelopes = (): EventEnvelope[] => [
  ...runtimeFindings().map((f) => reported(f, 'runtime-http:payments-prod:falco')),
  ...imageFindings().map((f) => reported(f, 'image-scan-1')),
];

test('every envelope made from the corpus reads as fromBinary reads it, and writes back to the same bytes', () => {
  const envelopes = corpusEnvelopes();
  const sensors = new Set(
    envelopes.map((e) =>
      e.payload.case === 'findingReported'
        ? e.payload.value.finding?.evidence.find((x) => x.key === 'sensor')?.value
        : undefined,
    ),
  );
  assert.deepEqual([...sensors].sort(), ['falco-alerts', 'k8s-audit', 'tetragon', undefined]);
  assert.ok(envelopes.length > 300, `the corpus gave ${envelopes.length} envelopes`);
  for (const env of envelopes) {
    const bytes = encodeEnvelope(env);
    const what = `${env.payload.case} ${env.subjectKey}`;
    const fast = assertSame(bytes, what);
    assert.deepEqual(
      Buffer.from(toBinary(EventEnvelopeSchema, fast)),
      Buffer.from(bytes),
      `${what}: round trip`,
    );
  }
});

// Edge values by variant: 0 is every zero value (nothing on the wire), the others the extremes of each type.
const STRINGS = ['', `zürich — ✓ 🐚 ${'ü'.repeat(80)}`, 'lone \ud800 surrogate', 'a\u0000b'];
const INT32 = [0, 2147483647, -1, -2147483648];
const UINT32 = [0, 4294967295, 1, 128];
const INT64 = [0n, 9223372036854775807n, -1n, -9223372036854775808n];
const UINT64 = [0n, 18446744073709551615n, 1n, 4294967296n];
const DOUBLES = [0, NaN, -0, -1.5e300];
const BYTES = [
  new Uint8Array(0),
  new Uint8Array([0, 255, 128]),
  new Uint8Array(300).fill(0xa5),
  new Uint8Array([7]),
];
const LIST_LENGTHS = [0, 2, 300, 1];

/** A message with every field set to variant `v`'s edge value (maps left empty: they are left to fromBinary). */
function filled(desc: DescMessage, v: number, depth = 0): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  const scalar = (type: ScalarType, asString: boolean, i: number): unknown => {
    switch (type) {
      case ScalarType.STRING:
        return STRINGS[i];
      case ScalarType.BOOL:
        return i % 2 === 1;
      case ScalarType.INT32:
        return INT32[i];
      case ScalarType.UINT32:
        return UINT32[i];
      case ScalarType.INT64:
        return asString ? String(INT64[i]) : INT64[i];
      case ScalarType.UINT64:
        return asString ? String(UINT64[i]) : UINT64[i];
      case ScalarType.DOUBLE:
        return DOUBLES[i];
      case ScalarType.BYTES:
        return BYTES[i];
      default:
        throw new Error(`filled: ${desc.typeName} has a ${ScalarType[type]} field the spec does not fill`);
    }
  };
  for (const f of desc.fields) {
    if (f.oneof && f.oneof.fields[v % f.oneof.fields.length] !== f) continue;
    switch (f.fieldKind) {
      case 'scalar':
        init[f.localName] = scalar(f.scalar, f.longAsString, v);
        break;
      case 'enum':
        // Open enums keep numbers they do not name.
        init[f.localName] = v === 3 ? 99 : f.enum.values[v % f.enum.values.length]!.number;
        break;
      case 'message':
        if (v > 0 && depth < 4) init[f.localName] = filled(f.message, v, depth + 1);
        break;
      case 'list': {
        const n = depth < 1 ? LIST_LENGTHS[v]! : Math.min(LIST_LENGTHS[v]!, 2);
        init[f.localName] = Array.from({ length: n }, (_, i) => {
          const w = 1 + ((v + i) % 3);
          if (f.listKind === 'message') return filled(f.message, w, depth + 1);
          if (f.listKind === 'enum') return f.enum.values[i % f.enum.values.length]!.number;
          return scalar(f.scalar, f.longAsString, w);
        });
        break;
      }
      case 'map':
        break;
    }
  }
  return init;
}

const payloadFields = EventEnvelopeSchema.fields.filter((f) => f.oneof?.localName === 'payload');

function edgeEnvelopes(): EventEnvelope[] {
  const out: EventEnvelope[] = [];
  for (const f of payloadFields) {
    if (f.fieldKind !== 'message') throw new Error(`EventEnvelope.${f.name} is not a message`);
    for (let v = 0; v < 4; v++) {
      const env = create(EventEnvelopeSchema, {
        ...(filled(EventEnvelopeSchema, v) as object),
        payload: { case: f.localName, value: filled(f.message, v) },
      } as never);
      // Timestamps with nanos and before 1970, and a later one (int64 seconds past 32 bits).
      env.occurredAt = timestampFromDate(
        new Date(v === 2 ? '1960-01-01T00:00:00.5Z' : '2026-12-01T00:00:00.123Z'),
      );
      if (v === 3) env.occurredAt.seconds = 1n << 40n;
      out.push(env);
    }
  }
  return out;
}

test('every payload with edge values reads as fromBinary reads it, and writes back to the same bytes', () => {
  const envelopes = edgeEnvelopes();
  assert.equal(envelopes.length, payloadFields.length * 4);
  assert.ok(payloadFields.length >= 14, `${payloadFields.length} payload cases`);
  for (const env of envelopes) {
    const bytes = toBinary(EventEnvelopeSchema, env);
    const what = `${env.payload.case} (${bytes.byteLength} bytes)`;
    const fast = assertSame(bytes, what);
    assert.equal(fast.payload.case, env.payload.case);
    assert.deepEqual(
      Buffer.from(toBinary(EventEnvelopeSchema, fast)),
      Buffer.from(bytes),
      `${what}: round trip`,
    );
  }
});

test('edge values come back as protobuf-es gives them: bigint or string per jstype, -0, NaN, U+FFFD', () => {
  const sensor = edgeEnvelopes().find(
    (e) => e.payload.case === 'sensorSeen' && e.payload.value.dropped !== '0',
  );
  assert.ok(sensor && sensor.payload.case === 'sensorSeen');
  const fast = readEnvelope(toBinary(EventEnvelopeSchema, sensor))!;
  assert.ok(fast.payload.case === 'sensorSeen');
  // uint64 with jstype = JS_STRING, at its maximum.
  assert.equal(fast.payload.value.dropped, '18446744073709551615');
  assert.equal(typeof fast.occurredAt?.seconds, 'bigint');

  const cvss = edgeEnvelopes().filter((e) => e.payload.case === 'findingReported');
  const scores = cvss.map((e) => {
    const r = readEnvelope(toBinary(EventEnvelopeSchema, e))!;
    return r.payload.case === 'findingReported' ? r.payload.value.finding?.cvss?.score : undefined;
  });
  assert.deepStrictEqual(scores, [undefined, NaN, -0, -1.5e300]);
  const lone = cvss[2]!;
  const r = readEnvelope(toBinary(EventEnvelopeSchema, lone))!;
  assert.equal(r.eventId, 'lone \ufffd surrogate');
});

test('input as a Buffer, or a view into a larger buffer, reads the same (bytes fields as fromBinary types them)', () => {
  const env = edgeEnvelopes().find(
    (e) => e.payload.case === 'deadLettered' && e.payload.value.value.length === 3,
  );
  assert.ok(env);
  const bytes = toBinary(EventEnvelopeSchema, env);
  const backing = new Uint8Array(bytes.byteLength + 7);
  backing.set(bytes, 3);
  const inputs = [bytes, Buffer.from(bytes), backing.subarray(3, 3 + bytes.byteLength)];
  for (const input of inputs) {
    const fast = assertSame(input, input.constructor.name);
    assert.ok(fast.payload.case === 'deadLettered');
    assert.deepEqual([...fast.payload.value.value], [0, 255, 128]);
    assert.equal(Buffer.isBuffer(fast.payload.value.value), Buffer.isBuffer(input));
  }
});

test('a byte order mark is dropped and invalid UTF-8 is an error, exactly as protobuf-es decodes strings', () => {
  const env = reported(corpusFinding(), 'scan-1');
  env.subjectKey = '\ufeffwith a byte order mark';
  const bytes = toBinary(EventEnvelopeSchema, env);
  const fast = assertSame(bytes, 'BOM');
  assert.equal(fast.subjectKey, 'with a byte order mark');

  // event_id = 0xff 0xfe: not UTF-8, and proto3 strings are validated.
  const invalid = Buffer.concat([Buffer.from(bytes), Buffer.from([0x0a, 2, 0xff, 0xfe])]);
  assert.equal(readEnvelope(invalid), undefined);
  assert.throws(() => fromBinary(EventEnvelopeSchema, invalid), TypeError);
  assert.throws(
    () => decodeEnvelope(invalid),
    (err: unknown) => err instanceof EnvelopeDecodeError && err.failure === 'malformed',
  );
});

function corpusFinding(): Finding {
  const f = imageFindings()[0];
  assert.ok(f, 'the corpus has advisories');
  return f;
}

/** A tag and a length-delimited body. */
function delimited(no: number, body: Uint8Array | number[]): Buffer {
  const b = Buffer.from(body as Uint8Array);
  return Buffer.concat([varint(no * 8 + 2), varint(b.byteLength), b]);
}
function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}

test('fields out of order, given twice and packed or not read as fromBinary reads them (merge, last one wins)', () => {
  const a = encodeEnvelope(reported(corpusFinding(), 'scan-a'));
  const b = encodeEnvelope(corpusEnvelopes()[0]!);
  // Scalars: the last wins; the finding is merged (its lists appended); then another payload case replaces it.
  assertSame(Buffer.concat([a, a]), 'the same envelope twice');
  assertSame(Buffer.concat([a, b]), 'two envelopes');
  const scanStarted = toBinary(
    EventEnvelopeSchema,
    edgeEnvelopes().find((e) => e.payload.case === 'scanStarted')!,
  );
  const replaced = assertSame(Buffer.concat([a, scanStarted]), 'another payload after');
  assert.equal(replaced.payload.case, 'scanStarted');

  // Explicit-presence fields get their property when they arrive: scope (6) before occurred_at (4) before event_id.
  const reordered = Buffer.concat([
    delimited(6, [0x12, 1, 0x63]),
    delimited(4, [0x08, 5]),
    delimited(1, Buffer.from('e-1')),
    // schema_version = 1 as an over-long varint.
    Buffer.from([0x18, 0x81, 0x80, 0x00]),
  ]);
  const r = assertSame(reordered, 'out of order');
  assert.deepEqual(Object.keys(r).slice(-2), ['scope', 'occurredAt']);
  assert.equal(r.schemaVersion, 1);

  // A bool is true when any of its 64 bits is: SensorSeen.telemetry = 2^32.
  const telemetry = assertSame(
    Buffer.concat([delimited(1, Buffer.from('s-1')), delimited(23, [0x38, 0x80, 0x80, 0x80, 0x80, 0x10])]),
    'bool past 32 bits',
  );
  assert.ok(telemetry.payload.case === 'sensorSeen' && telemetry.payload.value.telemetry === true);

  // FindingSelector.sources (an enum list) packed, as toBinary writes it, and one element a tag.
  const selector = (body: number[]): Buffer =>
    Buffer.concat([delimited(1, Buffer.from('x-1')), delimited(15, delimited(3, body))]);
  const packed = assertSame(selector([0x1a, 3, 1, 2, 99]), 'packed');
  const unpacked = assertSame(selector([0x18, 1, 0x18, 2, 0x18, 99]), 'unpacked');
  assert.ok(packed.payload.case === 'exceptionRecorded' && unpacked.payload.case === 'exceptionRecorded');
  assert.deepEqual(packed.payload.value.selector?.sources, [1, 2, 99]);
  assert.deepEqual(unpacked.payload.value.selector?.sources, [1, 2, 99]);
});

test('unknown fields, a map, a group and an unexpected wire type are left to fromBinary', (t) => {
  const env = reported(corpusFinding(), 'scan-1');
  const bytes = encodeEnvelope(env);
  const cases: [string, Uint8Array][] = [
    // Field 99 (a newer producer's), a varint of 7, at the top and inside the finding.
    ['unknown field', Buffer.concat([bytes, Buffer.from([0x98, 0x06, 7])])],
    ['unknown field in a nested message', delimited(13, delimited(2, [0x98, 0x06, 7]))],
    [
      'map field',
      toBinary(
        EventEnvelopeSchema,
        newEnvelope({
          payload: {
            case: 'scanRequested',
            value: create(ScanRequestedSchema, {
              scanId: 's-1',
              scanner: ScannerKind.IMAGE,
              options: { a: 'b' },
            }),
          },
          scope,
          subjectKey: 's-1',
          producer,
          clock: () => at,
        }),
      ),
    ],
    // Field 1 as a group (start 0x0b, end 0x0c).
    ['group', Buffer.from([0x0b, 0x0c])],
    // event_id (a string) as a varint.
    ['string as a varint', Buffer.from([0x08, 1])],
  ];
  for (const [what, input] of cases) {
    assert.equal(readEnvelope(input), undefined, what);
    let reference: EventEnvelope | undefined;
    try {
      reference = fromBinary(EventEnvelopeSchema, input);
    } catch (err) {
      t.diagnostic(`${what}: fromBinary throws ${(err as Error).message}`);
    }
    if (what.startsWith('unknown'))
      assert.ok(reference && JSON.stringify(reference, replacer).includes('$unknown'));
    if (what === 'map field') {
      const decoded = decodeEnvelope(input);
      assert.ok(decoded.payload.case === 'scanRequested');
      assert.deepEqual(decoded.payload.value.options, { a: 'b' });
    }
  }
});

const replacer = (_: string, v: unknown): unknown => (typeof v === 'bigint' ? String(v) : v);

test('malformed input is never read as a value: fromBinary throws for it, and decodeEnvelope says malformed', () => {
  const bytes = encodeEnvelope(reported(corpusFinding(), 'scan-1'));
  const malformed: [string, Uint8Array][] = [
    ['truncated in a string', bytes.subarray(0, 5)],
    ['truncated in a varint', Buffer.from([0x18, 0x80])],
    ['varint too long', Buffer.from([0x18, ...Array<number>(10).fill(0xff), 0x01])],
    ['length past the end', Buffer.from([0x0a, 100, 0x61, 0x62])],
    ['wire type 6', Buffer.from([0x0e, 0])],
    ['wire type 7', Buffer.from([0x0f, 0])],
    ['field number 0', Buffer.from([0x02, 0])],
    ['tag past 32 bits', Buffer.from([0xf8, 0xff, 0xff, 0xff, 0x7f, 0])],
    // Field 1, wire type 2, in six bytes: a tag fromBinary will not read, even though its value fits.
    ['tag of six bytes', Buffer.from([0x8a, 0x80, 0x80, 0x80, 0x80, 0x00, 1, 0x61])],
    ['double cut short', delimited(13, delimited(2, delimited(8, [0x19, 1, 2, 3])))],
  ];
  for (const [what, input] of malformed) {
    assert.equal(readEnvelope(input), undefined, what);
    assert.throws(() => fromBinary(EventEnvelopeSchema, input), Error, what);
    assert.throws(
      () => decodeEnvelope(input),
      (err: unknown) => err instanceof EnvelopeDecodeError && err.failure === 'malformed',
      what,
    );
  }
  // A nested message whose last field runs past the message's own length: fromBinary reads on past it, this reader
  // leaves it to fromBinary rather than guess.
  const overrun = Buffer.concat([delimited(5, [0x0a, 3, 0x61]), Buffer.from([0x62, 0x63])]);
  assert.equal(readEnvelope(overrun), undefined);
  assert.equal(fromBinary(EventEnvelopeSchema, overrun).producer?.service, 'abc');
  // The same with a CVSS score (a double) whose eight bytes start inside the Cvss message and end outside it.
  const doubleOverrun = Buffer.concat([
    delimited(13, delimited(2, delimited(8, [0x19, 1, 2, 3]))),
    Buffer.from([4, 5, 6, 7, 8]),
  ]);
  assert.equal(readEnvelope(doubleOverrun), undefined);
  assert.doesNotThrow(() => fromBinary(EventEnvelopeSchema, doubleOverrun));

  // Every prefix of a real envelope: either fromBinary throws and the reader gives up, or both give one envelope.
  let valid = 0;
  for (let n = 0; n < bytes.byteLength; n++) {
    const prefix = bytes.subarray(0, n);
    let reference: EventEnvelope | undefined;
    try {
      reference = fromBinary(EventEnvelopeSchema, prefix);
    } catch {
      assert.equal(readEnvelope(prefix), undefined, `prefix of ${n} bytes`);
      continue;
    }
    valid++;
    assert.deepStrictEqual(readEnvelope(prefix), reference, `prefix of ${n} bytes`);
  }
  assert.ok(valid > 3 && valid < bytes.byteLength / 2, `${valid} prefixes decode`);
});
