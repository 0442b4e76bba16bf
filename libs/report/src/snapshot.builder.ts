import { createHash } from 'node:crypto';
import { canonicalBytes, canonicalJson, canonicalJsonWith, fromCanonicalJson } from './canonical-json.js';
import {
  ComplianceReportSchema,
  FindingCountsSchema,
  LogPositionSchema,
  RequirementStatus,
  RequirementSummarySchema,
  SCHEMA_VERSIONS,
  ScopeSchema,
  Severity,
  UnitRefSchema,
  create,
  type ComplianceReport,
  type Finding,
  type FindingCounts,
  type LogPosition,
  type RequirementResult,
  type RequirementSummary,
  type Scope,
  type UnitRef,
  type AttestationUse,
  type ExceptionUse,
} from '@vigil/contracts';
import { attestationViews } from './attestation.js';
import { attestationUses, exceptionUses } from './exception-use.js';
import type { EntityType, RequirementCatalog } from './catalog.port.js';
import { ExceptionMatcher, exceptionViews, type ExceptionView } from './exception-match.js';
import { resolveFindings, type ResolutionOptions } from './finding-resolution.js';
import { requirementResults, type StatusOptions } from './requirement-status.js';
import { scopeKey, type ReportState, type ScopeState } from './scope-state.js';
import { compareStrings, type TimestampLike } from './time.js';
import { assetKey } from './asset-key.js';

// A snapshot's content is the ComplianceReport message with content_hash left empty, in the canonical JSON form of
// canonical-json.ts (sorted keys, zero values left out). Everything in it is put in a canonical order
// (requirements in the standard's order, findings by asset key then id, log position by topic and partition, every id list
// sorted) and the only timestamps in it come from the log: generated_at is the latest occurred-at folded into the
// scope, first/last seen are the findings' own. content_hash = "sha256:" + hex(sha256(content)); previous_hash
// chains to the previous version of the scope. See docs/adr/0008-snapshots.md.

export interface SnapshotRef {
  readonly version: number;
  readonly contentHash: string;
  readonly scope?: { readonly tenant?: string; readonly cluster: string };
}

export interface LogPositionInput {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string | bigint | number;
}

export interface BuildSnapshotInput {
  readonly state: ReportState;
  readonly scope: { readonly tenant?: string; readonly cluster: string };
  readonly catalog: RequirementCatalog;
  readonly entityType: EntityType;
  readonly previous?: SnapshotRef;
  // The log position the state covers: one entry per topic partition folded.
  readonly logPosition: readonly LogPositionInput[];
  // Wall-clock time of creation, injected. Kept beside the content, never inside it.
  readonly createdAt: Date;
  // The completed scan that triggered this version, when one did.
  readonly scanId?: string;
  readonly options?: ResolutionOptions & StatusOptions;
  /**
   * How the findings are ordered: by asset key then id (what new versions use), or by id alone, which a rebuild
   * asks for to re-derive a version made before the order was recorded. Defaults to 'asset'.
   */
  readonly findingOrder?: FindingOrder;
}

/** The order of a snapshot's findings; the content records it as `findingOrder` ('' for 'id'). */
export type FindingOrder = 'asset' | 'id';

export interface Snapshot {
  readonly scope: Scope;
  readonly version: number;
  readonly frameworkVersion: string;
  readonly entityType: EntityType;
  readonly contentHash: string;
  readonly previousHash: string;
  // The canonical bytes content_hash covers (UTF-8 canonical JSON of the report without its hash).
  readonly content: Uint8Array;
  // The content with content_hash filled in: what `vigil report` prints.
  readonly report: ComplianceReport;
  readonly createdAt: Date;
  readonly scanId: string;
  // The scanner units (with versions) that produced the open findings or ran in the latest ok scans, so an old
  // snapshot can be re-derived and explained. Not part of the content until ComplianceReport has a field for it.
  readonly units: readonly UnitRef[];
  readonly exceptions: readonly ExceptionView[];
  // Every exception and attestation of the scope with its standing and what it covered or decided. Not part of the
  // content until ComplianceReport has fields for them.
  readonly exceptionUses: readonly ExceptionUse[];
  readonly attestationUses: readonly AttestationUse[];
}

const HASH_PREFIX = 'sha256:';

