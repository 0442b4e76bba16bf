import { ScalarType, protoInt64, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { scalarZeroValue } from '@bufbuild/protobuf/reflect';
import { getTextEncoding } from '@bufbuild/protobuf/wire';
import { isWrapperDesc } from '@bufbuild/protobuf/wkt';
import { EventEnvelopeSchema, type EventEnvelope } from './gen/vigil/v1/envelope_pb.js';

// The reporting service decodes every event it consumes, and @bufbuild/protobuf's fromBinary spent ~15 µs on each
// FindingReported: it wraps every message in a reflection object, looks each field up by number through it, checks
// every value it sets and stores every property under a name only known at run time. This reader turns each
// message's descriptor, once, into a function that reads that message: a switch on the tag with one case per field
// it implements, storing under fixed property names, so every store and every zero message has one shape. The
// result is fromBinary's: the same properties in the same order (createZeroMessage's, then explicit-presence fields
// as they arrive), the same value types, the same merge and last-one-wins rules. Anything it does not implement
// (unknown fields, maps, groups, messages that need protobuf-es's prototype chain, a wire type the field does not
// have) and anything malformed makes it give up, and the caller uses fromBinary, which keeps what it keeps and
// throws what it throws.

// google.protobuf.FeatureSet.FieldPresence.IMPLICIT and google.protobuf.Edition, as @bufbuild/protobuf numbers them.
const IMPLICIT = 2;
const EDITION_PROTO3 = 999;
const EDITION_PROTO2 = 998;
const WIRE_VARINT = 0;
const WIRE_BIT64 = 1;
const WIRE_DELIMITED = 2;
// fromBinary's default recursion limit; deeper input is left to it (it throws).
const MAX_DEPTH = 100;

/** Reads one message's fields up to `end`, into `prior` when the message was given before (fromBinary merges). */
type ReadMessage = (r: Reader, end: number, prior: Fields | undefined, depth: number) => Fields;
type Fields = Record<string, unknown>;

interface MessagePlan {
  read: ReadMessage;
}

/** Why the bytes are left to fromBinary; one instance, so giving up costs no stack trace. */
class NotHandled extends Error {}
const notHandled = new NotHandled('left to fromBinary');

const plans = new Map<DescMessage, MessagePlan>();
const text = getTextEncoding();

// Buffer.prototype.latin1Slice is what toString('latin1') ends in, without its argument handling (a tenth of this
// reader's time); it is not in Node's typings, so it is looked up once and toString is the fallback.
type Latin1 = { latin1Slice?: (start: number, end: number) => string };
const latin1: (b: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as Latin1).latin1Slice === 'function'
    ? (b, start, end) => (b as Latin1).latin1Slice!(start, end)
    : (b, start, end) => b.toString('latin1', start, end);

class Reader {
  pos = 0;
  /** The high 32 bits of the last varint read. */
  hi = 0;
  private view: DataView | undefined;
  /** The input as a Buffer (the same memory), for decoding ASCII strings. */
  private node: Buffer | undefined;
  constructor(readonly buf: Uint8Array) {}

  /** Gives up: the bytes are left to fromBinary. */
  fail(): never {
    throw notHandled;
  }

  /**
   * A varint of up to ten bytes, read as fromBinary reads it (bits past 64 dropped); returns the low 32 bits and
   * leaves the high ones in `hi`. Past `end` or longer than ten bytes: not handled.
   */
  varint(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    // Reading past the buffer gives undefined, which ends the varint; the bounds check then gives up.
    let b = buf[pos++]!;
    let lo = b & 0x7f;
    let hi = 0;
    if ((b & 0x80) !== 0) {
      let more = true;
      for (let shift = 7; more && shift < 28; shift += 7) {
        b = buf[pos++]!;
        lo |= (b & 0x7f) << shift;
        more = (b & 0x80) !== 0;
      }
      if (more) {
        b = buf[pos++]!;
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x70) >> 4;
        more = (b & 0x80) !== 0;
        for (let shift = 3; more && shift <= 31; shift += 7) {
          b = buf[pos++]!;
          hi |= (b & 0x7f) << shift;
          more = (b & 0x80) !== 0;
        }
        if (more) throw notHandled;
      }
    }
    if (pos > end) throw notHandled;
    this.pos = pos;
    this.hi = hi;
    return lo;
  }

  /** A tag of more than one byte, unsigned; fromBinary rejects those that overflow 32 bits. */
  tag(end: number): number {
    const at = this.pos;
    const tag = this.varint(end) >>> 0;
    const n = this.pos - at;
    if (n > 5 || (n === 5 && this.buf[this.pos - 1]! > 0x0f)) throw notHandled;
    return tag;
  }

  /** A length prefix: the varint's low 32 bits, unsigned; the data must lie before `end`. */
  length(end: number): number {
    const n = this.varint(end) >>> 0;
    if (n > end - this.pos) throw notHandled;
    return n;
  }

  string(end: number, strict: boolean): string {
    const n = this.length(end);
    const buf = this.buf;
    const start = this.pos;
    const stop = start + n;
    this.pos = stop;
    // ASCII decodes to the same text under any decoder, and Buffer's latin1 decoding of it is the cheapest native
    // one; the rest goes to protobuf-es's own (TextDecoder, which also drops a leading byte order mark).
    let bits = 0;
    for (let i = start; i < stop; i++) bits |= buf[i]!;
    if (bits >= 0x80) return this.utf8(start, stop, strict);
    this.node ??= Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    return latin1(this.node, start, stop);
  }

  private utf8(start: number, stop: number, strict: boolean): string {
    try {
      return text.decodeUtf8(this.buf.subarray(start, stop), strict);
    } catch {
      // Invalid UTF-8 in a validated field: fromBinary throws its own error for it.
      throw notHandled;
    }
  }

  bytes(end: number): Uint8Array {
    const n = this.length(end);
    const start = this.pos;
    this.pos += n;
    // A view, as fromBinary gives (a Buffer when the input is one).
    return this.buf.subarray(start, start + n);
  }

  bool(end: number): boolean {
    const lo = this.varint(end);
    return lo !== 0 || this.hi !== 0;
  }

  int64(end: number, asString: boolean): bigint | string {
    const lo = this.varint(end);
    // Timestamps' seconds and most counters fit in 32 bits, where the value is the same signed or not.
    const v = this.hi === 0 && protoInt64.supported ? BigInt(lo >>> 0) : protoInt64.dec(lo, this.hi);
    return asString ? String(v) : v;
  }

  uint64(end: number, asString: boolean): bigint | string {
    const lo = this.varint(end);
    const v = this.hi === 0 && protoInt64.supported ? BigInt(lo >>> 0) : protoInt64.uDec(lo, this.hi);
    return asString ? String(v) : v;
  }

  double(end: number): number {
    const at = this.pos;
    if (end - at < 8) throw notHandled;
    this.pos = at + 8;
    this.view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
    return this.view.getFloat64(at, true);
  }

  /** The end of a length-delimited field's data (a nested message, a packed list), checked against `end`. */
  delimitedEnd(end: number): number {
    const n = this.length(end);
    return this.pos + n;
  }
}

