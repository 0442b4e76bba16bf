import {
  ScalarType,
  create,
  type DescField,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
} from '@vigil/contracts';
// The canonical form a snapshot's content hash covers: JSON without whitespace, object keys in sorted order, every
// zero value left out (empty string, 0, false, empty list, unset field). Leaving zero values out means a field added
// to a message later does not change the hash of an old snapshot when it is rebuilt, the property the proto3 binary
// encoding would give; unlike that encoding, this form is defined here rather than by a library's writer (protobuf
// serialization is explicitly not canonical across implementations), and it is several times faster to produce
// for a 200,000-finding snapshot.
//
// Key order is ECMAScript's own-property order over keys inserted sorted by code unit: keys that are array indices
// ("0", "17") come first in ascending numeric order, then the rest in code-unit order. JSON.stringify follows that
// order on every conforming engine, so the text is the same everywhere. Values are protobuf-es messages: plain
// objects whose "$"-prefixed keys ($typeName, $unknown) are runtime bookkeeping and are skipped. Enums are their
// proto numbers, 64-bit integers (bigint) decimal strings, bytes base64, doubles ECMAScript's shortest round-trip
// text, -0 is 0.

export function canonicalJson(value: unknown): string {
  try {
    return JSON.stringify(tree(value)) ?? '';
  } catch (err) {
    if (err instanceof NoCanonicalForm) {
      throw new Error(`canonicalJson: $${err.path.join('')} is ${err.what}, which has no canonical form`);
    }
    throw err;
  }
}

export function canonicalBytes(value: unknown): Uint8Array {
  return Buffer.from(canonicalJson(value), 'utf8');
}

// Carries the path outwards only when something fails, so the common path builds no path strings.
class NoCanonicalForm extends Error {
  readonly path: string[] = [];
  constructor(readonly what: string) {
    super(what);
  }
}

function isZero(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    v === '' ||
    v === 0 ||
    v === 0n ||
    v === false ||
    (Array.isArray(v) && v.length === 0) ||
    (v instanceof Uint8Array && v.byteLength === 0)
  );
}

// Sorted key lists per message type and key count: messages of one type made by the runtime carry the same keys,
// so they are sorted once rather than once per finding.
const keyOrder = new Map<string, { own: number; keys: string[] }>();

// Index-like keys ("0", "17") first in numeric order, as ECMAScript orders them; the rest by code unit.
function ecmaOrder(keys: string[]): string[] {
  const index = keys.filter(isIndexKey).sort((a, b) => Number(a) - Number(b));
  return index.length === 0 ? keys : [...index, ...keys.filter((k) => !isIndexKey(k))];
}

function isIndexKey(k: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 4294967295;
}

function sortedKeys(obj: Record<string, unknown>): string[] {
  const own = Object.keys(obj);
  const type = obj['$typeName'];
  if (typeof type === 'string') {
    const cached = keyOrder.get(type);
    if (cached && cached.own === own.length && cached.keys.every((k) => k in obj)) return cached.keys;
    const keys = ecmaOrder(own.filter((k) => k.charCodeAt(0) !== 36 /* $ */).sort());
    if (!cached) keyOrder.set(type, { own: own.length, keys });
    return keys;
  }
  return ecmaOrder(own.filter((k) => k.charCodeAt(0) !== 36).sort());
}

// Rebuilds the value as plain JSON data with keys inserted in sorted order, then lets the native JSON.stringify
// write it: one native pass is far faster than stringifying value by value.
function tree(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (!Number.isFinite(v)) throw new NoCanonicalForm(String(v));
      return Object.is(v, -0) ? 0 : v;
    case 'bigint':
      return v.toString();
    case 'object': {
      if (v === null) return null;
      if (v instanceof Uint8Array)
        return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
      if (Array.isArray(v)) {
        const out: unknown[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          try {
            out[i] = tree(v[i]);
          } catch (err) {
            if (err instanceof NoCanonicalForm) err.path.unshift(`[${i}]`);
            throw err;
          }
        }
        return out;
      }
      const obj = v as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of sortedKeys(obj)) {
        const x = obj[k];
        if (isZero(x)) continue;
        try {
          out[k] = tree(x);
        } catch (err) {
          if (err instanceof NoCanonicalForm) err.path.unshift(`.${k}`);
          throw err;
        }
      }
      return out;
    }
    default:
      throw new NoCanonicalForm(`a ${typeof v}`);
  }
}

