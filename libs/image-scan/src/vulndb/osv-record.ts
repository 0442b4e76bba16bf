// The OSV record shape matching needs (https://ossf.github.io/osv-schema/), checked field by field: a dump holds
// records from many databases, and one malformed record must be reported by name rather than break a scan later.
import { MalformedInputError } from '../analyzers/analyzer.js';
import type { OsvEvent } from '../versions/osv-range.js';

export interface OsvSeverity {
  /** CVSS_V2, CVSS_V3, CVSS_V4, Ubuntu; absent in some API copies of Ubuntu records. */
  type?: string;
  score: string;
}

export interface OsvPackage {
  ecosystem: string;
  name: string;
  purl?: string;
}

export interface OsvRecordRange {
  type: string;
  repo?: string;
  events: OsvEvent[];
  database_specific?: Record<string, unknown>;
}

export interface OsvRecordAffected {
  /** Absent for entries that only name a git repository (older osv.dev CVE records). */
  package?: OsvPackage;
  severity?: OsvSeverity[];
  ranges: OsvRecordRange[];
  versions: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
}

export interface OsvReference {
  type?: string;
  url: string;
}

export interface OsvRecord {
  id: string;
  modified: string;
  published?: string;
  withdrawn?: string;
  aliases: string[];
  related: string[];
  upstream: string[];
  summary?: string;
  details?: string;
  severity: OsvSeverity[];
  affected: OsvRecordAffected[];
  references: OsvReference[];
  database_specific?: Record<string, unknown>;
  schema_version?: string;
}

/** A record that is not valid OSV; `path` is the file (or zip member) it came from. */
export class InvalidAdvisoryError extends MalformedInputError {
  constructor(label: string, problem: string) {
    super(label, problem);
    this.name = 'InvalidAdvisoryError';
  }
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const EVENT_KEYS = ['introduced', 'fixed', 'last_affected', 'limit'] as const;

/**
 * Validates one parsed OSV record (or its JSON text) and returns it with the optional lists filled in.
 * `label` names where it came from, for the error.
 */
export function parseOsvRecord(json: unknown, label: string): OsvRecord {
  // Records this function returned are valid as they are: the memory store hands them back on every look-up.
  if (typeof json === 'object' && json !== null && validated.has(json)) return json as OsvRecord;
  const record = validate(json, label);
  validated.add(record);
  return record;
}

const validated = new WeakSet<object>();

/** True for an object parseOsvRecord returned (so it needs no second validation). */
export function isValidatedRecord(value: unknown): value is OsvRecord {
  return typeof value === 'object' && value !== null && validated.has(value);
}

function validate(json: unknown, label: string): OsvRecord {
  let value = json;
  if (typeof json === 'string' || json instanceof Uint8Array) {
    const text = typeof json === 'string' ? json : new TextDecoder('utf-8').decode(json);
    try {
      value = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      throw new InvalidAdvisoryError(label, `not JSON (${(err as Error).message})`);
    }
  }
  const fail = (problem: string): never => {
    const id = isObject(value) && typeof value.id === 'string' ? ` (${value.id})` : '';
    throw new InvalidAdvisoryError(label, `${problem}${id}`);
  };
  if (!isObject(value)) return fail('an OSV record is a JSON object');
  const r = value;
  if (typeof r.id !== 'string' || r.id.trim() === '') return fail('"id" is missing or not a string');
  if (typeof r.modified !== 'string') return fail('"modified" is missing or not a string');
  checkDate(r.modified, 'modified', fail);
  for (const k of ['published', 'withdrawn'] as const) {
    if (r[k] === undefined || r[k] === null) continue;
    if (typeof r[k] !== 'string') fail(`"${k}" is not a string`);
    checkDate(r[k] as string, k, fail);
  }
  for (const k of ['summary', 'details', 'schema_version'] as const) {
    if (r[k] !== undefined && r[k] !== null && typeof r[k] !== 'string') fail(`"${k}" is not a string`);
  }
  const strings = (v: unknown, where: string) => stringList(v, where, fail);
  const severities = (v: unknown, where: string) => severityList(v, where, fail);
  const objectOrUndefined = (v: unknown, where: string) => optionalObject(v, where, fail);

  if (r.affected !== undefined && r.affected !== null && !Array.isArray(r.affected))
    fail('"affected" is not a list');
  // Valid parts are kept as the objects they came as (only missing lists are filled in): records rebuilt from
  // storage are validated on every look-up, and copying them would double what a scan allocates.
  const affected = ((r.affected as unknown[] | undefined) ?? []).map((a, i) =>
    checkAffected(a, `affected[${i}]`, fail),
  );

  if (r.references !== undefined && r.references !== null && !Array.isArray(r.references))
    fail('"references" is not a list');
  const references = referenceList((r.references as unknown[] | undefined) ?? []);
  const ds = objectOrUndefined(r.database_specific, 'database_specific');
  return {
    id: r.id,
    modified: r.modified,
    ...(typeof r.published === 'string' ? { published: r.published } : {}),
    ...(typeof r.withdrawn === 'string' ? { withdrawn: r.withdrawn } : {}),
    aliases: strings(r.aliases, 'aliases'),
    related: strings(r.related, 'related'),
    upstream: strings(r.upstream, 'upstream'),
    ...(typeof r.summary === 'string' ? { summary: r.summary } : {}),
    ...(typeof r.details === 'string' ? { details: r.details } : {}),
    severity: severities(r.severity, 'severity'),
    affected,
    references,
    ...(ds ? { database_specific: ds } : {}),
    ...(typeof r.schema_version === 'string' ? { schema_version: r.schema_version } : {}),
  };
}

type Fail = (problem: string) => never;

// References without a url are dropped and a non-string type is left out; a list with neither is kept as it came
// (as the rest of a record is: a scan validates every record it fetches).
function referenceList(refs: unknown[]): OsvReference[] {
  const clean = (ref: unknown) =>
    isObject(ref) && typeof ref.url === 'string' && (ref.type === undefined || typeof ref.type === 'string');
  if (refs.every(clean)) return refs as OsvReference[];
  return refs.flatMap((ref): OsvReference[] =>
    isObject(ref) && typeof ref.url === 'string'
      ? [{ url: ref.url, ...(typeof ref.type === 'string' ? { type: ref.type } : {}) }]
      : [],
  );
}

function stringList(v: unknown, where: string, fail: Fail): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(`"${where}" is not a list of strings`);
  for (let i = 0; i < v.length; i++)
    if (typeof v[i] !== 'string') return fail(`"${where}" is not a list of strings`);
  return v as string[];
}

