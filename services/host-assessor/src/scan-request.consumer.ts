import {
  BlobRefSchema,
  CheckStatus,
  FindingCountsSchema,
  FindingReportedSchema,
  HostCheckResultSchema,
  HostPackageScanSchema,
  InstalledPackageSchema,
  InventoryObservedSchema,
  NodeSchema,
  PassingResultSchema,
  ScanRequestedSchema,
  ScanStatus,
  ScannerKind,
  Severity,
  UnitRefSchema,
  clone,
  create,
  toJson,
  type Finding,
  type HostCheckResult,
  type ScanRequested,
} from '@vigil/contracts';
import {
  HOST_CHECKS,
  HostRootError,
  assessHost,
  hostCheckResults,
  type HostAssessment,
} from '@vigil/host-assess';
import { CachedAdvisoryStore, type AdvisoryStore } from '@vigil/image-scan';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';
import { PostgresAdvisoryStore, type Sql } from '@vigil/store';
import { HOST_PACKAGE_CHECK, scanHostPackages, type HostPackageScan } from './host-packages.js';

/** Replicas of the host-assessor share this group and split the partitions of scan.requests.host. */
export const HOST_ASSESSOR_GROUP = 'vigil.host-assessor';

/** Blob roles and media types of a host scan; `vigil scan host` reads them back for its report. */
export const HOST_CHECKS_ROLE = 'host-checks';
export const HOST_CHECKS_MEDIA_TYPE = 'application/vnd.vigil.host-check-results+json';
export const PACKAGE_LIST_ROLE = 'package-list';
export const HOST_PACKAGE_SCAN_ROLE = 'host-package-scan';
export const HOST_PACKAGE_SCAN_MEDIA_TYPE = 'application/vnd.vigil.host-package-scan+json';
export const PACKAGE_LIST_MEDIA_TYPE = 'application/vnd.vigil.installed-packages+json';

export interface HostAssessorEngineOptions {
  /** The service's database: the advisory store for the host's packages, and the blob table. */
  sql?: Sql | null;
  /** An advisory store to use instead of the database's (tests, the bench). */
  advisories?: AdvisoryStore | null;
  /** Stores the check results and the package list; the completion carries their digests. */
  putBlob?: (content: Uint8Array, mediaType: string) => Promise<string>;
  clock?: () => Date;
  /**
   * Run on a node (the DaemonSet): only the requests for this node, read from where its root is mounted here
   * whatever root path the requester named.
   */
  node?: { name: string; root: string };
}

/** Everything one node assessment produced, before it becomes events: what the bench and the CLI tests look at. */
export interface NodeAssessment {
  assessment: HostAssessment;
  packages: HostPackageScan;
  /** The engine's check results, then the package check when the packages were matched (or errored). */
  checks: HostCheckResult[];
  findings: Finding[];
}

/**
 * Assesses one node: the host checks of @vigil/host-assess, then the node's OS packages through @vigil/image-scan
 * (see host-packages.ts). Throws HostRootError for a root that is not a node's root filesystem.
 */
export async function assessNode(input: {
  root: string;
  node: string;
  cluster?: string;
  advisories: AdvisoryStore | null;
  missingReason?: string;
  clock?: () => Date;
}): Promise<NodeAssessment> {
  const assessment = await assessHost({
    root: input.root,
    node: input.node,
    ...(input.cluster ? { cluster: input.cluster } : {}),
    ...(input.clock ? { clock: input.clock } : {}),
  });
  const packages = await scanHostPackages({
    root: input.root,
    asset: assessment.asset,
    advisories: input.advisories,
    ...(input.missingReason ? { missingReason: input.missingReason } : {}),
    ...(input.clock ? { clock: input.clock } : {}),
  });
  return {
    assessment,
    packages,
    checks: [...hostCheckResults(assessment), ...(packages.check ? [packages.check] : [])],
    findings: [...assessment.findings, ...packages.findings],
  };
}

/**
 * The host-assessor's engine: runs @vigil/host-assess against the node target's root path and matches the node's
 * OS packages with @vigil/image-scan against the advisory database in the service's Postgres. One FindingReported
 * per failed check and per package vulnerability, one PassingResult per passed check, the node's inventory, and
 * every check result (not-applicable, errored and not-tested ones too) with the package list as blobs. Without a
 * database the package check is not_tested with the reason; the host checks still run. A missing or unreadable
 * root is a FAILED scan naming it.
 */
export function hostAssessorEngine(options: HostAssessorEngineOptions = {}): ScanEngine {
  const advisories =
    options.advisories !== undefined
      ? options.advisories
      : options.sql
        ? new CachedAdvisoryStore(new PostgresAdvisoryStore(options.sql))
        : null;
  const here = options.node;
  const nodeOf = (r: ScanRequested) =>
    r.target?.ref.case === 'node' ? r.target.ref.value.node || r.target.key : undefined;
  return {
    scanner: ScannerKind.HOST,
    name: 'host-assess',
    scan: (request) => {
      if (!here || request.target?.ref.case !== 'node') return scanNode(request, advisories, options);
      const local = clone(ScanRequestedSchema, request);
      if (local.target?.ref.case === 'node') local.target.ref.value.rootPath = here.root;
      return scanNode(local, advisories, options);
    },
    ...(here ? { accepts: (request: ScanRequested) => nodeOf(request) === here.name } : {}),
  };
}