// canonicalJson of a top-level object, with the text of some of its fields supplied by the caller (already in
// canonical form). The snapshot builder uses it to reuse the text of findings that did not change since the last
// build; the result is exactly canonicalJson(obj).
export function canonicalJsonWith(
  obj: Record<string, unknown>,
  raw: Readonly<Record<string, string>>,
): string {
  const parts: string[] = [];
  for (const k of sortedKeys(obj)) {
    if (k in raw) {
      if (!isZero(obj[k])) parts.push(JSON.stringify(k) + ':' + (raw[k] as string));
      continue;
    }
    const x = obj[k];
    if (isZero(x)) continue;
    parts.push(JSON.stringify(k) + ':' + canonicalJson(x));
  }
  return '{' + parts.join(',') + '}';
}

/**
 * The inverse of canonicalJson for a message of the given schema: reads the canonical tree back into a message.
 * Zero values were left out, so absent fields take their defaults; 64-bit integers come back from decimal text and
 * bytes from base64, as the schema says.
 */
export function fromCanonicalJson<D extends DescMessage>(schema: D, json: unknown): MessageShape<D> {
  return create(schema, messageInit(schema, json, schema.typeName) as MessageInitShape<D>);
}

function messageInit(schema: DescMessage, json: unknown, path: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new Error(`${path}: expected an object`);
  const obj = json as Record<string, unknown>;
  const init: Record<string, unknown> = {};
  for (const member of schema.members) {
    const raw = obj[member.localName];
    if (raw === undefined) continue;
    const at = `${path}.${member.localName}`;
    if (member.kind === 'oneof') {
      const { case: which, value } = raw as { case?: string; value?: unknown };
      const field = member.fields.find((f) => f.localName === which);
      if (!field) throw new Error(`${at}: "${String(which)}" is not a member of the oneof`);
      init[member.localName] = { case: which, value: fieldValue(field, value, at) };
    } else {
      init[member.localName] = fieldValue(member, raw, at);
    }
  }
  return init;
}

function fieldValue(field: DescField, raw: unknown, at: string): unknown {
  switch (field.fieldKind) {
    case 'scalar':
      return scalarValue(field.scalar, field.longAsString, raw);
    case 'enum':
      return raw;
    case 'message':
      return messageInit(field.message, raw, at);
    case 'list':
      if (!Array.isArray(raw)) throw new Error(`${at}: expected a list`);
      return raw.map((item, i) =>
        field.listKind === 'message'
          ? messageInit(field.message, item, `${at}[${i}]`)
          : field.listKind === 'scalar'
            ? scalarValue(field.scalar, field.longAsString, item)
            : item,
      );
    case 'map': {
      const out: Record<string, unknown> = {};
      for (const [k, item] of Object.entries(raw as Record<string, unknown>)) {
        out[k] =
          field.mapKind === 'message'
            ? messageInit(field.message, item, `${at}[${k}]`)
            : field.mapKind === 'scalar'
              ? scalarValue(field.scalar, false, item)
              : item;
      }
      return out;
    }
  }
}

function scalarValue(type: ScalarType, longAsString: boolean, raw: unknown): unknown {
  switch (type) {
    case ScalarType.INT64:
    case ScalarType.UINT64:
    case ScalarType.SINT64:
    case ScalarType.FIXED64:
    case ScalarType.SFIXED64:
      return longAsString ? String(raw) : BigInt(raw as string);
    case ScalarType.BYTES:
      return new Uint8Array(Buffer.from(raw as string, 'base64'));
    default:
      return raw;
  }
}
