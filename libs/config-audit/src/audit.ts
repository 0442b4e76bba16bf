import { basename } from 'node:path';
import {
  AssetKind,
  AssetSchema,
  FindingCountsSchema,
  FindingSchema,
  FindingSource,
  MatchType,
  PassingResultSchema,
  Severity,
  UnitRefSchema,
  create,
  findingId,
  type Asset,
  type Finding,
  type FindingCounts,
  type InventoryItem,
  type PassingResult,
  type UnitRef,
} from '@vigil/contracts';
import { requirementsFor } from '@vigil/pci';
import {
  type AuditOptions,
  type CheckDefinition,
  type CheckOutcome,
  type PciUse,
} from './checks/check.model.js';
import { CHECKS } from './checks/registry.js';
import { buildContext } from './context.js';
import { buildInventory } from './inventory.js';
import { networkInventory } from './network/inventory-adapter.js';
import { serviceAccountRights } from './rbac/effective.js';
import {
  DEFAULT_LOADER_LIMITS,
  loadManifests,
  type LoadError,
  type LoaderLimits,
} from './load/manifest-loader.js';
import { kindOf, nameOf, namespaceOf, resourceKey, type LoadedObject } from './model/k8s-object.js';
import { isWorkloadKind } from './model/workload.js';

export interface AuditManifestsInput {
  /** Manifest files or directories (read recursively: .yaml, .yml, .json). */
  paths: readonly string[];
  /** The scope cluster the findings' assets belong to. */
  cluster: string;
  clock?: () => Date;
  /** Label that puts a namespace or pod in the CDE; default pci-scope=cde. */
  cdeLabel?: { key: string; value: string };
  requireCpuLimit?: boolean;
  limits?: LoaderLimits;
  /** Restrict to these check ids (all when absent). */
  checks?: readonly string[];
  /**
   * Keep every check's verdict in `outcomes` (default true: the corpus runner and the tests read them). A service
   * that only publishes findings, passing results and inventory leaves them out: a large cluster has hundreds of
   * thousands.
   */
  keepOutcomes?: boolean;
}

/** One check's verdict with what it was about: the internal form the corpus runner and the findings come from. */
export interface AuditedOutcome extends CheckOutcome {
  checkId: string;
  resource: string;
}

export interface AuditResult {
  findings: Finding[];
  passing: PassingResult[];
  assets: Asset[];
  units: UnitRef[];
  counts: FindingCounts;
  /** Documents that could not be audited, each naming its file and document. */
  errors: LoadError[];
  outcomes: AuditedOutcome[];
  /** Namespaces, workloads, containers, service accounts and exposure, for the inventory topic. */
  inventory: InventoryItem[];
  files: string[];
}

/**
 * Audits Kubernetes manifests: loads every document under the paths, normalizes workloads, runs every registered
 * check and returns findings (failing outcomes), passing results (evidence that a control is in place), the assets
 * covered and the units that ran. A bad document is an error entry, not a failed audit; an unreadable path throws.
 */
export async function auditManifests(input: AuditManifestsInput): Promise<AuditResult> {
  const loaded = await loadManifests(input.paths, input.limits ?? DEFAULT_LOADER_LIMITS);
  const result = auditObjects(loaded.objects, input);
  return { ...result, errors: loaded.errors, files: loaded.files };
}

/** The audit of objects already loaded (tests and the live-cluster path feed these directly). */
export function auditObjects(
  objects: LoadedObject[],
  input: Omit<AuditManifestsInput, 'paths' | 'limits'>,
): Omit<AuditResult, 'errors' | 'files'> {
  const clock = input.clock ?? (() => new Date());
  const options: AuditOptions = {
    cluster: input.cluster,
    cdeLabel: input.cdeLabel ?? { key: 'pci-scope', value: 'cde' },
    requireCpuLimit: input.requireCpuLimit ?? true,
  };
  const ctx = buildContext(objects, options);
  const checks = input.checks ? CHECKS.filter((c) => input.checks!.includes(c.id)) : CHECKS;
  const now = clock();
  const seen = {
    seconds: BigInt(Math.floor(now.getTime() / 1000)),
    nanos: (now.getTime() % 1000) * 1_000_000,
  };

  const keep = input.keepOutcomes ?? true;
  const outcomes: AuditedOutcome[] = [];
  const findings = new Map<string, Finding>();
  const passing: PassingResult[] = [];
  const assets = new Map<string, Asset>();
  for (const check of checks) {
    for (const outcome of check.run(ctx)) {
      if (keep) outcomes.push({ ...outcome, checkId: check.id, resource: resourceKey(outcome.subject) });
      // One Asset per resource, shared by its outcomes: a big cluster has hundreds of thousands of outcomes.
      const src = outcome.subject.source;
      // Unnamed objects share a resource key; the place they were read from tells them apart.
      const key = nameOf(outcome.subject)
        ? resourceKey(outcome.subject)
        : `${resourceKey(outcome.subject)}@${src.file}#${src.document}.${src.item ?? ''}`;
      let asset = assets.get(key);
      if (!asset) assets.set(key, (asset = assetOf(outcome.subject, options.cluster)));
      const baseUse = outcome.cde ? (check.cdePci ?? check.pci) : check.pci;
      const pciUse = outcome.pciKey ? { ...baseUse, key: outcome.pciKey } : baseUse;
      const pci = pciIds(pciUse);
      if (outcome.pass) {
        passing.push(
          create(PassingResultSchema, {
            checkId: check.id,
            asset,
            field: outcome.field,
            expected: outcome.expected,
            actual: outcome.actual,
            pciRequirements: pci.listed,
          }),
        );
        continue;
      }
      const finding = toFinding(check, outcome, asset, pciUse, pci, seen);
      // Two outcomes at the same field are one problem (e.g. a pod that sets hostNetwork twice through a List).
      if (!findings.has(finding.id)) findings.set(finding.id, finding);
    }
  }
  const list = [...findings.values()];
  return {
    findings: list,
    passing,
    assets: [...assets.values()],
    units: checks.map((c) => create(UnitRefSchema, { id: c.id, version: c.version })),
    counts: countBySeverity(list),
    outcomes,
    inventory: buildInventory(ctx, {
      ...networkInventory(ctx),
      serviceAccount: (ns, name) => serviceAccountRights(ctx, ns, name),
    }),
  };
}

