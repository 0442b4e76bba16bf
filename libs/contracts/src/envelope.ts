import { create, fromBinary, toBinary, type MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { BinaryReader, WireType } from '@bufbuild/protobuf/wire';
import { randomUUID } from 'node:crypto';
import { type ProducerSchema, type ScopeSchema } from './gen/vigil/v1/common_pb.js';
import { type EventEnvelope, EventEnvelopeSchema } from './gen/vigil/v1/envelope_pb.js';
import { FindingReportedSchema } from './gen/vigil/v1/finding_pb.js';
import { readEnvelope } from './envelope-reader.js';
import { writeEnvelope } from './envelope-writer.js';
import { EVENT_SCHEMA_VERSIONS, type PayloadCase, upcastEvent } from './schema-versions.js';

type PayloadInit = NonNullable<MessageInitShape<typeof EventEnvelopeSchema>['payload']>;
/** A payload as `newEnvelope` takes it: `{ case: 'scanCompleted', value: { ... } }`, value a message or its init. */
export type EnvelopePayloadInit = Extract<PayloadInit, { case: PayloadCase }>;

export interface NewEnvelopeInput {
  payload: EnvelopePayloadInit;
  scope: MessageInitShape<typeof ScopeSchema>;
  /** The Kafka key: order holds per subject. */
  subjectKey: string;
  producer: MessageInitShape<typeof ProducerSchema>;
  clock?: () => Date;
  newId?: () => string;
}

const payloadOneof = EventEnvelopeSchema.oneofs.find((o) => o.name === 'payload');
if (!payloadOneof) throw new Error('vigil.v1.EventEnvelope has no payload oneof: regenerate libs/contracts');

const eventTypeByCase: ReadonlyMap<string, string> = new Map(
  payloadOneof.fields.map((f) => {
    if (f.fieldKind !== 'message') throw new Error(`EventEnvelope.${f.name} is not a message field`);
    return [f.localName, f.message.typeName] as const;
  }),
);

/** The event type of a payload case: its full message name, e.g. "vigil.v1.ScanCompleted". */
export function eventTypeOf(payloadCase: PayloadCase): string {
  const t = eventTypeByCase.get(payloadCase);
  if (!t) throw new Error(`eventTypeOf: "${String(payloadCase)}" is not an EventEnvelope payload`);
  return t;
}

export function newEnvelope(input: NewEnvelopeInput): EventEnvelope {
  const kind = input.payload.case;
  const eventType = eventTypeOf(kind);
  if (!input.subjectKey)
    throw new Error(`newEnvelope(${eventType}): subjectKey is empty (it is the Kafka message key)`);
  if (!input.scope.cluster) throw new Error(`newEnvelope(${eventType}): scope.cluster is empty`);
  if (!input.producer.service) throw new Error(`newEnvelope(${eventType}): producer.service is empty`);
  const eventId = (input.newId ?? randomUUID)();
  if (!eventId) throw new Error(`newEnvelope(${eventType}): newId() returned an empty id`);
  const now = (input.clock ?? (() => new Date()))();
  if (Number.isNaN(now.getTime()))
    throw new Error(`newEnvelope(${eventType}): clock() returned an invalid date`);
  return create(EventEnvelopeSchema, {
    eventId,
    eventType,
    schemaVersion: EVENT_SCHEMA_VERSIONS[kind],
    occurredAt: timestampFromDate(now),
    producer: input.producer,
    scope: input.scope,
    subjectKey: input.subjectKey,
    payload: input.payload,
  });
}

export function encodeEnvelope(envelope: EventEnvelope): Uint8Array {
  if (envelope.payload.case === undefined) {
    throw new Error(`encodeEnvelope: event ${envelope.eventId || '(no id)'} has no payload`);
  }
  return writeEnvelope(envelope) ?? toBinary(EventEnvelopeSchema, envelope);
}

export type EnvelopeDecodeFailure =
  /** Not protobuf, or truncated. */
  | 'malformed'
  /** Protobuf, but not a valid envelope (missing id, version or payload, type not matching payload). */
  | 'invalid'
  /** A payload this build does not know: written by a newer schema. Consumers may skip it rather than dead-letter. */
  | 'unknown-payload'
  /** A payload version newer than this build reads, or with no upcaster chain. */
  | 'unsupported-version';

export class EnvelopeDecodeError extends Error {
  readonly failure: EnvelopeDecodeFailure;
  constructor(failure: EnvelopeDecodeFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvelopeDecodeError';
    this.failure = failure;
  }
}

const fieldNumber = (name: string, fields: readonly { localName: string; number: number }[]): number => {
  const f = fields.find((x) => x.localName === name);
  if (!f) throw new Error(`contracts: no field ${name}`);
  return f.number;
};
const SCHEMA_VERSION_FIELD = fieldNumber('schemaVersion', EventEnvelopeSchema.fields);
const FINDING_REPORTED_FIELD = fieldNumber('findingReported', EventEnvelopeSchema.fields);
const REPORTED_FINDING_FIELD = fieldNumber('finding', FindingReportedSchema.fields);

/**
 * The encoded Finding inside an encoded FindingReported envelope: a view into `bytes`, not a copy. Lets a consumer
 * keep the finding it received without encoding it again. Undefined when the bytes cannot stand for the decoded
 * finding as they are: another payload, an older schema version (decoding upcasts it), or a field given twice
 * (decoding merges the copies). Call it on bytes decodeEnvelope accepted.
 */
export function reportedFindingBytes(bytes: Uint8Array): Uint8Array | undefined {
  try {
    const envelope = onlyField(bytes, FINDING_REPORTED_FIELD, SCHEMA_VERSION_FIELD);
    if (!envelope?.field || envelope.varint !== EVENT_SCHEMA_VERSIONS.findingReported) return undefined;
    return onlyField(envelope.field, REPORTED_FINDING_FIELD)?.field;
  } catch {
    return undefined;
  }
}

/**
 * The length-delimited field `no` of an encoded message (undefined when it is given twice), and the last value of
 * the varint field `varintNo` when one is named.
 */
function onlyField(
  bytes: Uint8Array,
  no: number,
  varintNo?: number,
): { field: Uint8Array | undefined; varint: number | undefined } | undefined {
  let field: Uint8Array | undefined;
  let varint: number | undefined;
  const r = new BinaryReader(bytes);
  while (r.pos < r.len) {
    const [n, wire] = r.tag();
    if (n === no && wire === WireType.LengthDelimited) {
      if (field) return undefined;
      field = r.bytes();
    } else if (n === varintNo && wire === WireType.Varint) {
      varint = r.uint32();
    } else {
      r.skip(wire, n);
    }
  }
  return { field, varint };
}

const knownFieldNumbers = new Set(EventEnvelopeSchema.fields.map((f) => f.number));

/** Decodes and validates one message of the log, upcasting older payload versions. Throws EnvelopeDecodeError. */
export function decodeEnvelope(bytes: Uint8Array): EventEnvelope {
  const what = `${bytes.byteLength}-byte message`;
  let env: EventEnvelope;
  try {
    env = readEnvelope(bytes) ?? fromBinary(EventEnvelopeSchema, bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new EnvelopeDecodeError(
      'malformed',
      `decodeEnvelope: ${what} is not a vigil.v1.EventEnvelope: ${reason}`,
      {
        cause: err,
      },
    );
  }
  const id = env.eventId || '(no id)';
  if (env.payload.case === undefined) {
    const unknown = (env.$unknown ?? []).map((u) => u.no).filter((n) => !knownFieldNumbers.has(n));
    if (env.eventId && unknown.length > 0) {
      throw new EnvelopeDecodeError(
        'unknown-payload',
        `decodeEnvelope: event ${id} (${env.eventType || 'no type'}) carries a payload this build does not know (field ${unknown.join(', ')}); it was written by a newer schema`,
      );
    }
    throw new EnvelopeDecodeError(
      'invalid',
      `decodeEnvelope: ${what} is not a vigil.v1.EventEnvelope: it has no payload`,
    );
  }
  if (!env.eventId) throw new EnvelopeDecodeError('invalid', `decodeEnvelope: ${what} has no event_id`);
  if (env.schemaVersion < 1)
    throw new EnvelopeDecodeError('invalid', `decodeEnvelope: event ${id} has no schema_version`);
  const expectedType = eventTypeOf(env.payload.case);
  if (env.eventType !== expectedType) {
    throw new EnvelopeDecodeError(
      'invalid',
      `decodeEnvelope: event ${id} says event_type "${env.eventType}" but carries a ${expectedType}`,
    );
  }
  try {
    return upcastEvent(env);
  } catch (err) {
    throw new EnvelopeDecodeError('unsupported-version', `decodeEnvelope: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
