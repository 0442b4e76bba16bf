import { Severity, type ComplianceReport } from '@vigil/contracts';

// What the report's charts and the manifest's chain need of each version up to the exported one: its place in the
// hash chain and how many open findings it had, per severity and per requirement.

export const CHART_SEVERITIES = ['critical', 'high', 'medium', 'low', 'unknown'] as const;
export type ChartSeverity = (typeof CHART_SEVERITIES)[number];

export interface VersionHistory {
  readonly version: number;
  readonly contentHash: string;
  readonly previousHash: string;
  readonly generatedAt: string;
  readonly bySeverity: Readonly<Record<ChartSeverity, number>>;
  /** Open findings per requirement id (requirements without findings are left out). */
  readonly byRequirement: Readonly<Record<string, number>>;
}

export function versionHistory(report: ComplianceReport): VersionHistory {
  const bySeverity: Record<ChartSeverity, number> = { critical: 0, high: 0, medium: 0, low: 0, unknown: 0 };
  for (const f of report.findings) bySeverity[chartSeverity(f.severity)]++;
  const byRequirement: Record<string, number> = {};
  for (const r of report.requirements) if (r.findingIds.length > 0) byRequirement[r.id] = r.findingIds.length;
  const t = report.generatedAt;
  return {
    version: report.snapshotVersion,
    contentHash: report.contentHash,
    previousHash: report.previousHash,
    generatedAt: t ? new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString() : '',
    bySeverity,
    byRequirement,
  };
}

export function chartSeverity(s: Severity): ChartSeverity {
  switch (s) {
    case Severity.CRITICAL:
      return 'critical';
    case Severity.HIGH:
      return 'high';
    case Severity.MEDIUM:
      return 'medium';
    case Severity.LOW:
      return 'low';
    default:
      return 'unknown';
  }
}
