// Matching a filesystem's packages against the advisory store, as Grype's per-ecosystem matchers and
// osv-scanner's alias grouping do it: look up (ecosystem, name) — a distro package by its source package and only
// in its own distro release —, evaluate each record's affected[] entries with the ecosystem's version order, drop
// withdrawn records, then merge the records that describe one vulnerability into one match per package.
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import { isAffected, inRange, sortedEvents, type OsvRange } from '../versions/osv-range.js';
import { versionScheme } from '../versions/registry.js';
import type { VersionScheme } from '../versions/scheme.js';
import { semverScheme } from '../versions/semver.version.js';
import type { AdvisoryCandidate, AdvisoryKey, AdvisoryStore } from './advisory-store.js';
import type { EpssTable, KevCatalog } from './enrichment.js';
import type { FixState, VulnerabilityMatch } from './match.types.js';
import {
  isValidatedRecord,
  parseCandidateEntries,
  parseOsvRecord,
  type OsvRecord,
  type OsvRecordAffected,
} from './osv-record.js';
import { chooseSeverity, severityEvidence, type SeverityEvidence } from './severity.js';

export interface MatchOptions {
  kev?: KevCatalog;
  epss?: EpssTable;
  /** Records withdrawn at or before this time are ignored (default: now). */
  now?: Date;
  /**
   * The host is enrolled in Ubuntu Pro (ESM): packages of `Ubuntu:<release>` are also matched against the
   * `Ubuntu:Pro:<release>` entries, which carry the ESM fixes and the issues only Pro covers.
   */
  ubuntuPro?: boolean;
  /** Told about what could not be evaluated (a version the scheme cannot read, a record that is not valid OSV). */
  onProblem?: (message: string) => void;
}

/** Distributions whose advisories are about the packages they build; only their own ecosystem counts. */
const DISTROS = new Set([
  'Debian',
  'Ubuntu',
  'Alpine',
  'Wolfi',
  'Chainguard',
  'Red Hat',
  'AlmaLinux',
  'Rocky Linux',
  'openSUSE',
  'SUSE',
  'openEuler',
  'Mageia',
  'Amazon Linux',
  'Photon OS',
  'Azure Linux',
]);

/** Distros whose OSV records name the source package (dpkg Source:, apk origin); rpm distros name binaries. */
const BY_SOURCE = new Set(['Debian', 'Ubuntu', 'Alpine', 'Wolfi', 'Chainguard']);

const baseOf = (ecosystem: string) => ecosystem.split(':')[0]!.trim();

export function isOsEcosystem(ecosystem: string): boolean {
  return DISTROS.has(baseOf(ecosystem));
}

interface Query {
  pkg: ExtractedPackage;
  keys: AdvisoryKey[];
  ecosystems: Set<string>;
  name: string;
  version: string;
  os: boolean;
  matchType: 'direct' | 'source';
}