function severityList(v: unknown, where: string, fail: Fail): OsvSeverity[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) return fail(`"${where}" is not a list`);
  return v.map((s, i) => {
    if (!isObject(s) || typeof s.score !== 'string') return fail(`${where}[${i}] has no string "score"`);
    if (s.type !== undefined && typeof s.type !== 'string')
      return fail(`${where}[${i}].type is not a string`);
    return s as unknown as OsvSeverity;
  });
}

function optionalObject(v: unknown, where: string, fail: Fail): Json | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) return fail(`"${where}" is not an object`);
  return v;
}

/** One affected[] entry, checked; returned as given unless a missing list had to be filled in. */
function checkAffected(a: unknown, where: string, fail: Fail): OsvRecordAffected {
  if (!isObject(a)) return fail(`${where} is not an object`);
  if (a.package !== undefined && a.package !== null) {
    const p = a.package;
    if (!isObject(p)) return fail(`${where}.package is not an object`);
    if (typeof p.ecosystem !== 'string' || p.ecosystem === '')
      return fail(`${where}.package.ecosystem is missing`);
    if (typeof p.name !== 'string' || p.name === '') return fail(`${where}.package.name is missing`);
    if (p.purl !== undefined && p.purl !== null && typeof p.purl !== 'string')
      return fail(`${where}.package.purl is not a string`);
  }
  if (a.ranges !== undefined && a.ranges !== null && !Array.isArray(a.ranges))
    return fail(`${where}.ranges is not a list`);
  const ranges = (a.ranges as unknown[] | undefined) ?? [];
  for (let j = 0; j < ranges.length; j++) {
    const rg = ranges[j];
    const rw = `${where}.ranges[${j}]`;
    if (!isObject(rg)) return fail(`${rw} is not an object`);
    if (typeof rg.type !== 'string') return fail(`${rw}.type is missing`);
    if (!Array.isArray(rg.events)) return fail(`${rw}.events is not a list`);
    for (let k = 0; k < rg.events.length; k++) {
      const e: unknown = rg.events[k];
      if (!isObject(e)) return fail(`${rw}.events[${k}] is not an object`);
      let key: (typeof EVENT_KEYS)[number] | undefined;
      let n = 0;
      for (const candidate of EVENT_KEYS)
        if (e[candidate] !== undefined) {
          key = candidate;
          n++;
        }
      if (n !== 1 || !key)
        return fail(`${rw}.events[${k}] must have exactly one of introduced, fixed, last_affected, limit`);
      if (typeof e[key] !== 'string' || e[key] === '')
        return fail(`${rw}.events[${k}].${key} is not a version string`);
    }
    optionalObject(rg.database_specific, `${rw}.database_specific`, fail);
    if (rg.repo !== undefined && rg.repo !== null && typeof rg.repo !== 'string')
      return fail(`${rw}.repo is not a string`);
  }
  optionalObject(a.ecosystem_specific, `${where}.ecosystem_specific`, fail);
  optionalObject(a.database_specific, `${where}.database_specific`, fail);
  severityList(a.severity, `${where}.severity`, fail);
  const versions = stringList(a.versions, `${where}.versions`, fail);
  if (Array.isArray(a.ranges) && Array.isArray(a.versions)) return a as unknown as OsvRecordAffected;
  return { ...a, ranges, versions } as unknown as OsvRecordAffected;
}

/**
 * The entries a two-step look-up sends for one package (advisory-store.ts AdvisoryCandidate), checked as a
 * record's affected[] is and returned as given (they need not name their package: the candidate does). `label`
 * names the record, for the error.
 */
export function parseCandidateEntries(entries: unknown, pkg: OsvPackage, label: string): OsvRecordAffected[] {
  const fail: Fail = (problem) => {
    throw new InvalidAdvisoryError(label, `${pkg.ecosystem} ${pkg.name}: ${problem}`);
  };
  if (!Array.isArray(entries)) return fail('the candidate entries are not a list');
  return entries.map((e, i) => checkAffected(e, `entries[${i}]`, fail));
}

function checkDate(value: string, field: string, fail: (p: string) => never): void {
  // RFC 3339 as OSV requires; Date.parse alone also accepts "March 3" and the like.
  if (
    !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ||
    Number.isNaN(Date.parse(value))
  )
    fail(`"${field}" is not an RFC 3339 timestamp: ${JSON.stringify(value)}`);
}

/** The (ecosystem, name) keys a record is indexed under; GIT-only entries have none. */
export function recordKeys(record: OsvRecord): { ecosystem: string; name: string }[] {
  const seen = new Set<string>();
  const keys: { ecosystem: string; name: string }[] = [];
  for (const a of record.affected) {
    if (!a.package) continue;
    const k = `${a.package.ecosystem}\u0000${a.package.name}`;
    if (seen.has(k)) continue;
    seen.add(k);
    keys.push({ ecosystem: a.package.ecosystem, name: a.package.name });
  }
  return keys;
}
