import {
  AssetKind,
  CheckStatus,
  FindingSource,
  MatchType,
  ScanStatus,
  Severity,
  TargetKind,
  create,
  findingId,
  timestampFromDate,
  AssetSchema,
  FindingSchema,
  HostCheckResultSchema,
  HostReportSchema,
  type Asset,
  type Finding,
  type HostCheckResult,
  type HostReport,
  type Scope,
} from '@vigil/contracts';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type CheckResult, type CheckStatus as Status, type HostCheck } from './check.model.js';
import { NodeFacts } from './node-facts.js';
import { HOST_CHECKS } from './registry.js';
import { RootFs } from './root-fs.js';

export interface AssessHostInput {
  /** Where the node's root filesystem is mounted ("/", "/host", a materialized fixture). */
  root: string;
  /** The node's name (the asset and the scan's target key). */
  node: string;
  /** Cluster (scope) the node belongs to, for the findings' asset; "default", the CLI's default scope, when omitted. */
  cluster?: string;
  clock?: () => Date;
  /** Defaults to every registered check. */
  checks?: readonly HostCheck[];
}

export interface HostAssessment {
  node: string;
  root: string;
  asset: Asset;
  startedAt: Date;
  completedAt: Date;
  checks: CheckResult[];
  /** One finding per failed check. */
  findings: Finding[];
  summary: { pass: number; fail: number; notApplicable: number; error: number; total: number };
  /** Problems reading the node that did not stop the assessment (an unreadable /proc entry). */
  warnings: string[];
  /** The running kernel's release, from <root>/proc/sys/kernel/osrelease, when the root has a /proc. */
  kernelVersion?: string;
}

export class HostRootError extends Error {}

/**
 * Runs every host check against one node's root filesystem. Host OS package vulnerabilities are not matched here:
 * engines do not import each other, so the host-assessor service composes this engine with @vigil/image-scan.
 */
export async function assessHost(input: AssessHostInput): Promise<HostAssessment> {
  const clock = input.clock ?? (() => new Date());
  if (!input.node) throw new HostRootError('assessHost: node name is empty');
  let st;
  try {
    st = statSync(input.root);
  } catch (err) {
    throw new HostRootError(`host root ${input.root} is not readable: ${(err as Error).message}`);
  }
  if (!st.isDirectory()) throw new HostRootError(`host root ${input.root} is not a directory`);
  // Without /etc every "not configured" default would turn into a fail: refuse instead of reporting false fails.
  const fsRoot = new RootFs(input.root);
  if (fsRoot.stat('/etc').kind !== 'ok') {
    const hint = existsSync(join(input.root, 'files', 'etc'))
      ? ` (it looks like a node fixture: point the root at ${join(input.root, 'files')}, or materialize its node.json)`
      : '';
    throw new HostRootError(`host root ${input.root} has no etc/ directory: not a root filesystem${hint}`);
  }
  const startedAt = clock();
  const facts = new NodeFacts(fsRoot);
  const asset = create(AssetSchema, {
    kind: AssetKind.NODE,
    cluster: input.cluster ?? 'default',
    name: input.node,
    node: input.node,
  });
  const checks = (input.checks ?? HOST_CHECKS).map((c) => runCheck(c, facts));
  const findings = checks.filter((c) => c.status === 'fail').map((c) => toFinding(c, asset));
  const count = (s: Status) => checks.filter((c) => c.status === s).length;
  await Promise.resolve();
  return {
    node: input.node,
    root: input.root,
    asset,
    startedAt,
    completedAt: clock(),
    checks,
    findings,
    summary: {
      pass: count('pass'),
      fail: count('fail'),
      notApplicable: count('not_applicable'),
      error: count('error'),
      total: checks.length,
    },
    warnings: facts.processErrors,
    ...kernelVersion(fsRoot),
  };
}

function kernelVersion(fs: RootFs): { kernelVersion?: string } {
  const r = fs.read('/proc/sys/kernel/osrelease');
  const v = r.kind === 'ok' ? r.text.trim() : '';
  return v ? { kernelVersion: v } : {};
}