function pep503(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function queryOf(pkg: ExtractedPackage, options: MatchOptions): Query | undefined {
  if (!pkg.ecosystem || !pkg.version) return undefined;
  const base = baseOf(pkg.ecosystem);
  const os = DISTROS.has(base);
  let name = pkg.name;
  let version = pkg.version;
  if (os && BY_SOURCE.has(base)) {
    name = pkg.sourceName || pkg.name;
    version = pkg.sourceVersion || pkg.version;
  } else if (os && pkg.epoch && !/^\d+:/.test(version)) {
    // rpm advisories write fixed versions with their epoch; a package read without it would sort below them.
    version = `${pkg.epoch}:${version}`;
  }
  if (base === 'PyPI') name = pep503(name);
  const keys: AdvisoryKey[] = [{ ecosystem: pkg.ecosystem, name }];
  if (options.ubuntuPro && base === 'Ubuntu' && !pkg.ecosystem.startsWith('Ubuntu:Pro:'))
    keys.push({ ecosystem: `Ubuntu:Pro:${pkg.ecosystem.slice('Ubuntu:'.length)}`, name });
  return {
    pkg,
    keys,
    ecosystems: new Set(keys.map((k) => k.ecosystem)),
    name,
    version,
    os,
    matchType: name !== pkg.name && os ? 'source' : 'direct',
  };
}

const CVE = /^CVE-\d{4}-\d{4,}$/;
const EMBEDDED_CVE = /(?:^|-)(CVE-\d{4}-\d{4,})$/;
// Distro advisories list the CVEs they fix under `related` (Red Hat and its rebuilds, SUSE, Mageia, Chainguard).
const ADVISORY_WITH_RELATED_CVES =
  /^(ALSA|ALBA|ALEA|RLSA|RLBA|RLEA|RXSA|RHSA|RHBA|RHEA|SUSE|openSUSE|MGASA|CGA|ELSA|OESA)-/;

/** The CVE an id stands for: itself, or the CVE a per-CVE record id embeds (UBUNTU-CVE-…, DEBIAN-CVE-…). */
function cveOfId(id: string): string | undefined {
  if (CVE.test(id)) return id;
  const m = EMBEDDED_CVE.exec(id);
  return m ? m[1] : undefined;
}

/** The CVEs a record is about, most direct evidence first. */
export function cvesOf(record: OsvRecord): string[] {
  const uniq = (ids: (string | undefined)[]) => [...new Set(ids.filter((x): x is string => !!x))].sort();
  if (CVE.test(record.id)) return [record.id];
  const fromAliases = uniq(record.aliases.filter((a) => CVE.test(a)));
  if (fromAliases.length) return fromAliases;
  const fromUpstream = uniq(record.upstream.map(cveOfId));
  if (fromUpstream.length) return fromUpstream;
  const embedded = cveOfId(record.id);
  if (embedded) return [embedded];
  if (ADVISORY_WITH_RELATED_CVES.test(record.id)) return uniq(record.related.filter((r) => CVE.test(r)));
  return [];
}

interface RecordHit {
  record: OsvRecord;
  entries: OsvRecordAffected[];
  fixed?: string;
  /** A window closed by last_affected: later versions are fine, but no fixed version is named. */
  lastAffectedOnly: boolean;
  matchedRange: string;
}

interface Unit {
  hit: RecordHit;
  key: string;
  cve?: string;
  ids: Set<string>;
  links: string[];
}

const schemes = new Map<string, VersionScheme>();
function schemeOf(ecosystem: string): VersionScheme {
  let s = schemes.get(ecosystem);
  if (!s) {
    s = versionScheme(ecosystem);
    if (schemes.size < 10_000) schemes.set(ecosystem, s);
  }
  return s;
}

function schemeFor(range: { type: string }, ecosystemScheme: VersionScheme): VersionScheme {
  return range.type === 'SEMVER' ? semverScheme : ecosystemScheme;
}

/** The window of `range` that holds `version`, written in the record's terms. */
function windowOf(
  scheme: VersionScheme,
  version: string,
  range: OsvRange,
): { text: string; fixed?: string; lastAffected?: string } {
  const isStart = (v: string | undefined) => v === '0';
  // The order inRange evaluated the range in (and kept for the next package).
  const events = sortedEvents(scheme, range);
  let open: string | undefined;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.introduced !== undefined && (isStart(e.introduced) || scheme.compare(version, e.introduced) >= 0)) {
      open = e.introduced;
      continue;
    }
    if (open === undefined) continue;
    if (e.fixed !== undefined) {
      if (scheme.compare(version, e.fixed) < 0) return { text: `>= ${open}, < ${e.fixed}`, fixed: e.fixed };
      open = undefined;
    } else if (e.last_affected !== undefined) {
      if (scheme.compare(version, e.last_affected) <= 0)
        return { text: `>= ${open}, <= ${e.last_affected}`, lastAffected: e.last_affected };
      open = undefined;
    }
  }
  const limit = range.events.find((e) => e.limit !== undefined)?.limit;
  return { text: `>= ${open ?? '0'}${limit && limit !== '*' ? `, < ${limit} (limit)` : ''}` };
}

