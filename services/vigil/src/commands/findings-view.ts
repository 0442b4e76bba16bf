import { AssetKind, FindingSource, Severity, type Finding } from '@vigil/contracts';
import {
  applyPolicy,
  type IgnoreRule,
  type PolicyFinding,
  type Severity as PolicySeverity,
} from '@vigil/policy';

export interface PolicyInput {
  threshold?: PolicySeverity;
  ignores: readonly IgnoreRule[];
  now: Date;
}

export interface PolicyOutcome {
  exitCode: 0 | 1;
  /** Lines for the result: what was accepted, what failed the gate. */
  notes: string[];
  /** Lines for stderr: expired or unused accepted risks. */
  warnings: string[];
}

const SEVERITY_ORDER = [
  Severity.CRITICAL,
  Severity.HIGH,
  Severity.MEDIUM,
  Severity.LOW,
  Severity.UNKNOWN,
  Severity.UNSPECIFIED,
];

/** The words policy and people read, from the contracts' enums. */
export function policyView(f: Finding): PolicyFinding & { finding: Finding } {
  return {
    finding: f,
    id: f.id,
    ruleId: f.ruleId,
    severity: f.severity === Severity.UNSPECIFIED ? 'UNKNOWN' : Severity[f.severity],
    source: f.source === FindingSource.UNSPECIFIED ? '' : FindingSource[f.source].toLowerCase(),
    aliases: f.aliases,
    ...(f.asset
      ? {
          asset: {
            kind: f.asset.kind === AssetKind.UNSPECIFIED ? '' : AssetKind[f.asset.kind].toLowerCase(),
            cluster: f.asset.cluster,
            namespace: f.asset.namespace,
            name: f.asset.name,
            container: f.asset.container,
            imageRef: f.asset.imageRef,
            imageDigest: f.asset.imageDigest,
            node: f.asset.node,
          },
        }
      : {}),
    ...(f.package
      ? {
          package: {
            ecosystem: f.package.ecosystem,
            name: f.package.name,
            version: f.package.version,
            purl: f.package.purl,
          },
        }
      : {}),
    locations: f.locations,
  };
}

/**
 * `reportUnused`: say which accepted risks matched nothing. Only over a whole scope (vigil report): one scan sees
 * one kind of finding, so a rule for another kind would look unused there.
 */
export function policyOutcome(
  findings: readonly Finding[],
  p: PolicyInput,
  reportUnused = false,
): PolicyOutcome {
  const result = applyPolicy(findings.map(policyView), {
    ...(p.threshold ? { threshold: p.threshold } : {}),
    ignores: p.ignores,
    now: p.now,
  });
  const notes: string[] = [];
  if (result.ignored.length > 0)
    notes.push(`${result.ignored.length} finding(s) accepted by the ignore file`);
  if (result.failed) notes.push(`policy failed: a finding at or above ${p.threshold} remains`);
  const where = (r: IgnoreRule) => `${r.origin.file}${r.origin.line ? `:${r.origin.line}` : ''}`;
  const warnings = [
    ...result.expiredRules.map(
      (r) =>
        `${where(r)}: the rule for ${r.id} expired on ${r.expiresAt?.toISOString().slice(0, 10)} and no longer applies`,
    ),
    ...(reportUnused
      ? result.unusedRules.map((r) => `${where(r)}: the rule for ${r.id} matched no finding`)
      : []),
  ];
  return { exitCode: result.exitCode, notes, warnings };
}

export function findingRows(findings: readonly Finding[]): string[][] {
  const sorted = [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      a.ruleId.localeCompare(b.ruleId),
  );
  return sorted.map((f) => [
    f.severity === Severity.UNSPECIFIED ? 'UNKNOWN' : Severity[f.severity],
    f.ruleId,
    assetLabel(f),
    f.package ? `${f.package.name}@${f.package.version}` : '',
    f.package?.fixedVersion ?? '',
    f.pciRequirements.join(','),
  ]);
}

function assetLabel(f: Finding): string {
  const a = f.asset;
  if (!a) return '';
  if (a.namespace || a.name) return [a.namespace, a.name, a.container].filter(Boolean).join('/');
  return a.imageRef || a.node || a.cluster;
}
