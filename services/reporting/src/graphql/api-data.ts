import {
  ExceptionKind,
  ExceptionStanding,
  FindingSchema,
  RequirementStatus,
  Severity,
  fromBinary,
  timestampDate,
  type ComplianceReport,
  type ExceptionUse,
  type Finding as FindingMessage,
  type RequirementResult,
} from '@vigil/contracts';
import { Worker } from 'node:worker_threads';
import { assetKey, exceptionListing, reportFromContent, requirementSummary } from '@vigil/report';
import type { SnapshotDigest } from '@vigil/report';
import type { ReportingReader, SnapshotInfo, StoredFinding } from '@vigil/store';
import { severityWord, sourceWord } from '../words.js';
import {
  FindingStatusWord,
  RequirementStatusWord,
  SeverityWord,
  type Finding,
  type RiskException,
  type Requirement,
  type RequirementGroup,
  type Snapshot,
} from './models.js';
import { ExceptionKindWord } from './exception.models.js';

// Snapshots are immutable (a scope's version is appended once and never rewritten), so whatever is read of a
// version is kept by scope and version and never checked again. Two kinds of entries: the full decoded report
// (the requirement tree, diffs), which for a 200,000-finding scope is about a GB of objects and tens of seconds
// to decode, so only a couple are kept; and a version's digest (summary, finding counts, exception uses), a few
// hundred bytes read without decoding the findings (snapshot-digest.ts), which is what dashboards poll.
const REPORT_CACHE_SIZE = 2;
const DIGEST_CACHE_SIZE = 256;

export type SnapshotHead = Omit<SnapshotInfo, 'size'>;

// Promises, not values: fifty clients asking for a version that is not read yet wait for one read. A version
// that is not there (yet) or failed to load is asked for again next time, not remembered.
class VersionCache<T> {
  private readonly entries = new Map<string, Promise<T | undefined>>();

  constructor(private readonly size: number) {}

  get(scope: string, version: number, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const key = `${scope}\u0000${version}`;
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last, so the eviction below drops the least recently used.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const loading = load();
    this.entries.set(key, loading);
    const forget = () => {
      if (this.entries.get(key) === loading) this.entries.delete(key);
    };
    loading.then((value) => value ?? forget(), forget);
    if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
    return loading;
  }
}

// A scope's latest-head lookup in flight, and the one queued behind it.
interface LatestLookup {
  running?: Promise<SnapshotHead | undefined>;
  queued?: Promise<SnapshotHead | undefined>;
}

/**
 * The API's reads of snapshots, shared by its resolvers. The latest version of a scope is the only thing that
 * changes: it is looked up in the store for every request (another reporting instance may have appended one), but
 * concurrent requests share lookups, so fifty dashboards polling cost one or two queries at a time, not fifty.
 */
export class SnapshotReads {
  private readonly reports = new VersionCache<ComplianceReport>(REPORT_CACHE_SIZE);
  private readonly digests = new VersionCache<SnapshotDigest>(DIGEST_CACHE_SIZE);
  private readonly heads = new VersionCache<SnapshotHead>(DIGEST_CACHE_SIZE);
  private readonly latest = new Map<string, LatestLookup>();

  constructor(private readonly store: ReportingReader) {}

  /** A version's listing (the latest when version is undefined), without its content. */
  head(scope: string, version?: number): Promise<SnapshotHead | undefined> {
    if (version !== undefined)
      return this.heads.get(scope, version, () => this.store.snapshotHead(scope, version));
    const slot = this.latest.get(scope) ?? {};
    this.latest.set(scope, slot);
    // A running lookup may have read before this request arrived, so joining it could miss a version committed
    // just before; the queued one starts after it ends, so every caller gets an answer read after it asked.
    if (slot.queued) return slot.queued;
    if (!slot.running) return this.lookUpLatest(scope, slot);
    const queued = slot.running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        slot.queued = undefined;
        return this.lookUpLatest(scope, slot);
      });
    slot.queued = queued;
    return queued;
  }

  private lookUpLatest(scope: string, slot: LatestLookup): Promise<SnapshotHead | undefined> {
    const running = this.store.snapshotHead(scope);
    slot.running = running;
    const done = () => {
      if (slot.running === running) slot.running = undefined;
      if (!slot.running && !slot.queued) this.latest.delete(scope);
    };
    running.then(done, done);
    return running;
  }

  /** The full report of a version (its requirements with finding ids, its findings). */
  report(scope: string, version: number): Promise<ComplianceReport | undefined> {
    return this.reports.get(scope, version, () => this.decode(scope, version));
  }

  /** A version's summary, finding counts and exception uses, decoded in a worker thread (digestOf). */
  digest(scope: string, version: number): Promise<SnapshotDigest | undefined> {
    return this.digests.get(scope, version, async () => {
      const info = await this.store.getSnapshot(scope, version);
      return info ? digestOf(info.content, info.contentHash) : undefined;
    });
  }

  private async decode(scope: string, version: number): Promise<ComplianceReport | undefined> {
    const info = await this.store.getSnapshot(scope, version);
    return info ? reportFromContent(info.content, info.contentHash) : undefined;
  }
}