export function buildSnapshot(input: BuildSnapshotInput): Snapshot {
  const { state, entityType } = input;
  let { catalog } = input;
  if (!input.scope.cluster) throw new Error('buildSnapshot: scope.cluster is empty');
  if (Number.isNaN(input.createdAt.getTime()))
    throw new Error('buildSnapshot: createdAt is not a valid date');
  const key = scopeKey(input.scope);
  const previous = input.previous;
  if (previous) {
    if (!Number.isInteger(previous.version) || previous.version < 1) {
      throw new Error(
        `buildSnapshot: previous.version ${previous.version} is not a snapshot version (1 or more)`,
      );
    }
    if (!isContentHash(previous.contentHash)) {
      throw new Error(
        `buildSnapshot: previous.contentHash "${previous.contentHash}" is not "sha256:<64 hex>"`,
      );
    }
    if (previous.scope && scopeKey(previous.scope) !== key) {
      throw new Error(
        `buildSnapshot: previous snapshot belongs to scope "${scopeKey(previous.scope)}", not "${key}"`,
      );
    }
  }
  const scopeState = state.scopes.get(key) ?? emptyScope(input.scope);
  const options = input.options ?? {};

  const resolution = resolveFindings(scopeState, options);
  const asOf = scopeState.asOf;
  const { exceptions, matcher } = exceptionsOf(scopeState, asOf);
  const attestations = attestationViews(scopeState, asOf);
  catalog = memoizedCatalog(catalog);
  const requirements = requirementResults({
    scope: scopeState,
    resolution,
    catalog,
    entityType,
    exceptions,
    matcher,
    attestations,
    asOf,
    options,
  });
  const findingOrder = input.findingOrder ?? 'asset';
  const findings = resolution.open.map((o) => o.finding); // by id
  if (findingOrder === 'asset') sortByAsset(findings);
  const uses = exceptionUses(exceptions, findings, catalog, matcher);
  const attested = attestationUses(attestations, requirements);

  const scope = create(ScopeSchema, { tenant: input.scope.tenant ?? '', cluster: input.scope.cluster });
  const version = previous ? previous.version + 1 : 1;
  const previousHash = previous?.contentHash ?? '';
  const content = create(ComplianceReportSchema, {
    schemaVersion: SCHEMA_VERSIONS['vigil.v1.ComplianceReport'],
    scope,
    frameworkVersion: catalog.frameworkVersion,
    snapshotVersion: version,
    contentHash: '',
    previousHash,
    logPosition: canonicalLogPosition(input.logPosition),
    generatedAt: asOf as ComplianceReport['generatedAt'],
    requirements,
    summary: requirementSummary(requirements),
    findings,
    findingCounts: findingCounts(findings),
    exceptions: [...uses],
    attestations: [...attested],
    entityType,
    findingOrder: findingOrder === 'asset' ? 'asset' : '',
  });
  const bytes = contentBytes(content);
  const contentHash = HASH_PREFIX + createHash('sha256').update(bytes).digest('hex');
  return {
    scope,
    version,
    frameworkVersion: catalog.frameworkVersion,
    entityType,
    contentHash,
    previousHash,
    content: bytes,
    report: { ...content, contentHash },
    createdAt: input.createdAt,
    scanId: input.scanId ?? '',
    units: unitsOf(findings, resolution.groups),
    exceptions,
    exceptionUses: uses,
    attestationUses: attested,
  };
}

// A finding's asset key, kept as long as the (frozen, reused) finding lives, like its bytes below.
const assetKeys = new WeakMap<Finding, string>();

/**
 * Sorts findings given in id order by asset key, then id. A scan covers a few assets, so a version made after it
 * differs from the one before in a few runs of content; in id order (ids are hashes) its findings were spread over
 * the whole content and nearly every stored chunk of it changed (ADR 0008).
 */
function sortByAsset(findings: Finding[]): void {
  const keyOf = (f: Finding) => {
    let k = assetKeys.get(f);
    if (k === undefined) {
      k = assetKey(f.asset);
      if (Object.isFrozen(f)) assetKeys.set(f, k);
    }
    return k;
  };
  // One bucket per asset, filled in id order; then the buckets in key order. A scope has far fewer assets than
  // findings, so this is linear where a comparison sort of 200,000 long keys took a few hundred milliseconds.
  const buckets = new Map<string, Finding[]>();
  for (const f of findings) {
    const k = keyOf(f);
    const bucket = buckets.get(k);
    if (bucket) bucket.push(f);
    else buckets.set(k, [f]);
  }
  let i = 0;
  for (const k of [...buckets.keys()].sort(compareStrings))
    for (const f of buckets.get(k)!) findings[i++] = f;
}

