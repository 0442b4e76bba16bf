import { ScalarType, type DescField, type DescMessage } from '@bufbuild/protobuf';
import { EventEnvelopeSchema, type EventEnvelope } from './gen/vigil/v1/envelope_pb.js';

// Every service encodes its events through encodeEnvelope, the HTTP ingest one FindingReported per finding, dozens
// per request, and @bufbuild/protobuf's toBinary was a fifth of that service's CPU: it wraps every message and list in a reflection object, encodes each string into
// its own Uint8Array and copies every nested message once per level on the way out. This writer walks the same
// descriptors in two passes instead: the first measures every nested message and string, the second writes them
// into one buffer of the exact size. The bytes are toBinary's (same field order, same presence rules); a message
// holding anything this writer does not implement (unknown fields, maps, groups, fixed-width or zigzag integers) is
// left to toBinary whole.

// google.protobuf.FeatureSet.FieldPresence.IMPLICIT, as @bufbuild/protobuf numbers it.
const IMPLICIT = 2;
const WIRE_VARINT = 0;
const WIRE_BIT64 = 1;
const WIRE_DELIMITED = 2;

const enum Kind {
  String,
  Bool,
  Varint32,
  Uint32,
  Varint64,
  Double,
  Bytes,
  Enum,
  Message,
  StringList,
  MessageList,
  PackedVarintList,
  Unsupported,
}

interface FieldPlan {
  kind: Kind;
  name: string;
  /** The oneof's property name when the field is a member of one. */
  oneof: string | undefined;
  implicit: boolean;
  /** The tag as its varint bytes. */
  tag: number[];
  /** Enum: the value that counts as unset. */
  zero: number;
  /** Message and message list: the element's plan, filled in after the plan is registered (recursive messages). */
  message: MessagePlan | undefined;
  /** Packed lists: how each element is written. */
  element: Kind;
}

interface MessagePlan {
  fields: FieldPlan[];
}

/** Why a message is left to toBinary: thrown while measuring, before any byte is written. */
class NotHandled extends Error {}

const plans = new Map<DescMessage, MessagePlan>();

function tagBytes(no: number, wire: number): number[] {
  const out: number[] = [];
  let v = ((no << 3) | wire) >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function scalarKind(scalar: ScalarType): Kind {
  switch (scalar) {
    case ScalarType.STRING:
      return Kind.String;
    case ScalarType.BOOL:
      return Kind.Bool;
    case ScalarType.INT32:
      return Kind.Varint32;
    case ScalarType.UINT32:
      return Kind.Uint32;
    case ScalarType.INT64:
    case ScalarType.UINT64:
      return Kind.Varint64;
    case ScalarType.DOUBLE:
      return Kind.Double;
    case ScalarType.BYTES:
      return Kind.Bytes;
    default:
      return Kind.Unsupported;
  }
}

function wireOf(kind: Kind): number {
  if (kind === Kind.Double) return WIRE_BIT64;
  if (
    kind === Kind.String ||
    kind === Kind.Bytes ||
    kind === Kind.Message ||
    kind === Kind.StringList ||
    kind === Kind.MessageList ||
    kind === Kind.PackedVarintList
  )
    return WIRE_DELIMITED;
  return WIRE_VARINT;
}

function fieldPlan(f: DescField): FieldPlan {
  let kind: Kind = Kind.Unsupported;
  let element: Kind = Kind.Unsupported;
  let zero = 0;
  let message: DescMessage | undefined;
  if (f.fieldKind === 'scalar') kind = scalarKind(f.scalar);
  else if (f.fieldKind === 'enum') {
    kind = Kind.Enum;
    zero = f.enum.values[0]?.number ?? 0;
  } else if (f.fieldKind === 'message' && !f.delimitedEncoding) {
    kind = Kind.Message;
    message = f.message;
  } else if (f.fieldKind === 'list') {
    if (f.listKind === 'message' && !f.delimitedEncoding) {
      kind = Kind.MessageList;
      message = f.message;
    } else if (f.listKind === 'scalar' && f.scalar === ScalarType.STRING) kind = Kind.StringList;
    else if (f.packed) {
      element = f.listKind === 'enum' ? Kind.Varint32 : scalarKind(f.scalar ?? ScalarType.INT32);
      if (element === Kind.Varint32 || element === Kind.Uint32 || element === Kind.Bool)
        kind = Kind.PackedVarintList;
    }
  }
  const plan: FieldPlan = {
    kind,
    name: f.localName,
    oneof: f.oneof?.localName,
    implicit: f.presence === IMPLICIT,
    tag: tagBytes(f.number, wireOf(kind)),
    zero,
    message: undefined,
    element,
  };
  if (message) plan.message = planOf(message);
  return plan;
}

function planOf(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc);
  if (plan) return plan;
  plan = { fields: [] };
  plans.set(desc, plan);
  const sorted = [...desc.fields].sort((a, b) => a.number - b.number);
  for (const f of sorted) plan.fields.push(fieldPlan(f));
  return plan;
}