/** The record's entries about the package, in the record's order. */
function entriesFor(record: Pick<OsvRecord, 'affected'>, q: Query): OsvRecordAffected[] {
  return record.affected.filter(
    (a) =>
      a.package &&
      q.ecosystems.has(a.package.ecosystem) &&
      (a.package.name === q.name || (a.package.ecosystem === 'PyPI' && pep503(a.package.name) === q.name)),
  );
}

function evaluate(record: OsvRecord, q: Query, onProblem: (m: string) => void): RecordHit | undefined {
  const hit = evaluateEntries(record.id, entriesFor(record, q), undefined, q, onProblem);
  return hit && { ...hit, record };
}

/**
 * What a record's entries about one package hit. `ecosystems`, per entry: its ecosystem, for entries that carry
 * no package (a two-step look-up's candidates); absent, each entry's package says it.
 */
function evaluateEntries(
  id: string,
  entries: readonly OsvRecordAffected[],
  ecosystems: readonly string[] | undefined,
  q: Query,
  onProblem: (m: string) => void,
): Omit<RecordHit, 'record'> | undefined {
  const matched: OsvRecordAffected[] = [];
  const fixes: string[] = [];
  let lastAffectedOnly = false;
  let matchedRange = '';
  let scheme: VersionScheme | undefined;
  for (let i = 0; i < entries.length; i++) {
    const a = entries[i]!;
    const eco = ecosystems ? ecosystems[i]! : a.package!.ecosystem;
    let entryScheme: VersionScheme;
    try {
      entryScheme = schemeOf(eco);
    } catch (err) {
      onProblem(`${id}: ${eco} ${q.name}@${q.version}: ${(err as Error).message}`);
      continue;
    }
    // The ranges first, with osv-range's own evaluation: a hit there also says which window and which fix, and
    // spares the scheme-aware scan of a long `versions` list.
    let hit = false;
    for (const r of a.ranges) {
      if (r.type !== 'ECOSYSTEM' && r.type !== 'SEMVER') continue;
      const s = schemeFor(r, entryScheme);
      let w: ReturnType<typeof windowOf>;
      try {
        if (!inRange(s, q.version, r)) continue;
        w = windowOf(s, q.version, r);
      } catch (err) {
        onProblem(`${id}: ${eco} ${q.name}@${q.version}: ${(err as Error).message}`);
        continue;
      }
      hit = true;
      if (!matchedRange) matchedRange = `${eco} ${w.text}`;
      if (w.fixed !== undefined) fixes.push(w.fixed);
      else if (w.lastAffected !== undefined) lastAffectedOnly = true;
    }
    if (!hit && a.versions.length) {
      try {
        hit = isAffected(eco, q.version, { versions: a.versions });
      } catch (err) {
        onProblem(`${id}: ${eco} ${q.name}@${q.version}: ${(err as Error).message}`);
      }
      if (hit && !matchedRange) matchedRange = `${eco} versions list`;
    }
    if (!hit) continue;
    scheme = entryScheme;
    matched.push(a);
  }
  if (!matched.length) return undefined;
  let fixed: string | undefined;
  for (const f of fixes) {
    try {
      if (!fixed || scheme!.compare(f, fixed) < 0) fixed = f;
    } catch {
      // an unreadable fixed version cannot be offered as the fix
    }
  }
  return {
    entries: matched,
    ...(fixed !== undefined ? { fixed } : {}),
    lastAffectedOnly: !fixed && lastAffectedOnly,
    matchedRange,
  };
}