// The canonical bytes of a shown finding are kept as long as the (frozen, reused) finding object lives: a new
// version of a large scope re-encodes only the findings that changed, and its content is assembled by copying
// each finding's bytes once into a buffer of the exact size, never through one string of the whole content.
const findingBytes = new WeakMap<Finding, Buffer>();
// Stands in for the findings array in the canonical text of the rest; a control character never appears raw in
// JSON output (strings escape it), so it cannot collide with content.
const FINDINGS_MARK = '\u0001findings\u0001';

function contentBytes(content: ComplianceReport): Uint8Array {
  const parts = content.findings.map((f) => {
    let b = findingBytes.get(f);
    if (b === undefined) {
      b = Buffer.from(canonicalJson(f), 'utf8');
      if (Object.isFrozen(f)) findingBytes.set(f, b);
    }
    return b;
  });
  const rest = canonicalJsonWith(content as unknown as Record<string, unknown>, { findings: FINDINGS_MARK });
  const at = rest.indexOf(FINDINGS_MARK);
  if (at < 0) return Buffer.from(rest, 'utf8');
  const head = Buffer.from(rest.slice(0, at), 'utf8');
  const tail = Buffer.from(rest.slice(at + FINDINGS_MARK.length), 'utf8');
  let size = head.length + tail.length + 2 + Math.max(0, parts.length - 1);
  for (const b of parts) size += b.length;
  const out = Buffer.allocUnsafe(size);
  let n = head.copy(out, 0);
  out[n++] = 0x5b; // [
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) out[n++] = 0x2c; // ,
    n += (parts[i] as Buffer).copy(out, n);
  }
  out[n++] = 0x5d; // ]
  n += tail.copy(out, n);
  return out;
}

// A catalog whose finding mapping is remembered per (frozen, reused) finding: the requirement statuses and the
// exception uses ask for it for every open finding of every version.
const memoizedCatalogs = new WeakMap<RequirementCatalog, RequirementCatalog>();

function memoizedCatalog(catalog: RequirementCatalog): RequirementCatalog {
  let m = memoizedCatalogs.get(catalog);
  if (m) return m;
  const mappings = new WeakMap<Finding, ReturnType<RequirementCatalog['mappingOf']>>();
  m = {
    frameworkVersion: catalog.frameworkVersion,
    requirements: catalog.requirements,
    notApplicableReason: (req, entityType) => catalog.notApplicableReason(req, entityType),
    mappingOf(finding) {
      let hit = mappings.get(finding);
      if (!hit) {
        hit = catalog.mappingOf(finding);
        if (Object.isFrozen(finding)) mappings.set(finding, hit);
      }
      return hit;
    },
  };
  memoizedCatalogs.set(catalog, m);
  memoizedCatalogs.set(m, m);
  return m;
}

// The exception views at the scope's as-of time, and a matcher over them. The matcher remembers per finding which
// exceptions match it; while the views are the same (same acceptances and revocations, same standings) the
// previous version's matcher, and its memory, serve the next version too.
const objectIds = new WeakMap<object, number>();
let nextObjectId = 0;
function idOf(o: object | undefined): number {
  if (!o) return 0;
  let id = objectIds.get(o);
  if (id === undefined) objectIds.set(o, (id = ++nextObjectId));
  return id;
}
const matchers = new WeakMap<
  ScopeState,
  { key: string; exceptions: readonly ExceptionView[]; matcher: ExceptionMatcher }
>();

function exceptionsOf(
  scope: ScopeState,
  asOf: TimestampLike | undefined,
): { exceptions: readonly ExceptionView[]; matcher: ExceptionMatcher } {
  const views = exceptionViews(scope, asOf);
  const key = views
    .map(
      (v) =>
        `${v.id}\u0000${v.standing}\u0000${v.kind}\u0000${idOf(v.exception)}\u0000${idOf(v.revocation)}\u0000${v.requirementIds.join(',')}`,
    )
    .join('\u0001');
  const prior = matchers.get(scope);
  if (prior && prior.key === key) return prior;
  const made = { key, exceptions: views, matcher: new ExceptionMatcher(views) };
  matchers.set(scope, made);
  return made;
}

// Recomputes a snapshot's hash from its report (content_hash cleared): what a verifier does with a report it holds.
export function contentHashOf(report: ComplianceReport): string {
  const bytes = canonicalBytes({ ...report, contentHash: '' });
  return HASH_PREFIX + createHash('sha256').update(bytes).digest('hex');
}