const DIGEST_WORKER = new URL('./snapshot-digest.worker.js', import.meta.url);

/**
 * The digest of a snapshot content, checked against its hash and decoded in a worker thread, which exits once it
 * has posted the digest: the content's objects never reach this thread's heap (see snapshot-digest.worker.ts).
 */
export function digestOf(content: Uint8Array, contentHash: string): Promise<SnapshotDigest> {
  // The bytes move to the worker rather than being copied when they are a whole buffer of their own; nothing here
  // reads them again.
  const whole =
    content.byteOffset === 0 &&
    content.byteLength === content.buffer.byteLength &&
    content.buffer instanceof ArrayBuffer;
  return new Promise((resolve, reject) => {
    const worker = new Worker(DIGEST_WORKER, {
      workerData: { content, contentHash },
      ...(whole ? { transferList: [content.buffer as ArrayBuffer] } : {}),
    });
    let digest: SnapshotDigest | undefined;
    worker.once('message', (d: SnapshotDigest) => (digest = d));
    worker.once('error', reject);
    worker.once('exit', (code) =>
      digest
        ? resolve(digest)
        : reject(
            new Error(`snapshot ${contentHash}: the digest worker exited with code ${code} and no digest`),
          ),
    );
  });
}

export function snapshotOf(s: SnapshotHead): Snapshot {
  return {
    scope: s.scope,
    version: s.version,
    frameworkVersion: s.frameworkVersion,
    contentHash: s.contentHash,
    previousHash: s.previousHash,
    createdAt: s.createdAt,
    scanId: s.scanId ?? '',
  };
}

const STATUS_WORDS: Record<number, RequirementStatusWord | undefined> = {
  [RequirementStatus.IN_PLACE]: RequirementStatusWord.in_place,
  [RequirementStatus.NOT_IN_PLACE]: RequirementStatusWord.not_in_place,
  [RequirementStatus.NOT_TESTED]: RequirementStatusWord.not_tested,
  [RequirementStatus.NOT_APPLICABLE]: RequirementStatusWord.not_applicable,
  [RequirementStatus.MANUALLY_ATTESTED]: RequirementStatusWord.manually_attested,
};

export function statusWord(status: RequirementStatus): RequirementStatusWord | null {
  return STATUS_WORDS[status] ?? null;
}

export function requirementOf(r: RequirementResult): Requirement {
  return {
    id: r.id,
    title: r.title,
    status: statusWord(r.status) ?? RequirementStatusWord.not_tested,
    reason: r.reason,
    findingIds: [...r.findingIds],
    exceptedFindingIds: [...r.exceptedFindingIds],
    exceptionIds: [...r.exceptionIds],
    findingCount: r.findingIds.length,
    evidence: r.evidence.map((e) => ({ key: e.key, value: e.value })),
  };
}

/** "6.3.1" → "6", "A1.1.1" → "A1": the principal requirement or appendix a requirement sits under. */
export function principalOf(id: string): string {
  return id.split('.')[0] ?? id;
}

