import { isObject } from '../normalizers/field-access.js';
import { type JsonObject, type RuntimeNormalizer } from '../normalizers/normalizer.model.js';
import { RUNTIME_NORMALIZERS, type RuntimeFormat } from '../registry.js';
import { decodeInput } from './decode-input.js';
import { jsonExtent, jsonListExtent } from './json-extent.js';

export interface ReadLimits {
  /** Whole input; larger inputs are refused before any work. */
  maxInputBytes: number;
  /**
   * One event. A list of events (a JSON array, an audit EventList) may be larger, up to the input limit, as long as
   * each of its events is within this one.
   */
  maxEventBytes: number;
  /** Nesting of one JSON value. */
  maxDepth: number;
}

export const DEFAULT_READ_LIMITS: ReadLimits = {
  maxInputBytes: 64 * 1024 * 1024,
  maxEventBytes: 1024 * 1024,
  maxDepth: 64,
};

export interface RawRuntimeEvent {
  /** 1-based line where the event's JSON starts. */
  line: number;
  value: JsonObject;
  normalizer: RuntimeNormalizer;
  /** How the event was wrapped: `syslog-prefix`, `array`, `EventList`, `jsonPayload`, `message` ... outermost first. */
  via: string[];
}

export interface SkippedLine {
  line: number;
  reason: string;
}

export interface ReadEventsResult {
  events: RawRuntimeEvent[];
  skipped: SkippedLine[];
  lines: number;
  blankLines: number;
  encoding: string;
}

/** The input as a whole cannot be used: empty, too large, or holding no event at all. */
export class RuntimeInputError extends Error {
  constructor(
    readonly input: string,
    readonly problem: string,
  ) {
    super(`${input}: ${problem}`);
    this.name = 'RuntimeInputError';
  }
}

export interface ReadEventsOptions {
  /** Only events of this sensor are taken; others are reported as skipped. Absent: every known sensor. */
  format?: RuntimeFormat;
  /** Names the input in errors (file path, `stdin`, `request body`). */
  name?: string;
  limits?: Partial<ReadLimits>;
}

const WRAPPER_TEXT_KEYS = ['message', 'log', 'textPayload', 'msg', 'MESSAGE'];
const MAX_WRAP_DEPTH = 4;

interface Unwrapped {
  events: { value: JsonObject; normalizer: RuntimeNormalizer; via: string[] }[];
  problems: string[];
}

function concerned(
  normalizers: readonly RuntimeNormalizer[],
  value: JsonObject,
): RuntimeNormalizer | undefined {
  for (const n of normalizers) if (n.concerns(value)) return n;
  return undefined;
}

function parseOrUndefined(json: string): unknown {
  try {
    return JSON.parse(json) as unknown;
  } catch {
    return undefined;
  }
}

/** Whether `text` holds at most `max` opening brackets, so no JSON value in it nests deeper than `max`. */
function bracketsAtMost(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > max) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > max) return false;
  return true;
}

// The lists whose elements, not the whole, the event limit bounds: JSON arrays, audit EventLists and CloudWatch
// logEvents batches. Nothing else may be larger than one event.
function isEventList(value: unknown): boolean {
  if (Array.isArray(value)) return true;
  if (!isObject(value)) return false;
  return (
    (value['kind'] === 'EventList' && Array.isArray(value['items'])) || Array.isArray(value['logEvents'])
  );
}

function snippet(text: string): string {
  const t = text.trim();
  // Control bytes and undecodable bytes are binary data, not a line a person should read back.
  const odd = [...t.slice(0, 200)].filter((c) => c === '\uFFFD' || (c < ' ' && c !== '\t')).length;
  if (odd > 0 && odd * 10 >= Math.min(t.length, 200)) return `binary data (${Buffer.byteLength(t)} bytes)`;
  return JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t);
}

