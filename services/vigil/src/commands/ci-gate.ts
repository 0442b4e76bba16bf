import { readFile } from 'node:fs/promises';
import {
  ComplianceReportSchema,
  ScanReportSchema,
  Severity,
  fromReportJson,
  type ComplianceReport,
  type Finding,
} from '@vigil/contracts';
import { applyPolicy } from '@vigil/policy';
import { acceptedFindingIds } from '@vigil/report';
import { policyView, type PolicyInput } from './findings-view.js';
import { UsageError } from '../usage-error.js';

// The `vigil ci` gate, without I/O except reading a baseline file. A finding fails the gate when it is
//   - not accepted by the ignore file, and not accepted by an exception in the snapshot (an active exception covers
//     it and no requirement lists it as failing), and
//   - new against the baseline, when one is given: its id is not in the baseline, or its severity is higher than
//     the baseline's (a risk that grew is new risk), and
//   - at or above --fail-on, or failing a requirement named by --fail-on-requirement (that id or one under it).

/** Finding ids of an earlier result and the severity each had there. */
export interface Baseline {
  /** What the baseline was read from, for messages: "snapshot 3" or the file path. */
  readonly source: string;
  readonly severities: ReadonlyMap<string, Severity>;
}

export function baselineOf(source: string, findings: readonly Finding[]): Baseline {
  return { source, severities: new Map(findings.map((f) => [f.id, f.severity])) };
}

/**
 * Reads a `vigil report --format json` (ComplianceReport) or `vigil scan ... --format json` (ScanReport) file.
 * Anything else is a UsageError naming the file and what is wrong with it, so the command exits 2.
 */