async function scanNode(
  request: ScanRequested,
  advisories: AdvisoryStore | null,
  options: HostAssessorEngineOptions,
): Promise<ScanResult> {
  const target = request.target;
  if (target?.ref.case !== 'node') {
    return {
      status: ScanStatus.FAILED,
      error: `scan ${request.scanId}: the host assessor needs a node target (rootPath, node), got ${target?.ref.case ?? 'no target'}`,
    };
  }
  const { rootPath, node } = target.ref.value;
  if (!rootPath)
    return {
      status: ScanStatus.FAILED,
      error: `scan ${request.scanId}: node target ${node} has no root_path`,
    };
  let result: NodeAssessment;
  try {
    result = await assessNode({
      root: rootPath,
      node: node || target.key,
      // The handler rejects a request without a scope cluster before the engine runs.
      ...(request.scope?.cluster ? { cluster: request.scope.cluster } : {}),
      advisories,
      missingReason:
        'the host-assessor has no DATABASE_URL, so there is no advisory database to match against',
      ...(options.clock ? { clock: options.clock } : {}),
    });
  } catch (err) {
    if (err instanceof HostRootError) return { status: ScanStatus.FAILED, error: err.message };
    throw err;
  }
  const { assessment, packages, checks, findings } = result;
  const store = async (content: string, mediaType: string, role: string) => {
    if (!options.putBlob) return undefined;
    const bytes = new TextEncoder().encode(content);
    const digest = await options.putBlob(bytes, mediaType);
    return create(BlobRefSchema, { digest, mediaType, sizeBytes: BigInt(bytes.byteLength), role });
  };
  const checksRef = await store(
    JSON.stringify(checks.map((c) => toJson(HostCheckResultSchema, c))),
    HOST_CHECKS_MEDIA_TYPE,
    HOST_CHECKS_ROLE,
  );
  const packagesRef = await store(
    JSON.stringify(packages.packages.map((p) => toJson(InstalledPackageSchema, p))),
    PACKAGE_LIST_MEDIA_TYPE,
    PACKAGE_LIST_ROLE,
  );
  const packageScanRef = await store(
    JSON.stringify(toJson(HostPackageScanSchema, packages.scan)),
    HOST_PACKAGE_SCAN_MEDIA_TYPE,
    HOST_PACKAGE_SCAN_ROLE,
  );
  const inventory = create(InventoryObservedSchema, {
    scanId: request.scanId,
    ...(request.scope ? { scope: request.scope } : {}),
    items: [{ item: { case: 'node', value: nodeInventory(assessment, packages) } }],
  });
  const passing = [
    ...assessment.checks
      .filter((c) => c.status === 'pass')
      .map((c) => ({
        id: c.id,
        field: c.field,
        expected: c.expected,
        actual: c.actual,
        pci: c.pciRequirements,
      })),
    ...(packages.check?.status === CheckStatus.PASS
      ? [
          {
            id: packages.check.id,
            field: packages.check.field,
            expected: packages.check.expected,
            actual: packages.check.actual,
            pci: packages.check.pciRequirements,
          },
        ]
      : []),
  ];
  return {
    status: ScanStatus.OK,
    error: '',
    events: [
      ...findings.map((finding) => ({
        payload: {
          case: 'findingReported' as const,
          value: create(FindingReportedSchema, { scanId: request.scanId, finding }),
        },
        subjectKey: finding.id,
      })),
      { payload: { case: 'inventoryObserved' as const, value: inventory }, subjectKey: assessment.node },
    ],
    findingIds: findings.map((f) => f.id),
    passing: passing.map((p) =>
      create(PassingResultSchema, {
        checkId: p.id,
        asset: assessment.asset,
        field: p.field,
        expected: p.expected,
        actual: p.actual,
        pciRequirements: p.pci,
      }),
    ),
    assets: [assessment.asset],
    units: [
      ...HOST_CHECKS.map((c) => ({ id: c.id, version: c.version })),
      // Only units that ran: without advisory data neither the package check nor the matcher did.
      ...(packages.check ? [HOST_PACKAGE_CHECK] : []),
      ...packages.units,
    ].map((u) => create(UnitRefSchema, u)),
    counts: findingCounts(findings),
    blobs: [checksRef, packagesRef, packageScanRef].filter((b) => b !== undefined),
  };
}

function nodeInventory(assessment: HostAssessment, packages: HostPackageScan) {
  return create(NodeSchema, {
    name: assessment.node,
    osImage: packages.osImage ?? '',
    kernelVersion: assessment.kernelVersion ?? '',
  });
}

function findingCounts(findings: readonly Finding[]) {
  const counts = create(FindingCountsSchema, {});
  for (const f of findings) {
    counts.total++;
    if (f.severity === Severity.CRITICAL) counts.critical++;
    else if (f.severity === Severity.HIGH) counts.high++;
    else if (f.severity === Severity.MEDIUM) counts.medium++;
    else if (f.severity === Severity.LOW) counts.low++;
    else counts.unknown++;
  }
  return counts;
}