export function isContentHash(value: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(value);
}

export function requirementSummary(requirements: readonly RequirementResult[]): RequirementSummary {
  const count = (s: RequirementStatus) => requirements.filter((r) => r.status === s).length;
  return create(RequirementSummarySchema, {
    inPlace: count(RequirementStatus.IN_PLACE),
    notInPlace: count(RequirementStatus.NOT_IN_PLACE),
    notTested: count(RequirementStatus.NOT_TESTED),
    notApplicable: count(RequirementStatus.NOT_APPLICABLE),
    manuallyAttested: count(RequirementStatus.MANUALLY_ATTESTED),
    total: requirements.length,
  });
}

export function findingCounts(findings: readonly Finding[]): FindingCounts {
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  return create(FindingCountsSchema, {
    critical: count(Severity.CRITICAL),
    high: count(Severity.HIGH),
    medium: count(Severity.MEDIUM),
    low: count(Severity.LOW),
    // An advisory without a severity and a finding whose producer left it unset are both "unknown".
    unknown: count(Severity.UNKNOWN) + count(Severity.UNSPECIFIED),
    total: findings.length,
  });
}

function canonicalLogPosition(positions: readonly LogPositionInput[]): LogPosition[] {
  const byPartition = new Map<string, LogPosition>();
  for (const p of positions) {
    if (!p.topic) throw new Error('buildSnapshot: a logPosition entry has an empty topic');
    if (!Number.isInteger(p.partition) || p.partition < 0) {
      throw new Error(
        `buildSnapshot: logPosition ${p.topic} has partition ${p.partition} (expected an integer of 0 or more)`,
      );
    }
    const offset = String(p.offset);
    if (!/^(0|[1-9][0-9]*)$/.test(offset)) {
      throw new Error(
        `buildSnapshot: logPosition ${p.topic}/${p.partition} has offset "${offset}" (expected a non-negative integer)`,
      );
    }
    const k = `${p.topic}\u0000${p.partition}`;
    const prior = byPartition.get(k);
    if (prior && prior.offset !== offset) {
      throw new Error(
        `buildSnapshot: logPosition names ${p.topic}/${p.partition} twice (offsets ${prior.offset} and ${offset})`,
      );
    }
    byPartition.set(k, create(LogPositionSchema, { topic: p.topic, partition: p.partition, offset }));
  }
  return [...byPartition.values()].sort(
    (a, b) => compareStrings(a.topic, b.topic) || a.partition - b.partition,
  );
}

function unitsOf(
  findings: readonly Finding[],
  groups: ReturnType<typeof resolveFindings>['groups'],
): UnitRef[] {
  const seen = new Map<string, UnitRef>();
  const add = (id: string, version: number) => {
    if (!id) return;
    const k = `${id}@${version}`;
    if (!seen.has(k)) seen.set(k, create(UnitRefSchema, { id, version }));
  };
  for (const f of findings) if (f.detection?.unit) add(f.detection.unit.id, f.detection.unit.version);
  for (const g of groups.values()) for (const u of g.latestOk?.completed?.units ?? []) add(u.id, u.version);
  return [...seen.values()].sort((a, b) => compareStrings(a.id, b.id) || a.version - b.version);
}

function emptyScope(scope: { readonly tenant?: string; readonly cluster: string }): ScopeState {
  return {
    scope: { tenant: scope.tenant ?? '', cluster: scope.cluster },
    scans: new Map(),
    findings: new Map(),
    inventory: new Map(),
    exceptions: new Map(),
    revocations: new Map(),
    asOf: undefined as TimestampLike | undefined,
    eventCount: 0,
  };
}

/**
 * Reads a stored snapshot's content (its canonical JSON) back into the report it hashes, with the hash filled in.
 * The hash is recomputed first: content that does not match the hash it was stored under is refused, so a report
 * printed from the store is the one the hash chain vouches for.
 */
export function reportFromContent(content: Uint8Array, contentHash: string): ComplianceReport {
  const actual = HASH_PREFIX + createHash('sha256').update(content).digest('hex');
  if (actual !== contentHash) {
    throw new Error(
      `snapshot content does not match its hash: stored as ${contentHash}, content hashes to ${actual}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(content.buffer, content.byteOffset, content.byteLength).toString('utf8'));
  } catch (err) {
    throw new Error(`snapshot ${contentHash}: content is not JSON (${(err as Error).message})`);
  }
  const report = fromCanonicalJson(ComplianceReportSchema, json);
  return { ...report, contentHash };
}