/** createZeroMessage's rule for whether a message tracks presence through its prototype. */
function needsPrototypeChain(desc: DescMessage): boolean {
  if (desc.file.edition === EDITION_PROTO3) return false;
  if (desc.file.edition === EDITION_PROTO2) return true;
  return desc.fields.some((f) => f.presence !== IMPLICIT && f.fieldKind !== 'message' && !f.oneof);
}

/** The expression reading one scalar and its wire type, or undefined for a type this reader does not implement. */
function scalarRead(
  scalar: ScalarType,
  strict: boolean,
  asString: boolean,
  end: string,
): { expr: string; wire: number } | undefined {
  switch (scalar) {
    case ScalarType.STRING:
      return { expr: `r.string(${end}, ${strict})`, wire: WIRE_DELIMITED };
    case ScalarType.BYTES:
      return { expr: `r.bytes(${end})`, wire: WIRE_DELIMITED };
    case ScalarType.BOOL:
      return { expr: `r.bool(${end})`, wire: WIRE_VARINT };
    case ScalarType.INT32:
      return { expr: `(r.varint(${end}) | 0)`, wire: WIRE_VARINT };
    case ScalarType.UINT32:
      return { expr: `(r.varint(${end}) >>> 0)`, wire: WIRE_VARINT };
    case ScalarType.INT64:
      return { expr: `r.int64(${end}, ${asString})`, wire: WIRE_VARINT };
    case ScalarType.UINT64:
      return { expr: `r.uint64(${end}, ${asString})`, wire: WIRE_VARINT };
    case ScalarType.DOUBLE:
      return { expr: `r.double(${end})`, wire: WIRE_BIT64 };
    default:
      return undefined;
  }
}