function unitsOf(hit: RecordHit): Unit[] {
  const r = hit.record;
  const cves = cvesOf(r);
  const others = [...r.aliases, ...r.upstream];
  if (cves.length <= 1) {
    const key = cves[0] ?? r.id;
    const ids = new Set([r.id, ...others, key]);
    return [{ hit, key, ...(cves[0] ? { cve: cves[0] } : {}), ids, links: [...ids] }];
  }
  // An advisory fixing several CVEs (a USN, an RHSA) is one finding per CVE, so it merges with each CVE's own
  // record instead of hiding them; its own id must then not link the CVEs to each other.
  return cves.map((cve) => {
    const mine = others.filter((o) => cveOfId(o) === cve);
    return { hit, key: cve, cve, ids: new Set([r.id, cve, ...mine]), links: [cve, ...mine] };
  });
}

class UnionFind {
  private parent = new Map<string, string>();
  find(x: string): string {
    let p = this.parent.get(x);
    if (p === undefined) {
      this.parent.set(x, x);
      return x;
    }
    while (p !== x) {
      const gp = this.parent.get(p)!;
      this.parent.set(x, gp);
      x = p;
      p = this.parent.get(x)!;
    }
    return x;
  }
  union(a: string, b: string): void {
    const ra = this.find(a);
    const rb = this.find(b);
    if (ra !== rb) this.parent.set(ra, rb);
  }
}

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function preferredId(units: Unit[], ids: Set<string>): string {
  const cves = [...new Set(units.map((u) => u.cve).filter((c): c is string => !!c))].sort(byText);
  if (cves.length) return cves[0]!;
  const ghsa = [...ids].filter((i) => i.startsWith('GHSA-')).sort(byText);
  if (ghsa.length) return ghsa[0]!;
  return units.map((u) => u.hit.record.id).sort(byText)[0]!;
}