function runCheck(check: HostCheck, facts: NodeFacts): CheckResult {
  const meta = {
    id: check.id,
    version: check.version,
    title: check.title,
    catalogue: check.catalogue,
    ...(check.cis ? { cis: check.cis } : {}),
    severity: check.severity,
    pciRequirements: check.pciRequirements,
    remediation: check.remediation,
  };
  try {
    const reason = check.notApplicable(facts);
    if (reason !== undefined) {
      return {
        ...meta,
        status: 'not_applicable',
        field: check.defaultLocation,
        expected: '',
        actual: '',
        reason,
        location: check.defaultLocation,
      };
    }
    const outcome = check.evaluate(facts);
    return { ...meta, ...outcome, location: outcome.location ?? check.defaultLocation };
  } catch (err) {
    // A check that throws says nothing about the control: an error result, never a pass.
    return {
      ...meta,
      status: 'error',
      field: check.defaultLocation,
      expected: '',
      actual: '',
      reason: `${check.id}: ${(err as Error).message}`,
      location: check.defaultLocation,
    };
  }
}

function toFinding(r: CheckResult, asset: Asset): Finding {
  const ruleId = r.cis ? `cis-k8s-${r.cis}` : r.id;
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.HOST, ruleId, asset, location: r.location }),
    source: FindingSource.HOST,
    ruleId,
    aliases: r.cis ? [r.id] : [],
    title: r.title,
    description: `${r.title}: ${r.field} is ${r.actual}, expected ${r.expected}.`,
    severity: r.severity,
    pciRequirements: r.pciRequirements,
    asset,
    locations: [r.location, ...(r.location !== r.field ? [r.field] : [])],
    remediation: { summary: r.remediation },
    evidence: [
      { key: 'inspected', value: r.field },
      { key: 'expected', value: r.expected },
      { key: 'actual', value: r.actual },
      ...(r.cis ? [{ key: 'cis', value: `CIS Kubernetes Benchmark 1.12 ${r.cis}` }] : []),
      ...Object.entries(r.evidence ?? {}).map(([key, value]) => ({ key, value })),
    ],
    detection: {
      matchType: MatchType.CHECK,
      unit: { id: r.id, version: r.version },
      field: r.field,
      expected: r.expected,
      actual: r.actual,
    },
  });
}

const STATUS: Record<Status, CheckStatus> = {
  pass: CheckStatus.PASS,
  fail: CheckStatus.FAIL,
  not_applicable: CheckStatus.NOT_APPLICABLE,
  error: CheckStatus.ERROR,
};

export const HOST_REPORT_SCHEMA_VERSION = 1;

/**
 * Every check's result as the contracts' HostCheckResult, in report order: what `vigil scan host` prints and the
 * host-assessor stores with its scan. A failed check names the finding it reported.
 */
export function hostCheckResults(a: HostAssessment): HostCheckResult[] {
  const findingIds = new Map(a.findings.map((f) => [f.detection?.unit?.id ?? '', f.id]));
  return a.checks.map((c) =>
    create(HostCheckResultSchema, {
      id: c.id,
      version: c.version,
      title: c.cis ? `${c.cis} ${c.title}` : c.title,
      status: STATUS[c.status],
      severity: c.status === 'fail' ? c.severity : Severity.UNSPECIFIED,
      pciRequirements: c.pciRequirements,
      field: c.field,
      expected: c.expected,
      actual: c.actual,
      reason: c.reason ?? '',
      remediation: { summary: c.remediation },
      findingId: findingIds.get(c.id) ?? '',
      cis: c.cis ?? '',
      evidence: { ...(c.evidence ?? {}) },
    }),
  );
}

/** The `vigil scan host` report message (proto HostReport) for one assessment. */
export function hostReport(a: HostAssessment, opts: { scanId: string; scope?: Scope }): HostReport {
  return create(HostReportSchema, {
    schemaVersion: HOST_REPORT_SCHEMA_VERSION,
    scanId: opts.scanId,
    ...(opts.scope ? { scope: opts.scope } : {}),
    target: {
      kind: TargetKind.NODE,
      key: a.node,
      ref: { case: 'node', value: { node: a.node, rootPath: a.root } },
    },
    status: ScanStatus.OK,
    startedAt: timestampFromDate(a.startedAt),
    completedAt: timestampFromDate(a.completedAt),
    checks: hostCheckResults(a),
    summary: {
      pass: a.summary.pass,
      fail: a.summary.fail,
      notApplicable: a.summary.notApplicable,
      error: a.summary.error,
      total: a.summary.total,
    },
  });
}