type Fields = Record<string, unknown>;

/** The field's value when toBinary would write it, else undefined. */
function setValue(msg: Fields, f: FieldPlan): unknown {
  if (f.oneof !== undefined) {
    const o = msg[f.oneof] as { case: string | undefined; value?: unknown };
    return o.case === f.name ? o.value : undefined;
  }
  const v = msg[f.name];
  if (!f.implicit)
    return v !== undefined && Object.prototype.hasOwnProperty.call(msg, f.name) ? v : undefined;
  switch (f.kind) {
    case Kind.String:
      return v === '' ? undefined : v;
    case Kind.Bool:
      return v === false ? undefined : v;
    case Kind.Varint32:
    case Kind.Uint32:
    case Kind.Double:
      // -0 is written (toBinary tells it from the zero value).
      return v === 0 && !Object.is(v, -0) ? undefined : v;
    case Kind.Varint64:
      // 0n, 0 or "0".
      return v == 0 ? undefined : v;
    case Kind.Enum:
      return v === f.zero ? undefined : v;
    case Kind.Bytes:
    case Kind.StringList:
    case Kind.MessageList:
    case Kind.PackedVarintList:
      return (v as { length: number }).length > 0 ? v : undefined;
    default:
      return v;
  }
}

function varintSize(v: number): number {
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 5;
  for (let x = Math.floor(v / 0x800000000); x > 0; x = Math.floor(x / 0x80)) n++;
  return n;
}

function utf8Length(s: string): number {
  // Short ASCII strings, the common case, are counted here: a native call costs more than the loop.
  if (s.length < 64) {
    let i = 0;
    while (i < s.length && s.charCodeAt(i) < 0x80) i++;
    if (i === s.length) return i;
  }
  return Buffer.byteLength(s, 'utf8');
}

/** 64-bit integers as toBinary writes them: two's complement, up to ten varint bytes. */
function uint64Of(v: unknown): bigint {
  return BigInt.asUintN(64, BigInt(v as bigint | string | number));
}

function bigVarintSize(v: bigint): number {
  let n = 1;
  for (let x = v >> 7n; x > 0n; x >>= 7n) n++;
  return n;
}

/**
 * Measures a message: returns its encoded size and appends, in the order the writer meets them, the size of every
 * nested message and the byte length of every string.
 */
function measure(plan: MessagePlan, msg: Fields, sizes: number[]): number {
  const unknown = msg['$unknown'] as unknown[] | undefined;
  if (unknown !== undefined && unknown.length > 0) throw new NotHandled();
  let size = 0;
  for (const f of plan.fields) {
    const v = setValue(msg, f);
    if (v === undefined) continue;
    const tag = f.tag.length;
    switch (f.kind) {
      case Kind.String: {
        const n = utf8Length(v as string);
        sizes.push(n);
        size += tag + varintSize(n) + n;
        break;
      }
      case Kind.Bool:
        size += tag + 1;
        break;
      case Kind.Varint32:
      case Kind.Enum:
      case Kind.Uint32:
        size += tag + varintSize(v as number);
        break;
      case Kind.Varint64:
        size += tag + bigVarintSize(uint64Of(v));
        break;
      case Kind.Double:
        size += tag + 8;
        break;
      case Kind.Bytes: {
        const n = (v as Uint8Array).byteLength;
        size += tag + varintSize(n) + n;
        break;
      }
      case Kind.Message: {
        const at = sizes.length;
        sizes.push(0);
        const n = measure(f.message!, v as Fields, sizes);
        sizes[at] = n;
        size += tag + varintSize(n) + n;
        break;
      }
      case Kind.StringList:
        for (const s of v as string[]) {
          const n = utf8Length(s);
          sizes.push(n);
          size += tag + varintSize(n) + n;
        }
        break;
      case Kind.MessageList:
        for (const m of v as Fields[]) {
          const at = sizes.length;
          sizes.push(0);
          const n = measure(f.message!, m, sizes);
          sizes[at] = n;
          size += tag + varintSize(n) + n;
        }
        break;
      case Kind.PackedVarintList: {
        let n = 0;
        for (const x of v as (number | boolean)[]) n += typeof x === 'boolean' ? 1 : varintSize(x);
        sizes.push(n);
        size += tag + varintSize(n) + n;
        break;
      }
      default:
        throw new NotHandled();
    }
  }
  return size;
}