const STATUS_WORDS: [RegExp, FixState][] = [
  [/will[ _-]?not[ _-]?fix|won'?t[ _-]?fix|no-dsa|ignored|end[ _-]of[ _-]life/i, 'will_not_fix'],
  [/deferred|postponed/i, 'deferred'],
];

/** A "no fix" status a record states for the matched entries (Red Hat's "Will not fix", Debian tracker words). */
function statedStatus(hits: RecordHit[]): FixState | undefined {
  for (const h of hits)
    for (const a of h.entries)
      for (const bag of [a.ecosystem_specific, a.database_specific])
        for (const k of ['status', 'fix_state', 'fixState', 'resolution', 'nodsa', 'no_dsa']) {
          const v = bag?.[k];
          if (typeof v !== 'string') continue;
          for (const [re, state] of STATUS_WORDS) if (re.test(v) || re.test(k)) return state;
        }
  return undefined;
}

const dateOf = (s: string | undefined) => {
  if (!s) return undefined;
  const t = Date.parse(s);
  // The Go vulnerability database's repository copies carry "0001-01-01T00:00:00Z" for unknown dates.
  return Number.isNaN(t) || t <= 0 ? undefined : new Date(t);
};

function buildMatch(q: Query, units: Unit[], options: MatchOptions): VulnerabilityMatch {
  const hits =
    units.length === 1
      ? [units[0]!.hit]
      : [...new Map(units.map((u) => [u.hit.record.id, u.hit])).values()].sort((a, b) =>
          byText(a.record.id, b.record.id),
        );
  const allIds = new Set<string>();
  for (const u of units) for (const i of u.ids) allIds.add(i);
  const vulnerabilityId = preferredId(units, allIds);
  allIds.delete(vulnerabilityId);
  const scheme = schemeOf(q.pkg.ecosystem);
  // Records about the CVE itself describe it best; notices summarise several.
  const described = hits
    .slice()
    .sort((a, b) => Number(!cveOfId(a.record.id)) - Number(!cveOfId(b.record.id)));

  let fixHit: RecordHit | undefined;
  for (const h of hits) {
    if (h.fixed === undefined) continue;
    if (!fixHit) fixHit = h;
    else {
      const c = scheme.compare(h.fixed, fixHit.fixed!);
      const earlier =
        (dateOf(h.record.published)?.getTime() ?? Infinity) <
        (dateOf(fixHit.record.published)?.getTime() ?? Infinity);
      if (c < 0 || (c === 0 && earlier)) fixHit = h;
    }
  }
  let fixState: FixState;
  if (fixHit) fixState = 'fixed';
  else
    fixState =
      statedStatus(hits) ?? (hits.some((h) => h.lastAffectedOnly) ? 'unknown' : q.os ? 'affected' : 'no_fix');

  const evidence: SeverityEvidence = { cvss: [], vendorRatings: [], advisoryRatings: [] };
  const cve = CVE.test(vulnerabilityId) ? vulnerabilityId : undefined;
  for (const h of hits) severityEvidence(h.record, h.entries, cve, q.os, evidence);
  const cvss = dedupe(evidence.cvss, (c) => `${c.source}\u0000${c.vector}`).sort(
    (a, b) => b.score - a.score || byText(a.vector, b.vector),
  );
  const vendorRatings = dedupe(evidence.vendorRatings, (r) => `${r.source}\u0000${r.rating}`);
  const chosen = chooseSeverity({ ...evidence, cvss }, q.os ? 'os' : 'language');

  let published: Date | undefined;
  let modified: Date | undefined;
  const refs = new Set<string>();
  for (const h of hits) {
    const p = dateOf(h.record.published);
    if (p && (!published || p < published)) published = p;
    const m = dateOf(h.record.modified);
    if (m && (!modified || m > modified)) modified = m;
    // In record order (hits are sorted by id), each record's own order: deterministic without sorting.
    for (const r of h.record.references) refs.add(r.url);
  }
  const references = [...refs];

  const cveIds = [vulnerabilityId, ...allIds].filter((i) => CVE.test(i));
  const kev = options.kev ? cveIds.map((c) => options.kev!.entries.get(c)).find((e) => e) : undefined;
  const epssId = options.epss ? cveIds.find((c) => options.epss!.scores.has(c)) : undefined;
  const epss = epssId ? options.epss!.scores.get(epssId) : undefined;
  const primary = fixHit ?? described[0]!;

  const match: VulnerabilityMatch = {
    package: q.pkg,
    vulnerabilityId,
    aliases: [...allIds].sort(byText),
    records: hits.map((h) => h.record.id),
    summary: described.map((h) => h.record.summary).find((s) => s) ?? '',
    details: described.map((h) => h.record.details).find((s) => s) ?? '',
    severity: chosen.severity,
    severitySource: chosen.source,
    cvss,
    vendorRatings,
    fixState,
    matchedRange: primary.matchedRange,
    matchType: q.matchType,
    references,
  };
  if (fixHit) {
    match.fixedVersion = fixHit.fixed!;
    const fp = dateOf(fixHit.record.published);
    if (fp) match.fixPublished = fp;
  }
  if (published) match.published = published;
  if (modified) match.modified = modified;
  if (kev) match.knownExploited = kev;
  if (epss) match.epss = { ...epss, ...(options.epss!.date ? { date: options.epss!.date } : {}) };
  return match;
}

function dedupe<T>(list: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const x of list) if (!seen.has(key(x))) seen.set(key(x), x);
  return [...seen.values()];
}

// Records the memory store holds were validated when loaded; records rebuilt from storage (Postgres' jsonb) are
// validated on every look-up. No cache across calls: a scanner service must not grow with the database.
function parsedCopy(raw: unknown): OsvRecord {
  if (isValidatedRecord(raw)) return raw;
  const id = (raw as { id?: unknown })?.id;
  return parseOsvRecord(raw, `advisory ${typeof id === 'string' ? id : '(no id)'}`);
}

/**
 * One match per vulnerability per package: the packages' advisories looked up in one call, evaluated, merged.
 * Records that fail validation are reported through onProblem and skipped. A store with a two-step look-up is
 * asked for the candidates' entries first and for the records that hit then.
 */