export async function readBaselineFile(path: string): Promise<Baseline> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new UsageError(
      `vigil ci: --baseline ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  return parseBaseline(path, text);
}

export function parseBaseline(path: string, text: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UsageError(
      `vigil ci: --baseline ${path}: not JSON (${(err as Error).message.replace(/\s+/g, ' ')})`,
    );
  }
  if (
    typeof json !== 'object' ||
    json === null ||
    Array.isArray(json) ||
    !Array.isArray((json as { findings?: unknown }).findings)
  )
    throw new UsageError(
      `vigil ci: --baseline ${path}: not a vigil report (expected the JSON of vigil report --format json or vigil scan ... --format json, with "findings")`,
    );
  // A ScanReport has a scanId; a ComplianceReport has requirements. Unknown fields come from newer writers.
  const isScan = 'scanId' in json;
  try {
    const findings = isScan
      ? fromReportJson(ScanReportSchema, json, { ignoreUnknownFields: true }).findings
      : fromReportJson(ComplianceReportSchema, json, { ignoreUnknownFields: true }).findings;
    return baselineOf(path, findings);
  } catch (err) {
    throw new UsageError(`vigil ci: --baseline ${path}: ${(err as Error).message}`);
  }
}

// Lower is more severe, as in the contracts' enum; no severity counts as the least.
function rank(s: Severity): number {
  return s === Severity.UNSPECIFIED ? Severity.UNKNOWN : s;
}

/** New against the baseline: not in it, or more severe than it was there. */
export function isNew(f: Finding, baseline: Baseline | undefined): boolean {
  if (!baseline) return true;
  const before = baseline.severities.get(f.id);
  return before === undefined || rank(f.severity) < rank(before);
}

/** Finding ids an active exception accepts (covered, and failing no requirement): as `vigil report` counts them. */
export function exceptedIds(report: ComplianceReport): Set<string> {
  return acceptedFindingIds(report);
}

/** `6.3` names 6.3, 6.3.1, 6.3.2 ...: a group gates every requirement under it. */
export function requirementMatches(named: string, id: string): boolean {
  return id === named || id.startsWith(`${named}.`);
}

export interface GateInput {
  /** This run's findings (after --ignore-unfixed). */
  readonly findings: readonly Finding[];
  /** The snapshot made after this run's scans: requirement statuses and exceptions. */
  readonly report: ComplianceReport;
  readonly policy: PolicyInput;
  readonly failOnRequirements: readonly string[];
  readonly baseline?: Baseline;
}

export interface GateResult {
  readonly exitCode: 0 | 1;
  readonly failing: readonly Finding[];
  /** Finding id → why it does not fail the gate. */
  readonly waived: ReadonlyMap<string, string>;
  readonly newCount: number;
  /** Requirements (of the snapshot) that list a failing finding. */
  readonly failingRequirements: readonly string[];
  /** One line per reason the gate failed, or why it passed. */
  readonly reasons: readonly string[];
  /** Ignore-file rules that expired. */
  readonly warnings: readonly string[];
}

export function evaluateGate(i: GateInput): GateResult {
  const waived = new Map<string, string>();
  const policy = applyPolicy(i.findings.map(policyView), { ignores: i.policy.ignores, now: i.policy.now });
  const ignoredIds = new Set(policy.ignored.map((x) => x.finding.id));
  const excepted = exceptedIds(i.report);
  const requirementsOf = new Map<string, string[]>();
  for (const r of i.report.requirements)
    for (const id of r.findingIds) requirementsOf.set(id, [...(requirementsOf.get(id) ?? []), r.id]);
  const threshold = i.policy.threshold
    ? rank(Severity[i.policy.threshold as keyof typeof Severity])
    : undefined;

  let newCount = 0;
  const failing: Finding[] = [];
  const bySeverity: Finding[] = [];
  const byRequirement: Finding[] = [];
  for (const f of i.findings) {
    const fresh = isNew(f, i.baseline);
    if (fresh) newCount++;
    if (ignoredIds.has(f.id)) waived.set(f.id, 'accepted in the ignore file');
    else if (excepted.has(f.id)) waived.set(f.id, 'accepted risk (exception)');
    else if (!fresh) waived.set(f.id, `in the baseline (${i.baseline?.source})`);
    else {
      const severe = threshold !== undefined && rank(f.severity) <= threshold;
      const named = (requirementsOf.get(f.id) ?? []).some((id) =>
        i.failOnRequirements.some((n) => requirementMatches(n, id)),
      );
      if (severe) bySeverity.push(f);
      if (named) byRequirement.push(f);
      if (severe || named) failing.push(f);
      else waived.set(f.id, 'below the gate');
    }
  }
  const failingIds = new Set(failing.map((f) => f.id));
  const failingRequirements = i.report.requirements
    .filter((r) => r.findingIds.some((id) => failingIds.has(id)))
    .map((r) => r.id);
  const reasons: string[] = [];
  if (bySeverity.length > 0)
    reasons.push(
      `${bySeverity.length} ${i.baseline ? 'new ' : ''}finding(s) at or above ${i.policy.threshold}`,
    );
  if (byRequirement.length > 0) {
    const named = i.failOnRequirements.filter((n) =>
      failingRequirements.some((id) => requirementMatches(n, id)),
    );
    reasons.push(
      `${byRequirement.length} ${i.baseline ? 'new ' : ''}finding(s) failing requirement ${named.join(', ')}`,
    );
  }
  const warnings = policy.expiredRules.map(
    (r) =>
      `${r.origin.file}${r.origin.line ? `:${r.origin.line}` : ''}: the rule for ${r.id} expired on ${r.expiresAt?.toISOString().slice(0, 10)} and no longer applies`,
  );
  return {
    exitCode: failing.length > 0 ? 1 : 0,
    failing,
    waived,
    newCount,
    failingRequirements,
    reasons,
    warnings,
  };
}

// "N open (by severity), M accepted": findings an exception accepts are listed, not counted as open risk.
export function findingsSummary(findings: readonly Finding[], accepted: ReadonlySet<string>): string {
  const words = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
  const word = (s: Severity) => (s === Severity.UNSPECIFIED ? 'UNKNOWN' : Severity[s]);
  const open = findings.filter((f) => !accepted.has(f.id));
  const bySeverity = words
    .map((w) => `${open.filter((f) => word(f.severity) === w).length} ${w.toLowerCase()}`)
    .join(', ');
  return `${open.length} open (${bySeverity}), ${findings.length - open.length} accepted`;
}