class Writer {
  pos = 0;
  next = 0;
  constructor(
    readonly buf: Buffer,
    readonly sizes: number[],
  ) {}

  tag(bytes: number[]): void {
    for (const b of bytes) this.buf[this.pos++] = b;
  }

  varint(v: number): void {
    if (v < 0) {
      this.bigVarint(BigInt.asUintN(64, BigInt(v)));
      return;
    }
    while (v > 0x7f) {
      this.buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.pos++] = v;
  }

  bigVarint(v: bigint): void {
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  string(s: string): void {
    const n = this.sizes[this.next++]!;
    this.varint(n);
    if (n === s.length && n < 64) {
      for (let i = 0; i < n; i++) this.buf[this.pos + i] = s.charCodeAt(i);
    } else this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  message(plan: MessagePlan, msg: Fields): void {
    for (const f of plan.fields) {
      const v = setValue(msg, f);
      if (v === undefined) continue;
      this.tag(f.tag);
      switch (f.kind) {
        case Kind.String:
          this.string(v as string);
          break;
        case Kind.Bool:
          this.buf[this.pos++] = v ? 1 : 0;
          break;
        case Kind.Varint32:
        case Kind.Enum:
          this.varint(v as number);
          break;
        case Kind.Uint32:
          this.varint((v as number) >>> 0);
          break;
        case Kind.Varint64:
          this.bigVarint(uint64Of(v));
          break;
        case Kind.Double:
          this.buf.writeDoubleLE(v as number, this.pos);
          this.pos += 8;
          break;
        case Kind.Bytes: {
          const b = v as Uint8Array;
          this.varint(b.byteLength);
          this.buf.set(b, this.pos);
          this.pos += b.byteLength;
          break;
        }
        case Kind.Message:
          this.varint(this.sizes[this.next++]!);
          this.message(f.message!, v as Fields);
          break;
        case Kind.StringList: {
          const list = v as string[];
          for (let i = 0; i < list.length; i++) {
            if (i > 0) this.tag(f.tag);
            this.string(list[i]!);
          }
          break;
        }
        case Kind.MessageList: {
          const list = v as Fields[];
          for (let i = 0; i < list.length; i++) {
            if (i > 0) this.tag(f.tag);
            this.varint(this.sizes[this.next++]!);
            this.message(f.message!, list[i]!);
          }
          break;
        }
        case Kind.PackedVarintList:
          this.varint(this.sizes[this.next++]!);
          for (const x of v as (number | boolean)[])
            if (typeof x === 'boolean') this.buf[this.pos++] = x ? 1 : 0;
            else this.varint(f.element === Kind.Uint32 ? x >>> 0 : x);
          break;
      }
    }
  }
}

/**
 * toBinary's bytes of the envelope, written in one buffer of the exact size; undefined when the envelope holds
 * something this writer does not implement (encodeEnvelope then uses toBinary).
 */
export function writeEnvelope(env: EventEnvelope): Uint8Array | undefined {
  const plan = planOf(EventEnvelopeSchema);
  const sizes: number[] = [];
  let size: number;
  try {
    size = measure(plan, env as unknown as Fields, sizes);
  } catch (err) {
    if (err instanceof NotHandled) return undefined;
    throw err;
  }
  const w = new Writer(Buffer.allocUnsafe(size), sizes);
  w.message(plan, env as unknown as Fields);
  if (w.pos !== size)
    throw new Error(`writeEnvelope: wrote ${w.pos} bytes of event ${env.eventId}, measured ${size}`);
  return w.buf;
}
