import {
  FindingSchema,
  RequirementStatus,
  Severity,
  fromBinary,
  timestampDate,
  type ComplianceReport,
  type Finding as FindingMessage,
  type RequirementResult,
} from '@vigil/contracts';
import { reportFromContent, requirementSummary } from '@vigil/report';
import type { ReportingReader, SnapshotInfo, StoredFinding } from '@vigil/store';
import { assetKey, severityWord, sourceWord } from '../words.js';
import {
  FindingStatusWord,
  RequirementStatusWord,
  SeverityWord,
  type Finding,
  type Requirement,
  type RequirementGroup,
  type Snapshot,
} from './models.js';

// Snapshots are immutable (a scope's version is appended once and never rewritten), so a decoded report is kept
// by scope and version: a cache hit reads nothing from the database, which is what keeps the summary query flat
// under many dashboards. A few versions are what dashboards and diffs ask for over and over.
const REPORT_CACHE_SIZE = 8;

export class SnapshotReports {
  // Promises, not reports: fifty clients asking for a version that is not decoded yet wait for one decode.
  private readonly cache = new Map<string, Promise<ComplianceReport | undefined>>();

  constructor(private readonly store: ReportingReader) {}

  report(scope: string, version: number): Promise<ComplianceReport | undefined> {
    const key = `${scope}\u0000${version}`;
    const hit = this.cache.get(key);
    if (hit) {
      // Most recently used last, so the eviction below drops the least recently used.
      this.cache.delete(key);
      this.cache.set(key, hit);
      return hit;
    }
    const loading = this.store
      .getSnapshot(scope, version)
      .then((info) => (info ? reportFromContent(info.content, info.contentHash) : undefined));
    this.cache.set(key, loading);
    // A version that is not there (yet) or failed to load is asked for again next time, not remembered.
    loading.then(
      (report) => {
        if (!report) this.cache.delete(key);
      },
      () => this.cache.delete(key),
    );
    if (this.cache.size > REPORT_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value as string);
    return loading;
  }
}

export function snapshotOf(s: Omit<SnapshotInfo, 'size'>): Snapshot {
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

export function findingFromRow(row: StoredFinding): ScopedFinding {
  const f = fromBinary(FindingSchema, row.payload);
  return {
    ...findingFields(f),
    priority: row.priority !== undefined ? row.priority : priorityOf(f),
    status: row.status === 'open' ? FindingStatusWord.open : FindingStatusWord.resolved,
    resolvedAt: row.resolvedAt,
    firstSeen: row.firstSeen,
    lastSeen: row.lastSeen,
    scope: row.scope,
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