/** A message field fromBinary does not keep as the plain message (wrappers unwrapped, Struct as JSON). */
function specialMessage(f: DescField, message: DescMessage): boolean {
  if (f.fieldKind === 'message' && !f.oneof && isWrapperDesc(message)) return true;
  return message.typeName === 'google.protobuf.Struct' && f.parent.typeName !== 'google.protobuf.Value';
}

/** Builds generated code: constants it refers to by index, nested plans by index. */
class Source {
  readonly consts: unknown[] = [];
  readonly nested: MessagePlan[] = [];
  /** A constant: written out when it is a primitive (so a zero message is one literal V8 clones), else passed in. */
  literal(v: unknown): string {
    if (typeof v === 'string') return JSON.stringify(v);
    if (typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0)))
      return String(v);
    if (typeof v === 'bigint') return `${v}n`;
    this.consts.push(v);
    return `c[${this.consts.length - 1}]`;
  }
  plan(desc: DescMessage): string {
    this.nested.push(planOf(desc));
    return `p[${this.nested.length - 1}]`;
  }
}

/** The zero message as an object literal, createZeroMessage's properties in its order; undefined when unsupported. */
function zeroLiteral(desc: DescMessage, src: Source): string | undefined {
  const props = [`$typeName: ${JSON.stringify(desc.typeName)}`];
  for (const member of desc.members) {
    // In an object literal this name would set the prototype rather than a property.
    if (member.localName === '__proto__') return undefined;
    const key = JSON.stringify(member.localName);
    if (member.kind === 'oneof') {
      props.push(`${key}: { case: undefined }`);
      continue;
    }
    if (member.presence !== IMPLICIT) continue;
    switch (member.fieldKind) {
      case 'list':
        props.push(`${key}: []`);
        break;
      case 'map':
        props.push(`${key}: {}`);
        break;
      case 'enum':
        if (member.getDefaultValue() !== undefined) return undefined;
        props.push(`${key}: ${src.literal(member.enum.values[0]!.number)}`);
        break;
      case 'scalar':
        if (member.getDefaultValue() !== undefined) return undefined;
        props.push(
          member.scalar === ScalarType.BYTES
            ? `${key}: new Uint8Array(0)`
            : `${key}: ${src.literal(scalarZeroValue(member.scalar, member.longAsString))}`,
        );
        break;
      default:
        // A message field with implicit presence gets protobuf-es's private token as its zero value.
        return undefined;
    }
  }
  return `{ ${props.join(', ')} }`;
}

