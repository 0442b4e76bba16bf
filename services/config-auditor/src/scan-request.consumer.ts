import { auditManifests, type AuditResult } from '@vigil/config-audit';
import { FindingReportedSchema, ScanStatus, ScannerKind, create, type ScanRequested } from '@vigil/contracts';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';

/** Replicas of the config-auditor share this group and split the partitions of scan.requests.config. */
export const CONFIG_AUDITOR_GROUP = 'vigil.config-auditor';

/**
 * The config-auditor's engine: a manifests target is audited with @vigil/config-audit; findings are published as
 * FindingReported events and the completion carries every finding id, the passing results, the assets and the
 * checks that ran. A live-cluster target stays UNAVAILABLE until the API-server path exists.
 */
export function configAuditorEngine(deps: { clock?: () => Date } = {}): ScanEngine {
  return {
    scanner: ScannerKind.CONFIG,
    name: 'config-audit',
    scan: async (request: ScanRequested): Promise<ScanResult> => {
      const ref = request.target?.ref;
      if (ref?.case === 'liveCluster')
        return { status: ScanStatus.UNAVAILABLE, error: 'live cluster audit is not available in this build' };
      if (ref?.case !== 'manifests' || !ref.value.source)
        return {
          status: ScanStatus.FAILED,
          error: `scan ${request.scanId}: the config auditor needs a manifests target with a source path (got ${ref?.case ?? 'no target'})`,
        };
      const source = ref.value.source;
      let audit: AuditResult;
      try {
        audit = await auditManifests({
          paths: [source],
          cluster: request.scope?.cluster ?? '',
          ...(deps.clock ? { clock: deps.clock } : {}),
        });
      } catch (err) {
        return { status: ScanStatus.FAILED, error: (err as Error).message };
      }
      const scanId = request.scanId;
      return {
        status: ScanStatus.OK,
        // Documents that could not be parsed do not fail the scan (the rest was audited), but they must be seen.
        error: audit.errors.length
          ? `${audit.errors.length} document(s) not audited: ${audit.errors
              .map(
                (e) =>
                  `${e.file}${e.document === undefined ? '' : ` document ${e.document}`}${e.line ? ` line ${e.line}` : ''}: ${e.message}`,
              )
              .join('; ')}`
          : '',
        events: audit.findings.map((finding) => ({
          payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding }) },
          subjectKey: finding.id,
        })),
        findingIds: audit.findings.map((f) => f.id),
        passing: audit.passing,
        assets: audit.assets,
        units: audit.units,
        counts: audit.counts,
      };
    },
  };
}