export async function matchPackages(
  packages: readonly ExtractedPackage[],
  store: AdvisoryStore,
  options: MatchOptions = {},
): Promise<VulnerabilityMatch[]> {
  const onProblem = options.onProblem ?? (() => undefined);
  const queries = packages.map((p) => queryOf(p, options)).filter((q): q is Query => !!q);
  const keys = dedupe(
    queries.flatMap((q) => q.keys),
    (k) => `${k.ecosystem}\u0000${k.name}`,
  );
  if (!keys.length) return [];
  if (store.lookupCandidates && store.lookupRecords) {
    const first = candidateHits(queries, await store.lookupCandidates(keys), onProblem);
    if (!first.ids.length) return [];
    const lookupRecords = store.lookupRecords.bind(store);
    return inQueryOrder(
      queries,
      await matchInChunks(chunksOf(queries, first), lookupRecords, options, first),
    );
  }
  return inQueryOrder(queries, matchRecords(queries, keys, await store.lookup(keys), options, onProblem));
}

function inQueryOrder(
  queries: readonly Query[],
  found: Map<Query, VulnerabilityMatch[]>,
): VulnerabilityMatch[] {
  return queries.flatMap((q) => found.get(q) ?? []);
}

/** Queries of the second step whose records are asked for together. */
interface Chunk {
  queries: Query[];
  keys: AdvisoryKey[];
  ids: string[];
}

// Records a chunk asks for, about: small enough that matching one chunk takes about as long as the store takes
// to send the next, large enough that each look-up's fixed cost does not count.
const CHUNK_RECORDS = 1000;

/**
 * The queries with a first-step hit, in chunks of about CHUNK_RECORDS records. Queries asking under the same keys
 * (the binary packages of one source package) share their records and stay in one chunk.
 */
function chunksOf(queries: readonly Query[], first: FirstStep): Chunk[] {
  const groups = new Map<string, Query[]>();
  for (const q of queries) {
    if (!first.hits.get(q)?.size) continue;
    const key = q.keys.map((k) => `${k.ecosystem}\u0000${k.name}`).join('\u0001');
    const group = groups.get(key);
    if (group) group.push(q);
    else groups.set(key, [q]);
  }
  const chunks: Chunk[] = [];
  let chunk: Chunk | undefined;
  let ids = new Set<string>();
  for (const group of groups.values()) {
    if (!chunk || ids.size >= CHUNK_RECORDS) {
      chunk = { queries: [], keys: [], ids: [] };
      ids = new Set();
      chunks.push(chunk);
    }
    chunk.queries.push(...group);
    chunk.keys.push(...group[0]!.keys);
    for (const q of group) for (const id of first.hits.get(q)!.keys()) ids.add(id);
    chunk.ids = [...ids];
  }
  return chunks;
}

/**
 * The second step, chunk by chunk: the next chunk's records are asked for before this one's are matched, so that
 * the store looks them up and sends them while this process evaluates (each took about half of a cold match).
 * What has to be evaluated again was evaluated in the first step: its problems were told there.
 */
async function matchInChunks(
  chunks: readonly Chunk[],
  lookupRecords: (ids: readonly string[], keys: readonly AdvisoryKey[]) => Promise<unknown[]>,
  options: MatchOptions,
  first: FirstStep,
): Promise<Map<Query, VulnerabilityMatch[]>> {
  const found = new Map<Query, VulnerabilityMatch[]>();
  const ask = (chunk: Chunk): Promise<unknown[]> => {
    const answer = lookupRecords(chunk.ids, chunk.keys);
    // Awaited a chunk later, so its failure is handled then; until then it must not count as unhandled.
    answer.catch(() => undefined);
    return answer;
  };
  let next: Promise<unknown[]> | undefined = ask(chunks[0]!);
  for (let i = 0; i < chunks.length; i++) {
    const raw = await next!;
    next = i + 1 < chunks.length ? ask(chunks[i + 1]!) : undefined;
    // Let the look-up be sent before this chunk's matching holds the thread.
    if (next) await new Promise((resolve) => setImmediate(resolve));
    const chunk = chunks[i]!;
    for (const [q, matches] of matchRecords(chunk.queries, chunk.keys, raw, options, () => undefined, first))
      found.set(q, matches);
  }
  return found;
}