/**
 * The ids a finding lists. A check that only supports its requirements (use "secondary") lists none in
 * pciRequirements: a consumer takes those for tested ids, and would fail requirements the check does not test.
 * They are the finding's supportingPciRequirements instead.
 */
// One id list per mapping key and use, shared by every outcome of it (a big cluster has hundreds of thousands).
const pciIdsMemo = new Map<string, { listed: string[]; supporting: string[] }>();
function pciIds(use: PciUse): { listed: string[]; supporting: string[] } {
  const memoKey = `${use.key}\n${use.use}`;
  const hit = pciIdsMemo.get(memoKey);
  if (hit) return hit;
  const r = requirementsFor(use.key);
  const ids =
    use.use === 'all'
      ? { listed: [...r.primary, ...r.secondary], supporting: [] }
      : { listed: [], supporting: [...r.secondary] };
  pciIdsMemo.set(memoKey, ids);
  return ids;
}

function assetOf(o: LoadedObject, cluster: string): Asset {
  const kind = kindOf(o);
  // findingId needs a name; an object without one is named after where it was read so it stays distinguishable.
  const name =
    nameOf(o) ||
    `(unnamed ${basename(o.source.file)}#${o.source.document}${o.source.item === undefined ? '' : `.${o.source.item}`})`;
  const assetKind = isWorkloadKind(kind)
    ? AssetKind.WORKLOAD
    : kind === 'Service'
      ? AssetKind.SERVICE
      : kind === 'Namespace'
        ? AssetKind.NAMESPACE
        : AssetKind.RESOURCE;
  return create(AssetSchema, {
    kind: assetKind,
    cluster,
    namespace: namespaceOf(o),
    name,
    resourceKind: kind,
  });
}

function toFinding(
  check: CheckDefinition,
  outcome: CheckOutcome,
  asset: Asset,
  pciUse: PciUse,
  pci: { listed: string[]; supporting: string[] },
  seen: { seconds: bigint; nanos: number },
): Finding {
  const id = findingId({ source: FindingSource.CONFIG, ruleId: check.id, asset, location: outcome.field });
  const src = outcome.subject.source;
  const where = `${src.file}${src.line ? `:${src.line}` : ''} (document ${src.document}${src.item === undefined ? '' : `, item ${src.item}`})`;
  const evidence: [string, string][] = [
    ['resource', resourceKey(outcome.subject)],
    ...(outcome.container ? ([['container', outcome.container]] as [string, string][]) : []),
    ...(outcome.evidence ?? []),
    ['source', where],
    // The finding type of @vigil/pci's mapping, so a consumer can split primary from secondary ids exactly.
    ['pci-mapping-key', pciUse.key],
  ];
  return create(FindingSchema, {
    id,
    source: FindingSource.CONFIG,
    ruleId: check.id,
    title: check.title,
    description: `${resourceKey(outcome.subject)}: ${outcome.message}.`,
    severity: outcome.cde && check.cdeSeverity !== undefined ? check.cdeSeverity : check.severity,
    pciRequirements: pci.listed,
    supportingPciRequirements: pci.supporting,
    asset,
    locations: [outcome.field, where],
    remediation: {
      summary: check.remediation,
      patch: outcome.patch ? JSON.stringify(outcome.patch) : '',
    },
    evidence: evidence.map(([key, value]) => ({ key, value })),
    firstSeen: seen,
    lastSeen: seen,
    detection: {
      matchType: MatchType.CHECK,
      unit: { id: check.id, version: check.version },
      field: outcome.field,
      expected: outcome.expected,
      actual: outcome.actual,
    },
  });
}

function countBySeverity(findings: Finding[]): FindingCounts {
  const c = create(FindingCountsSchema, {});
  for (const f of findings) {
    if (f.severity === Severity.CRITICAL) c.critical++;
    else if (f.severity === Severity.HIGH) c.high++;
    else if (f.severity === Severity.MEDIUM) c.medium++;
    else if (f.severity === Severity.LOW) c.low++;
    else c.unknown++;
  }
  c.total = findings.length;
  return c;
}