/** The requirement tree: the principal requirements and appendices in the report's (the standard's) order. */
export function requirementGroups(report: ComplianceReport): RequirementGroup[] {
  const groups = new Map<string, RequirementResult[]>();
  for (const r of report.requirements) {
    const key = principalOf(r.id);
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  return [...groups].map(([id, list]) => ({
    id,
    summary: { ...requirementSummary(list) },
    requirements: list.map(requirementOf),
  }));
}

const SEVERITY_RANK: Record<SeverityWord, number> = {
  CRITICAL: 0,
  HIGH: 1,
  MEDIUM: 2,
  LOW: 3,
  UNKNOWN: 4,
};

function findingFields(f: FindingMessage) {
  return {
    id: f.id,
    source: sourceWord(f.source),
    ruleId: f.ruleId,
    title: f.title,
    severity: SeverityWord[severityWord(f.severity)],
    priority: priorityOf(f),
    pciRequirements: [...f.pciRequirements],
    supportingPciRequirements: [...f.supportingPciRequirements],
    assetKey: assetKey(f.asset),
    firstSeen: f.firstSeen ? timestampDate(f.firstSeen) : new Date(0),
    lastSeen: f.lastSeen ? timestampDate(f.lastSeen) : new Date(0),
    packageName: f.package?.name || null,
    installedVersion: f.package?.version || null,
    fixedVersion: f.package?.fixedVersion || null,
    remediation: f.remediation?.summary || null,
  };
}

// The Finding message has no priority field: the correlator (libs/correlate) writes its contextual priority score
// (0-100, higher is more urgent) as the evidence entry "priority" of the correlated findings it publishes.
function priorityOf(f: FindingMessage): number | null {
  const e = f.evidence.find((x) => x.key === 'priority');
  const n = e ? Number(e.value) : NaN;
  return Number.isFinite(n) ? n : null;
}

export function findingFromMessage(f: FindingMessage, status: FindingStatusWord): Finding {
  return { ...findingFields(f), status, resolvedAt: null };
}

/** A finding as the API returns it, with the scope it came from (not a field: what its context is read in). */
export type ScopedFinding = Finding & { scope?: string };

/**
 * A stored finding as the API returns it. What the columns hold (written from the same message by the projection)
 * is read from them; the payload is decoded only when a field that only it holds is asked for, since a page of 50
 * decoded messages cost more than its query.
 */
export function findingFromRow(row: StoredFinding): ScopedFinding {
  let message: FindingMessage | undefined;
  const payload = () => (message ??= fromBinary(FindingSchema, row.payload));
  return {
    id: row.findingId,
    source: row.source,
    ruleId: row.ruleId,
    severity: SeverityWord[row.severity],
    priority: row.priority !== undefined ? row.priority : priorityOf(payload()),
    pciRequirements: [...row.pciRequirements],
    assetKey: row.assetKey,
    status: row.status === 'open' ? FindingStatusWord.open : FindingStatusWord.resolved,
    resolvedAt: row.resolvedAt,
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
    scope: row.scope,
    get title() {
      return payload().title;
    },
    get supportingPciRequirements() {
      return [...payload().supportingPciRequirements];
    },
    get packageName() {
      return payload().package?.name || null;
    },
    get installedVersion() {
      return payload().package?.version || null;
    },
    get fixedVersion() {
      return payload().package?.fixedVersion || null;
    },
    get remediation() {
      return payload().remediation?.summary || null;
    },
  };
}

/** The correlator's rendered factors of a stored finding ("" when it has none). */
export function priorityFactorsOf(row: StoredFinding): string {
  return (
    fromBinary(FindingSchema, row.payload).evidence.find((e) => e.key === 'priority-factors')?.value ?? ''
  );
}

/**
 * Findings with a priority first (higher first), then the rest by severity, then by id: a total order, so cursors
 * are stable. A correlated finding is the one that says why it matters here, so it leads its uncorrelated base.
 */
export function compareFindings(a: Finding, b: Finding): number {
  const pa = a.priority ?? -Infinity;
  const pb = b.priority ?? -Infinity;
  if (pa !== pb) return pb - pa;
  const sa = SEVERITY_RANK[a.severity];
  const sb = SEVERITY_RANK[b.severity];
  if (sa !== sb) return sa - sb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export function severityOfWord(w: SeverityWord): Severity {
  return Severity[w];
}

const STANDING_WORDS: Record<number, string | undefined> = {
  [ExceptionStanding.ACTIVE]: 'active',
  [ExceptionStanding.EXPIRED]: 'expired',
  [ExceptionStanding.REVOKED]: 'revoked',
  [ExceptionStanding.LAPSED_ON_FIX]: 'lapsed_on_fix',
  [ExceptionStanding.NO_EXPIRY]: 'no_expiry',
};

/**
 * A snapshot's exception uses by id, each with what the report lists it as (exceptionListing's groups): used,
 * matched_nothing (active, but it covered no open finding), or the standing of one that does not apply.
 */
export function exceptionListingOf(uses: readonly ExceptionUse[]): { use: ExceptionUse; listedAs: string }[] {
  const l = exceptionListing({ exceptionUses: uses, attestationUses: [] });
  const groups: [string, readonly ExceptionUse[]][] = [
    ['used', l.used],
    ['matched_nothing', l.matchedNothing],
    ['expired', l.expired],
    ['lapsed_on_fix', l.lapsedOnFix],
    ['revoked', l.revoked],
    ['no_expiry', l.noExpiry],
  ];
  return groups
    .flatMap(([listedAs, list]) => list.map((use) => ({ use, listedAs })))
    .sort((a, b) =>
      a.use.exceptionId < b.use.exceptionId ? -1 : a.use.exceptionId > b.use.exceptionId ? 1 : 0,
    );
}

export function exceptionOf(x: ExceptionUse, listedAs: string, snapshotVersion: number): RiskException {
  return {
    id: x.exceptionId,
    snapshotVersion,
    kind:
      x.kind === ExceptionKind.COMPENSATING_CONTROL
        ? ExceptionKindWord.compensating_control
        : ExceptionKindWord.risk_acceptance,
    owner: x.owner,
    justification: x.justification,
    expiresAt: x.expiresAt ? timestampDate(x.expiresAt) : null,
    expireOnFix: x.expireOnFix,
    standing: STANDING_WORDS[x.standing] ?? 'unspecified',
    use: listedAs,
    coveredFindingIds: [...x.coveredFindingIds],
    uncoveredFindingIds: [...x.uncoveredFindingIds],
    pciRequirements: [...x.pciRequirements],
    approvers: x.approvers.map((a) => a.name),
    revokedBy: x.revokedBy || null,
    revokeReason: x.revokeReason || null,
  };
}