/** ecosystem -> name -> records, for the asked keys only, without building key strings per entry. */
function indexByKey<R extends Pick<OsvRecord, 'affected'>>(
  keys: readonly AdvisoryKey[],
  records: Iterable<R>,
): Map<string, Map<string, R[]>> {
  const byKey = new Map<string, Map<string, R[]>>();
  for (const k of keys) {
    let names = byKey.get(k.ecosystem);
    if (!names) byKey.set(k.ecosystem, (names = new Map()));
    names.set(k.name, []);
  }
  for (const rec of records)
    for (const a of rec.affected) {
      if (!a.package) continue;
      const names = byKey.get(a.package.ecosystem);
      if (!names) continue;
      const list = names.get(a.package.ecosystem === 'PyPI' ? pep503(a.package.name) : a.package.name);
      if (list && list[list.length - 1] !== rec) list.push(rec);
    }
  return byKey;
}

function candidatesOf<R extends { id: string }>(
  q: Query,
  byKey: Map<string, Map<string, R[]>>,
): Map<string, R> {
  const candidates = new Map<string, R>();
  for (const k of q.keys) for (const r of byKey.get(k.ecosystem)?.get(k.name) ?? []) candidates.set(r.id, r);
  return candidates;
}

const entriesKey = (id: string, ecosystem: string, name: string) => `${id}\u0000${ecosystem}\u0000${name}`;

/**
 * The first step of a two-step look-up: the ids of the candidates whose entries hit one of the packages, and the
 * validated entries per (id, ecosystem, name).
 */