/** The switch cases reading one field, none for a field this reader does not implement. */
function fieldCases(f: DescField, src: Source): string[] {
  const key = JSON.stringify(f.localName);
  const tag = (wire: number): number => f.number * 8 + wire;
  const nested = 'r.delimitedEnd(end), ';
  const set = (expr: string): string =>
    f.oneof
      ? `m[${JSON.stringify(f.oneof.localName)}] = { case: ${key}, value: ${expr} };`
      : `m[${key}] = ${expr};`;
  switch (f.fieldKind) {
    case 'scalar': {
      const s = scalarRead(f.scalar, f.utf8Validation, f.longAsString, 'end');
      return s ? [`case ${tag(s.wire)}: ${set(s.expr)} break;`] : [];
    }
    case 'enum':
      // A closed enum keeps unknown numbers in $unknown: left to fromBinary.
      return f.enum.open ? [`case ${tag(WIRE_VARINT)}: ${set('(r.varint(end) | 0)')} break;`] : [];
    case 'message': {
      if (f.delimitedEncoding || specialMessage(f, f.message)) return [];
      const p = src.plan(f.message);
      if (!f.oneof)
        return [`case ${tag(WIRE_DELIMITED)}: ${set(`${p}.read(r, ${nested}m[${key}], depth)`)} break;`];
      const oneof = JSON.stringify(f.oneof.localName);
      return [
        `case ${tag(WIRE_DELIMITED)}: { const o = m[${oneof}]; ` +
          `${set(`${p}.read(r, ${nested}o.case === ${key} ? o.value : undefined, depth)`)} break; }`,
      ];
    }
    case 'list': {
      if (f.listKind === 'message') {
        if (f.delimitedEncoding || specialMessage(f, f.message)) return [];
        const p = src.plan(f.message);
        return [
          `case ${tag(WIRE_DELIMITED)}: m[${key}].push(${p}.read(r, ${nested}undefined, depth)); break;`,
        ];
      }
      // An enum list's elements are read as int32; a closed one is left to fromBinary.
      if (f.listKind === 'enum' && !f.enum.open) return [];
      const scalar = f.listKind === 'enum' ? ScalarType.INT32 : f.scalar;
      const asString = f.listKind === 'scalar' && f.longAsString;
      const one = scalarRead(scalar, f.utf8Validation, asString, 'end');
      if (!one) return [];
      const cases = [`case ${tag(one.wire)}: m[${key}].push(${one.expr}); break;`];
      // fromBinary takes numbers packed or not, whatever the field's own encoding says.
      if (one.wire !== WIRE_DELIMITED) {
        const each = scalarRead(scalar, f.utf8Validation, asString, 'stop')!;
        cases.push(
          `case ${tag(WIRE_DELIMITED)}: { const l = m[${key}], stop = r.delimitedEnd(end); ` +
            `while (r.pos < stop) l.push(${each.expr}); break; }`,
        );
      }
      return cases;
    }
    default:
      // Maps: left to fromBinary.
      return [];
  }
}

function compile(desc: DescMessage): ReadMessage {
  const src = new Source();
  const zero = needsPrototypeChain(desc) ? undefined : zeroLiteral(desc, src);
  // A message created with a prototype chain cannot be built here: any occurrence is left to fromBinary.
  if (zero === undefined) return (r) => r.fail();
  const cases = desc.fields.flatMap((f) => fieldCases(f, src));
  const body = [
    `if (++depth > ${MAX_DEPTH}) r.fail();`,
    `const m = prior ?? ${zero};`,
    'const buf = r.buf;',
    'while (r.pos < end) {',
    '  let tag = buf[r.pos];',
    '  if (tag < 0x80) r.pos++;',
    '  else tag = r.tag(end);',
    '  switch (tag) {',
    ...cases.map((c) => `    ${c}`),
    '    default: r.fail();',
    '  }',
    '}',
    'return m;',
  ].join('\n');
  // Generated from our own descriptors only: property names and constants are written with JSON.stringify or
  // passed in, so no input byte reaches the code.
  const make = new Function('c', 'p', `return function read(r, end, prior, depth) {\n${body}\n};`) as (
    c: unknown[],
    p: MessagePlan[],
  ) => ReadMessage;
  return make(src.consts, src.nested);
}

function planOf(desc: DescMessage): MessagePlan {
  const known = plans.get(desc);
  if (known) return known;
  // Registered before compiling, so a recursive message finds its own plan; `read` is filled in just after.
  const made: MessagePlan = { read: (r) => r.fail() };
  plans.set(desc, made);
  made.read = compile(desc);
  return made;
}

/**
 * fromBinary's envelope, built in one pass; undefined when the bytes hold something this reader does not implement
 * or are malformed (decodeEnvelope then uses fromBinary, which decodes or throws).
 */
export function readEnvelope(bytes: Uint8Array): EventEnvelope | undefined {
  const plan = planOf(EventEnvelopeSchema);
  try {
    return plan.read(new Reader(bytes), bytes.length, undefined, 0) as unknown as EventEnvelope;
  } catch (err) {
    if (err === notHandled) return undefined;
    throw err;
  }
}
