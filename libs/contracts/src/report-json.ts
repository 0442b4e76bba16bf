import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromJson,
  getOption,
  type JsonObject,
  type JsonValue,
  type MessageShape,
  toJson,
} from '@bufbuild/protobuf';
import { JsonWordCase, json_word_case } from './gen/vigil/v1/options_pb.js';
import { isReportTypeName, readableSchemaVersion, upcast } from './schema-versions.js';

// Reports are the proto3 JSON mapping of their messages (lowerCamelCase, zero values emitted) with one change:
// enums whose declaration carries (vigil.v1.json_word_case) are written as plain words, the value name without the
// enum's prefix in the declared case: SEVERITY_CRITICAL -> "CRITICAL", CHECK_STATUS_NOT_APPLICABLE ->
// "not_applicable". The rule reads the descriptors, so it covers nested, repeated, map and oneof fields alike.

interface EnumWords {
  readonly toWord: ReadonlyMap<string, string>;
  readonly fromWord: ReadonlyMap<string, string>;
  readonly words: readonly string[];
}

const wordsCache = new Map<string, EnumWords | null>();

function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

function enumWords(desc: DescEnum): EnumWords | null {
  const cached = wordsCache.get(desc.typeName);
  if (cached !== undefined) return cached;
  const wordCase = getOption(desc, json_word_case);
  let result: EnumWords | null = null;
  if (wordCase !== JsonWordCase.UNSPECIFIED) {
    const prefix = `${upperSnake(desc.name)}_`;
    const toWord = new Map<string, string>();
    const fromWord = new Map<string, string>();
    for (const v of desc.values) {
      // buf lint (ENUM_VALUE_PREFIX) guarantees the prefix; this guards a descriptor built some other way.
      if (!v.name.startsWith(prefix))
        throw new Error(`${desc.typeName}.${v.name} does not start with ${prefix}`);
      const bare = v.name.slice(prefix.length);
      const word = wordCase === JsonWordCase.UPPER ? bare.toUpperCase() : bare.toLowerCase();
      toWord.set(v.name, word);
      fromWord.set(word, v.name);
    }
    result = { toWord, fromWord, words: [...fromWord.keys()] };
  }
  wordsCache.set(desc.typeName, result);
  return result;
}

// Well-known types have their own JSON forms (Timestamp is an RFC 3339 string): never walked into.
function isWellKnown(desc: DescMessage): boolean {
  return desc.typeName.startsWith('google.protobuf.');
}

type Convert = (desc: DescEnum, value: JsonValue, path: string) => JsonValue;

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function walkMessage(desc: DescMessage, json: JsonValue, path: string, convert: Convert): JsonValue {
  if (isWellKnown(desc) || !isObject(json)) return json;
  const out: JsonObject = { ...json };
  for (const field of desc.fields) {
    // fromJson accepts the proto field name as well as the JSON name.
    for (const key of field.jsonName === field.name ? [field.name] : [field.jsonName, field.name]) {
      const value = out[key];
      if (value === undefined || value === null) continue;
      out[key] = walkField(field, value, `${path}.${key}`, convert);
    }
  }
  return out;
}

function walkField(field: DescField, value: JsonValue, path: string, convert: Convert): JsonValue {
  switch (field.fieldKind) {
    case 'enum':
      return convert(field.enum, value, path);
    case 'message':
      return walkMessage(field.message, value, path, convert);
    case 'list': {
      if (!Array.isArray(value)) return value;
      if (field.listKind === 'enum') return value.map((v, i) => convert(field.enum, v, `${path}[${i}]`));
      if (field.listKind === 'message')
        return value.map((v, i) => walkMessage(field.message, v, `${path}[${i}]`, convert));
      return value;
    }
    case 'map': {
      if (!isObject(value)) return value;
      if (field.mapKind !== 'enum' && field.mapKind !== 'message') return value;
      const out: JsonObject = {};
      for (const [k, v] of Object.entries(value)) {
        const p = `${path}[${JSON.stringify(k)}]`;
        out[k] =
          field.mapKind === 'enum' ? convert(field.enum, v, p) : walkMessage(field.message, v, p, convert);
      }
      return out;
    }
    default:
      return value;
  }
}

const toWords: Convert = (desc, value) => {
  const words = enumWords(desc);
  // Unknown numeric values of open enums stay numbers, as in the plain proto3 mapping.
  if (!words || typeof value !== 'string') return value;
  return words.toWord.get(value) ?? value;
};

const fromWords: Convert = (desc, value, path) => {
  const words = enumWords(desc);
  if (!words || typeof value !== 'string') return value;
  const name = words.fromWord.get(value);
  if (name !== undefined) return name;
  // Accept the proto names too, so plain protobuf tooling output still reads.
  if (words.toWord.has(value)) return value;
  throw new Error(
    `${path}: ${JSON.stringify(value)} is not a ${desc.name} (expected one of ${words.words.join(', ')})`,
  );
};

function checkSchemaVersion(schema: DescMessage, message: { [k: string]: unknown }): void {
  const field = schema.fields.find((f) => f.name === 'schema_version');
  if (field && !message[field.localName]) {
    throw new Error(
      `toReportJson: ${schema.typeName}.schemaVersion is not set (a published shape must say its version)`,
    );
  }
}

/** A report message as its published JSON. */
export function toReportJson<Desc extends DescMessage>(
  schema: Desc,
  message: MessageShape<Desc>,
): JsonObject {
  checkSchemaVersion(schema, message as unknown as { [k: string]: unknown });
  const json = toJson(schema, message, { alwaysEmitImplicit: true });
  return walkMessage(schema, json, schema.name, toWords) as JsonObject;
}

export interface FromReportJsonOptions {
  /** Skip fields this build does not know (a newer writer). Default false: an unknown field is an error. */
  ignoreUnknownFields?: boolean;
}

/** Parses published report JSON (upcasting older schema versions). Errors name the path and the problem. */
export function fromReportJson<Desc extends DescMessage>(
  schema: Desc,
  json: unknown,
  options: FromReportJsonOptions = {},
): MessageShape<Desc> {
  if (!isObject(json as JsonValue)) {
    throw new Error(
      `fromReportJson: a ${schema.typeName} must be a JSON object, got ${json === null ? 'null' : typeof json}`,
    );
  }
  // The version first: a newer document may use words this build does not know, and that is the real problem.
  if (isReportTypeName(schema.typeName)) readableSchemaVersion(schema.typeName, json as JsonObject);
  const protoJson = walkMessage(schema, json as JsonObject, schema.name, fromWords) as JsonObject;
  const current = upcast(schema.typeName, protoJson);
  try {
    return fromJson(schema, current, { ignoreUnknownFields: options.ignoreUnknownFields ?? false });
  } catch (err) {
    throw new Error(`fromReportJson: not a valid ${schema.typeName}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}