function candidateHits(
  queries: readonly Query[],
  candidates: readonly AdvisoryCandidate[],
  onProblem: (m: string) => void,
): FirstStep {
  const entries = new Map<string, OsvRecordAffected[]>();
  // Asked key -> its candidates; a candidate's entries are the key's, so nothing is indexed by entry.
  const byKey = new Map<string, { id: string; ecosystem: string; affected: OsvRecordAffected[] }[]>();
  for (const c of candidates) {
    const label = `advisory ${typeof c?.id === 'string' ? c.id : '(no id)'}`;
    let affected: OsvRecordAffected[];
    try {
      if (typeof c.id !== 'string' || !c.id) throw new Error(`${label}: a candidate without an id`);
      affected = parseCandidateEntries(c.entries, c, label);
    } catch (err) {
      onProblem((err as Error).message);
      continue;
    }
    entries.set(entriesKey(c.id, c.ecosystem, c.name), affected);
    const key = `${c.ecosystem}\u0000${c.name}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push({ id: c.id, ecosystem: c.ecosystem, affected });
  }
  const ids = new Set<string>();
  const hits = new Map<Query, Map<string, CandidateHit>>();
  for (const q of queries) {
    // A record that is a candidate under several of the package's keys is evaluated once, on all their entries.
    const byId = new Map<string, { affected: OsvRecordAffected[]; ecosystems: string[] }>();
    for (const k of q.keys)
      for (const c of byKey.get(`${k.ecosystem}\u0000${k.name}`) ?? []) {
        let held = byId.get(c.id);
        if (!held) byId.set(c.id, (held = { affected: [], ecosystems: [] }));
        for (const a of c.affected) {
          held.affected.push(a);
          held.ecosystems.push(c.ecosystem);
        }
      }
    const mine = new Map<string, CandidateHit>();
    // Every pair, even for records already known to hit: the problems told are then those of a one-step look-up.
    for (const [id, c] of byId) {
      const hit = evaluateEntries(id, c.affected, c.ecosystems, q, onProblem);
      if (!hit) continue;
      ids.add(id);
      mine.set(id, hit);
    }
    hits.set(q, mine);
  }
  return { ids: [...ids], entries, hits };
}

type CandidateHit = Omit<RecordHit, 'record'>;

interface FirstStep {
  /** The records that hit a package. */
  ids: string[];
  /** (id, ecosystem, name) -> the candidate's entries, validated. */
  entries: Map<string, OsvRecordAffected[]>;
  /** Per package, what each record hit. */
  hits: Map<Query, Map<string, CandidateHit>>;
}

/**
 * The first step's answer for a full record, when it is the answer evaluating the record would give: a package
 * asked under one key, and the record's entries about it the very entries the candidate had (the same count, in
 * the same order: a store's match entries are its entries, reduced). The matched entries are the record's own,
 * for the severities and statuses only they carry. Undefined: evaluate the record.
 */
function firstStepHit(
  first: FirstStep,
  q: Query,
  rec: OsvRecord,
): { known: true; hit: RecordHit | undefined } | undefined {
  if (q.keys.length !== 1) return undefined;
  const key = q.keys[0]!;
  const candidate = first.entries.get(entriesKey(rec.id, key.ecosystem, key.name));
  const full = entriesFor(rec, q);
  if (!candidate || candidate.length !== full.length) return undefined;
  const prior = first.hits.get(q)?.get(rec.id);
  if (!prior) return { known: true, hit: undefined };
  const entries: OsvRecordAffected[] = [];
  for (const e of prior.entries) {
    const i = candidate.indexOf(e);
    if (i < 0) return undefined;
    entries.push(full[i]!);
  }
  return { known: true, hit: { ...prior, record: rec, entries } };
}

function matchRecords(
  queries: readonly Query[],
  keys: readonly AdvisoryKey[],
  raw: readonly unknown[],
  options: MatchOptions,
  onEvaluateProblem: (m: string) => void,
  first?: FirstStep,
): Map<Query, VulnerabilityMatch[]> {
  const onProblem = options.onProblem ?? (() => undefined);
  const now = (options.now ?? new Date()).getTime();
  const seen = new Map<string, OsvRecord>();
  for (const r of raw) {
    let rec: OsvRecord;
    try {
      rec = parsedCopy(r);
    } catch (err) {
      onProblem((err as Error).message);
      continue;
    }
    const old = seen.get(rec.id);
    if (old && Date.parse(old.modified) >= Date.parse(rec.modified)) continue;
    seen.set(rec.id, rec);
  }
  const live = [...seen.values()].filter((rec) => !(rec.withdrawn && Date.parse(rec.withdrawn) <= now));
  const byKey = indexByKey(keys, live);

  const out = new Map<Query, VulnerabilityMatch[]>();
  for (const q of queries) {
    const candidates = candidatesOf(q, byKey);
    if (!candidates.size) continue;
    const units: Unit[] = [];
    for (const rec of candidates.values()) {
      const known = first ? firstStepHit(first, q, rec) : undefined;
      const hit = known ? known.hit : evaluate(rec, q, onEvaluateProblem);
      if (hit) units.push(...unitsOf(hit));
    }
    if (!units.length) continue;
    const uf = new UnionFind();
    units.forEach((u, i) => {
      const self = `#${i}`;
      for (const l of u.links) uf.union(self, l);
    });
    const groups = new Map<string, Unit[]>();
    units.forEach((u, i) => {
      const root = uf.find(`#${i}`);
      let g = groups.get(root);
      if (!g) groups.set(root, (g = []));
      g.push(u);
    });
    const matches = [...groups.values()].map((g) => buildMatch(q, g, options));
    matches.sort((a, b) => byText(a.vulnerabilityId, b.vulnerabilityId));
    out.set(q, matches);
  }
  return out;
}
