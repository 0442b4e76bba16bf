import {
  FindingCountsSchema,
  FindingReportedSchema,
  PassingResultSchema,
  ScanStatus,
  ScannerKind,
  Severity,
  UnitRefSchema,
  create,
  type ScanRequested,
} from '@vigil/contracts';
import { HOST_CHECKS, HostRootError, assessHost, type HostAssessment } from '@vigil/host-assess';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';

/** Replicas of the host-assessor share this group and split the partitions of scan.requests.host. */
export const HOST_ASSESSOR_GROUP = 'vigil.host-assessor';

/**
 * The host-assessor's engine: runs @vigil/host-assess against the node target's root path. One FindingReported per
 * failed check, one PassingResult per passed check; not-applicable and errored checks are in neither. A missing or
 * unreadable root is a FAILED scan naming it. Host OS package vulnerabilities are not matched in this build (that
 * needs the image-scan engine's package analyzers).
 */
export function hostAssessorEngine(options: { clock?: () => Date } = {}): ScanEngine {
  return {
    scanner: ScannerKind.HOST,
    name: 'host-assess',
    scan: (request) => scanNode(request, options.clock),
  };
}

async function scanNode(request: ScanRequested, clock?: () => Date): Promise<ScanResult> {
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
  let assessment: HostAssessment;
  try {
    assessment = await assessHost({
      root: rootPath,
      node: node || target.key,
      // The handler rejects a request without a scope cluster before the engine runs.
      ...(request.scope?.cluster ? { cluster: request.scope.cluster } : {}),
      ...(clock ? { clock } : {}),
    });
  } catch (err) {
    if (err instanceof HostRootError) return { status: ScanStatus.FAILED, error: err.message };
    throw err;
  }
  const counts = create(FindingCountsSchema, {});
  for (const f of assessment.findings) {
    counts.total++;
    if (f.severity === Severity.CRITICAL) counts.critical++;
    else if (f.severity === Severity.HIGH) counts.high++;
    else if (f.severity === Severity.MEDIUM) counts.medium++;
    else if (f.severity === Severity.LOW) counts.low++;
    else counts.unknown++;
  }
  return {
    status: ScanStatus.OK,
    error: '',
    events: assessment.findings.map((finding) => ({
      payload: {
        case: 'findingReported',
        value: create(FindingReportedSchema, { scanId: request.scanId, finding }),
      },
      subjectKey: finding.id,
    })),
    findingIds: assessment.findings.map((f) => f.id),
    passing: assessment.checks
      .filter((c) => c.status === 'pass')
      .map((c) =>
        create(PassingResultSchema, {
          checkId: c.id,
          asset: assessment.asset,
          field: c.field,
          expected: c.expected,
          actual: c.actual,
          pciRequirements: c.pciRequirements,
        }),
      ),
    assets: [assessment.asset],
    units: HOST_CHECKS.map((c) => create(UnitRefSchema, { id: c.id, version: c.version })),
    counts,
  };
}
