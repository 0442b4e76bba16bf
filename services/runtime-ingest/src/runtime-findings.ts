import {
  AssetSchema,
  FindingCountsSchema,
  FindingReportedSchema,
  Severity,
  UnitRefSchema,
  create,
  type Asset,
  type EnvelopePayloadInit,
  type Finding,
  type FindingCounts,
  type UnitRef,
} from '@vigil/contracts';
import { RUNTIME_POLICIES, type IngestEventsResult } from '@vigil/runtime-rules';

/** One FindingReported per finding, keyed by the finding id (as the other scanners key theirs). */
export function findingEvents(
  findings: readonly Finding[],
  scanId: string,
): { payload: EnvelopePayloadInit; subjectKey: string }[] {
  return findings.map((finding) => ({
    payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding }) },
    subjectKey: finding.id,
  }));
}

export function severityCounts(findings: readonly Finding[]): FindingCounts {
  const count = (s: Severity) => findings.filter((f) => f.severity === s).length;
  return create(FindingCountsSchema, {
    critical: count(Severity.CRITICAL),
    high: count(Severity.HIGH),
    medium: count(Severity.MEDIUM),
    low: count(Severity.LOW),
    unknown: count(Severity.UNKNOWN) + count(Severity.UNSPECIFIED),
    total: findings.length,
  });
}

/** The normalizers that read the events and vigil's policies that raised detections, each once, by id. */
export function unitsOf(result: IngestEventsResult): UnitRef[] {
  const units = new Map<string, UnitRef>();
  for (const e of result.events)
    units.set(e.normalizer.id, create(UnitRefSchema, { id: e.normalizer.id, version: e.normalizer.version }));
  for (const d of result.detections) {
    const policy = RUNTIME_POLICIES[d.ruleId];
    if (policy) units.set(policy.id, create(UnitRefSchema, { id: policy.id, version: policy.version }));
  }
  return [...units.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Each asset the findings are about, once, in the order first met. */
export function assetsOf(findings: readonly Finding[]): Asset[] {
  const seen = new Map<string, Asset>();
  for (const f of findings) {
    if (!f.asset) continue;
    const a = f.asset;
    const key = [a.kind, a.namespace, a.name, a.container, a.node, a.resourceKind, a.imageRef].join('\u0000');
    if (!seen.has(key)) seen.set(key, create(AssetSchema, a));
  }
  return [...seen.values()];
}

const LISTED_SKIPS = 5;

/**
 * What the reader could not use, in one line: the count first (the CLI and operators look for it), then the first
 * few lines with their reasons. Empty when every non-blank line was an event.
 */
export function skippedSummary(result: IngestEventsResult): string {
  const { skipped, counts } = result;
  if (skipped.length === 0) return '';
  const lines = new Set(skipped.map((s) => s.line)).size;
  const listed = skipped
    .slice(0, LISTED_SKIPS)
    .map((s) => `line ${s.line}: ${s.reason}`)
    .join('; ');
  const more = skipped.length > LISTED_SKIPS ? `; and ${skipped.length - LISTED_SKIPS} more` : '';
  return `${lines} of ${counts.lines - counts.blankLines} non-blank lines were not events (${counts.events} events read): ${listed}${more}`;
}

/** The count skippedSummary put first in a completion's error; 0 for a completion without one. */
export function skippedLineCount(error: string): number {
  const m = /^(\d+) of \d+ non-blank lines were not events/.exec(error);
  return m ? Number(m[1]) : 0;
}
