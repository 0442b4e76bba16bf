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
  /** The findings the ignore file accepts. */
  ignoredIds: ReadonlySet<string>;
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
  if (result.ignored.length > 0) {
    const named = result.ignored.slice(0, 5).map((x) => x.finding.ruleId);
    const more =
      result.ignored.length > named.length ? `, and ${result.ignored.length - named.length} more` : '';
    notes.push(
      `${result.ignored.length} finding(s) accepted by the ignore file, not listed: ${named.join(', ')}${more}`,
    );
  }
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
  return {
    exitCode: result.exitCode,
    notes,
    warnings,
    ignoredIds: new Set(result.ignored.map((x) => x.finding.id)),
  };
}

/**
 * The rows of a findings table: severity, rule, asset, package, fixed version, PCI DSS ids. Every finding names its
 * requirements: the ids it tests, then in parentheses those it only supports (supportingPciRequirements, which
 * never fail a requirement).
 */
export function findingRows(findings: readonly Finding[]): string[][] {
  const rows = findings.map((f) => ({ f, asset: assetLabel(f) }));
  // Findings of one rule on one asset and package that differ only in the field they name (a pod's hostPID and
  // hostNetwork, a container's CPU and memory limit) would print as the same line: those lines name the field.
  const same = new Map<string, number>();
  const keyOf = (r: (typeof rows)[number]) => `${r.f.ruleId}\n${r.asset}\n${packageLabel(r.f)}`;
  for (const r of rows) same.set(keyOf(r), (same.get(keyOf(r)) ?? 0) + 1);
  for (const r of rows) if ((same.get(keyOf(r)) ?? 0) > 1) r.asset = `${r.asset} (${fieldOf(r.f)})`;
  rows.sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.f.severity) - SEVERITY_ORDER.indexOf(b.f.severity) ||
      a.f.ruleId.localeCompare(b.f.ruleId) ||
      a.asset.localeCompare(b.asset) ||
      packageLabel(a.f).localeCompare(packageLabel(b.f)),
  );
  return rows.map(({ f, asset }) => [
    f.severity === Severity.UNSPECIFIED ? 'UNKNOWN' : Severity[f.severity],
    f.ruleId,
    asset,
    packageLabel(f),
    f.package?.fixedVersion ?? '',
    pciLabel(f),
  ]);
}

/** `6.3.1,11.3.1`, `(2.2.1)` for ids the finding only supports, or both: `7.2.1 (7.3.2)`. */
export function pciLabel(f: Finding): string {
  const tested = f.pciRequirements.join(',');
  const supporting = f.supportingPciRequirements.filter((id) => !f.pciRequirements.includes(id));
  return [tested, supporting.length > 0 ? `(${supporting.join(',')})` : ''].filter(Boolean).join(' ');
}

function packageLabel(f: Finding): string {
  return f.package ? `${f.package.name}@${f.package.version}` : '';
}

// namespace/workload/container. A config finding about one container names it in its evidence (the asset is the
// workload, so that a pod's containers share one asset); without it two containers' findings read alike.
function assetLabel(f: Finding): string {
  const a = f.asset;
  if (!a) return '';
  const container = a.container || evidenceOf(f, 'container') || '';
  if (a.namespace || a.name) return [a.namespace, a.name, container].filter(Boolean).join('/');
  return a.imageRef || a.node || a.cluster;
}

// The field a finding is about, from its first location: the part after the container selector
// (`containers[name=api].resources.limits.cpu` → `resources.limits.cpu`) or after the pod spec
// (`spec.template.spec.hostPID` → `hostPID`); the whole location otherwise.
function fieldOf(f: Finding): string {
  const location = f.locations[0] ?? '';
  const afterSelector = /\]\.?([^\]]*)$/.exec(location)?.[1];
  if (afterSelector) return afterSelector;
  const spec = location.lastIndexOf('spec.');
  const field = spec >= 0 ? location.slice(spec + 'spec.'.length) : location;
  return field || f.id;
}

function evidenceOf(f: Finding, key: string): string | undefined {
  return f.evidence.find((e) => e.key === key)?.value;
}