/**
 * Reads sensor events out of a file or body as real deployments produce it: JSON lines, pretty-printed objects,
 * arrays, audit EventLists, cloud-log wrappers, syslog-prefixed lines, UTF-16; everything that is not an event is
 * reported by line with a reason. Throws RuntimeInputError only when no event at all is found.
 */
export function readEvents(input: string | Uint8Array, options: ReadEventsOptions = {}): ReadEventsResult {
  const events: RawRuntimeEvent[] = [];
  const { skipped, lines, blankLines, encoding } = readEachEvent(input, options, (e) => events.push(e));
  return { events, skipped, lines, blankLines, encoding };
}

/**
 * readEvents handing each event to `visit` as it is read instead of collecting them, so a caller that keeps less
 * than the parsed JSON (ingestEvents keeps the normalized event) does not hold a whole batch of parsed objects at
 * once: under load those were what the young-generation collections of the HTTP ingest spent their time copying.
 * Throws RuntimeInputError as readEvents does, after visiting nothing.
 */
export function readEachEvent(
  input: string | Uint8Array,
  options: ReadEventsOptions,
  visit: (event: RawRuntimeEvent) => void,
): Omit<ReadEventsResult, 'events'> & { events: number } {
  const name = options.name ?? 'input';
  const limits = { ...DEFAULT_READ_LIMITS, ...options.limits };
  const size = typeof input === 'string' ? input.length : input.byteLength;
  if (size > limits.maxInputBytes)
    throw new RuntimeInputError(
      name,
      `${size} ${typeof input === 'string' ? 'characters' : 'bytes'} is over the ${limits.maxInputBytes}-byte input limit`,
    );
  const { text, encoding } = decodeInput(input);
  const candidates = options.format
    ? RUNTIME_NORMALIZERS.filter((n) => n.sensor === options.format)
    : RUNTIME_NORMALIZERS;
  const others = RUNTIME_NORMALIZERS.filter((n) => !candidates.includes(n));

  const unwrap = (value: unknown, via: string[], depth: number): Unwrapped => {
    const out: Unwrapped = { events: [], problems: [] };
    const add = (u: Unwrapped): void => {
      out.events.push(...u.events);
      out.problems.push(...u.problems);
    };
    if (depth > MAX_WRAP_DEPTH) {
      out.problems.push(`wrappers nested deeper than ${MAX_WRAP_DEPTH}`);
      return out;
    }
    if (Array.isArray(value)) {
      // One path for all the elements: an EventList of a thousand events makes one, not a thousand.
      const inArray = [...via, 'array'];
      for (let i = 0; i < value.length; i++) {
        const el: unknown = value[i];
        const mine = isObject(el) ? concerned(candidates, el) : undefined;
        if (mine) {
          out.events.push({ value: el as JsonObject, normalizer: mine, via: inArray });
          continue;
        }
        const u = unwrap(el, inArray, depth + 1);
        for (const ev of u.events) out.events.push(ev);
        for (const p of u.problems) out.problems.push(`element ${i}: ${p}`);
      }
      if (value.length === 0) out.problems.push('empty JSON array');
      return out;
    }
    if (!isObject(value)) {
      out.problems.push(`JSON ${value === null ? 'null' : typeof value}, not an event object`);
      return out;
    }
    const mine = concerned(candidates, value);
    if (mine) {
      out.events.push({ value, normalizer: mine, via });
      return out;
    }
    const foreign = others.find((n) => n.concerns(value));
    if (foreign) {
      out.problems.push(`a ${foreign.sensor} event, but the input was declared ${options.format ?? '?'}`);
      return out;
    }
    // Kubernetes audit webhook batches.
    if (value['kind'] === 'EventList' && Array.isArray(value['items'])) {
      add(unwrap(value['items'], [...via, 'EventList'], depth + 1));
      return out;
    }
    // GCP Cloud Logging puts structured payloads in jsonPayload; CloudWatch subscriptions batch logEvents.
    if (isObject(value['jsonPayload'])) {
      add(unwrap(value['jsonPayload'], [...via, 'jsonPayload'], depth + 1));
      return out;
    }
    if (Array.isArray(value['logEvents'])) {
      for (const le of value['logEvents'])
        if (isObject(le)) add(unwrap(le, [...via, 'logEvents'], depth + 1));
      return out;
    }
    // Docker json-file, fluent-bit, Loki and friends carry the sensor's line as a string.
    for (const key of WRAPPER_TEXT_KEYS) {
      const inner = value[key];
      if (typeof inner !== 'string') continue;
      const start = inner.indexOf('{');
      if (start < 0) continue;
      const ext = jsonExtent(inner, start, inner.length, limits.maxEventBytes, limits.maxDepth);
      if (!ext.ok) {
        out.problems.push(`field "${key}" holds JSON that is ${ext.problem}`);
        return out;
      }
      try {
        add(unwrap(JSON.parse(inner.slice(start, ext.end)), [...via, key], depth + 1));
      } catch (e) {
        out.problems.push(`field "${key}" holds invalid JSON (${(e as Error).message})`);
      }
      return out;
    }
    const keys = Object.keys(value).slice(0, 6).join(', ');
    out.problems.push(
      `JSON object not recognised as a ${candidates.map((c) => c.sensor).join(', ')} event (keys: ${keys || 'none'})`,
    );
    return out;
  };

  // Line starts, so a value spanning lines is attributed to its first line and the scan resumes after it.
  const lineStarts = [0];
  for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', nl + 1)) lineStarts.push(nl + 1);
  const lineCount = text.endsWith('\n') ? lineStarts.length - 1 : lineStarts.length;
  const lineEnd = (i: number): number => {
    const next = lineStarts[i + 1];
    return next === undefined ? text.length : next - 1;
  };
  const lineOf = (offset: number, from: number): number => {
    let i = from;
    while (i + 1 < lineStarts.length && (lineStarts[i + 1] ?? Infinity) <= offset) i++;
    return i;
  };

  const result = { events: 0, skipped: [] as SkippedLine[], lines: lineCount, blankLines: 0, encoding };
  // Multi-line scans that fail could make the reader quadratic on hostile input; give them a total budget.
  let multiLineBudget = 8 * text.length + 1024;
  let i = 0;
  while (i < lineCount) {
    const start = lineStarts[i] ?? 0;
    const end = lineEnd(i);
    // The common line, one JSON object of a known sensor and nothing else (what every sensor's JSON output writes),
    // goes straight to JSON.parse: no copy of the line, no wrapper walk. Anything else takes the general path below,
    // which says what is wrong with it.
    if (text.charCodeAt(start) === 0x7b /* { */) {
      const stop = text.charCodeAt(end - 1) === 0x0d /* \r */ ? end - 1 : end;
      const json =
        text.charCodeAt(stop - 1) === 0x7d /* } */ && stop - start <= limits.maxEventBytes
          ? text.slice(start, stop)
          : undefined;
      // A line with few brackets cannot nest too deep; only the others need the scan. JSON.parse refuses a line
      // holding anything past its one value.
      if (
        json !== undefined &&
        (bracketsAtMost(json, limits.maxDepth) ||
          jsonExtent(text, start, stop, limits.maxEventBytes, limits.maxDepth).ok)
      ) {
        const value = parseOrUndefined(json);
        const mine = isObject(value) ? concerned(candidates, value) : undefined;
        if (mine) {
          result.events++;
          visit({ line: i + 1, value: value as JsonObject, normalizer: mine, via: [] });
          i++;
          continue;
        }
      }
    }
    const line = text.slice(start, end).replace(/\r$/, '');
    const no = i + 1;
    const trimmed = line.trimStart();
    if (trimmed.trim() === '') {
      result.blankLines++;
      i++;
      continue;
    }
    const lead = line.length - trimmed.length;
    const first = trimmed[0];
    // Syslog and timestamp prefixes: the event starts at the first `{` of the line and must end on it.
    const col = first === '{' || first === '[' ? lead : line.indexOf('{');
    if (col < 0) {
      result.skipped.push({ line: no, reason: `not JSON: ${snippet(line)}` });
      i++;
      continue;
    }
    const prefixed = col > lead;
    // One line may hold several values back to back (`{...}{...}`, `{...}, {...}`): read them all.
    let abs = start + col;
    let nextLine = i + 1;
    let firstValue = true;
    for (;;) {
      const multiLine = firstValue && !prefixed && multiLineBudget > 0;
      const scanEnd = multiLine ? text.length : end;
      let ext = jsonExtent(text, abs, scanEnd, limits.maxEventBytes, limits.maxDepth);
      // Over the event limit: still fine if it is a list whose every event is within it (audit webhook batches).
      let largestElement = -1;
      if (!ext.ok && ext.problem === 'too-large') {
        if (multiLine) multiLineBudget -= ext.scanned;
        const list = jsonListExtent(text, abs, scanEnd, limits.maxDepth);
        if (list.ok) {
          ext = { ok: true, end: list.end };
          largestElement = list.largestElement;
        } else ext = list;
      }
      if (!ext.ok) {
        if (multiLine) multiLineBudget -= ext.scanned;
        const why =
          ext.problem === 'too-large'
            ? `JSON value larger than the ${limits.maxEventBytes}-byte event limit`
            : ext.problem === 'too-deep'
              ? `JSON nested deeper than ${limits.maxDepth} levels`
              : `unterminated JSON: ${snippet(text.slice(abs, end))}`;
        result.skipped.push({ line: no, reason: why });
        break;
      }
      const oversized = largestElement >= 0;
      if (oversized && largestElement > limits.maxEventBytes) {
        result.skipped.push({
          line: no,
          reason: `JSON list holding a value of ${largestElement} bytes, larger than the ${limits.maxEventBytes}-byte event limit`,
        });
        break;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text.slice(abs, ext.end));
      } catch (e) {
        result.skipped.push({
          line: no,
          reason: `invalid JSON (${(e as Error).message}): ${snippet(text.slice(abs, ext.end))}`,
        });
        break;
      }
      if (oversized && !isEventList(parsed)) {
        result.skipped.push({
          line: no,
          reason: `JSON value of ${ext.end - abs} bytes, larger than the ${limits.maxEventBytes}-byte event limit and not a list of events`,
        });
        break;
      }
      const u = unwrap(parsed, prefixed ? ['prefix'] : [], 0);
      for (const ev of u.events) visit({ line: no, value: ev.value, normalizer: ev.normalizer, via: ev.via });
      result.events += u.events.length;
      if (u.events.length === 0) result.skipped.push({ line: no, reason: u.problems.join('; ') });
      else if (u.problems.length > 0)
        result.skipped.push({ line: no, reason: `partly read: ${u.problems.join('; ')}` });
      const endLine = lineOf(ext.end - 1, i);
      nextLine = endLine + 1;
      if (endLine !== i) break;
      const rest = /^[\s,]*([{[])/.exec(text.slice(ext.end, end));
      if (!rest) break;
      abs = ext.end + rest[0].length - 1;
      firstValue = false;
    }
    i = nextLine;
  }
  if (result.events === 0) {
    const first = result.skipped
      .slice(0, 3)
      .map((s) => `line ${s.line}: ${s.reason}`)
      .join('; ');
    const what = options.format ? `${options.format} event` : 'Falco, Tetragon or Kubernetes audit event';
    throw new RuntimeInputError(
      name,
      lineCount - result.blankLines === 0
        ? `empty input: no ${what}`
        : `no ${what} in ${lineCount} lines${first ? ` (${first})` : ''}`,
    );
  }
  return result;
}
