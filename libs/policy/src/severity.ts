import { type PolicyFinding, type Severity } from './finding.model.js';

/** Most to least severe. UNKNOWN ranks lowest, as in Trivy and Grype: it never trips `--fail-on low`. */
export const SEVERITIES: readonly Severity[] = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];

const RANK = new Map<string, number>(SEVERITIES.map((s, i) => [s, SEVERITIES.length - i]));

/**
 * Reads a `--fail-on` value, case-insensitively. `unknown` means "fail on any finding at all".
 */
export function parseSeverityThreshold(value: string): Severity {
  const upper = value.trim().toUpperCase();
  if (RANK.has(upper)) return upper as Severity;
  throw new Error(
    `invalid severity threshold "${value}" (allowed: ${SEVERITIES.map((s) => s.toLowerCase()).join(', ')})`,
  );
}

/** Numeric rank of a finding's severity (UNKNOWN 1 … CRITICAL 5); throws on a word that is not a severity. */
export function severityRank(finding: Pick<PolicyFinding, 'id' | 'severity'>): number {
  const rank = RANK.get(finding.severity.toUpperCase());
  if (rank === undefined) {
    throw new Error(
      `finding ${finding.id}: unknown severity "${finding.severity}" (expected ${SEVERITIES.join(', ')})`,
    );
  }
  return rank;
}

/** True when at least one finding is at or above the threshold (the `--fail-on` rule). */
export function exceedsThreshold(findings: Iterable<PolicyFinding>, threshold: Severity): boolean {
  const min = RANK.get(threshold);
  if (min === undefined) throw new Error(`invalid severity threshold "${String(threshold)}"`);
  for (const f of findings) if (severityRank(f) >= min) return true;
  return false;
}
