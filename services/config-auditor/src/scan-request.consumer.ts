import { auditCluster, auditManifests, describeLoadErrors, type AuditResult } from '@vigil/config-audit';
import {
  BlobRefSchema,
  ClusterSchema,
  FindingReportedSchema,
  InventoryItemSchema,
  InventoryObservedSchema,
  ScanStatus,
  ScannerKind,
  create,
  toBinary,
  toJson,
  type BlobRef,
  type InventoryItem,
  type ScanRequested,
} from '@vigil/contracts';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';

/** Replicas of the config-auditor share this group and split the partitions of scan.requests.config. */
export const CONFIG_AUDITOR_GROUP = 'vigil.config-auditor';

export const INVENTORY_MEDIA_TYPE = 'application/vnd.vigil.inventory+json';

// Inventory events stay well under Kafka's 1 MB default message size; a big cluster's inventory is split.
const INVENTORY_EVENT_BYTES = 512 * 1024;

export interface ConfigAuditorDeps {
  clock?: () => Date;
  /** Stores a blob by content and returns its digest; the full inventory is kept as one for the report. */
  putBlob?: (content: Uint8Array, mediaType: string) => Promise<string>;
  /** Read the cluster with the pod's service account when the request names no kubeconfig (the deployed service). */
  inCluster?: boolean;
  /** Bound on each API request of a live audit. */
  requestTimeoutMs?: number;
}

/**
 * The config-auditor's engine: a manifests target is audited with @vigil/config-audit; findings are published as
 * FindingReported events, the inventory as InventoryObserved events, and the completion carries every finding id,
 * the passing results, the assets, the checks that ran and the inventory blob. A live-cluster target is read
 * through the request's kubeconfig, else the pod's service account (deployed) or the default kubeconfig.
 */
export function configAuditorEngine(deps: ConfigAuditorDeps = {}): ScanEngine {
  return {
    scanner: ScannerKind.CONFIG,
    name: 'config-audit',
    scan: async (request: ScanRequested): Promise<ScanResult> => {
      const ref = request.target?.ref;
      let cdeLabel: { key: string; value: string } | undefined;
      try {
        cdeLabel = parseCdeLabel(request.options['cde-label']);
      } catch (err) {
        return { status: ScanStatus.FAILED, error: `scan ${request.scanId}: ${(err as Error).message}` };
      }
      if (ref?.case === 'liveCluster') {
        const live = ref.value;
        let audit: Awaited<ReturnType<typeof auditCluster>>;
        try {
          audit = await auditCluster({
            cluster: request.scope?.cluster ?? '',
            ...(live.kubeconfig ? { kubeconfig: live.kubeconfig } : { inCluster: deps.inCluster === true }),
            ...(live.context ? { context: live.context } : {}),
            ...(cdeLabel ? { cdeLabel } : {}),
            keepOutcomes: false,
            ...(deps.clock ? { clock: deps.clock } : {}),
            ...(deps.requestTimeoutMs ? { timeoutMs: deps.requestTimeoutMs } : {}),
          });
        } catch (err) {
          return { status: ScanStatus.FAILED, error: `scan ${request.scanId}: ${(err as Error).message}` };
        }
        const id = audit.clusterIdentity;
        audit.inventory.unshift(
          create(InventoryItemSchema, {
            item: {
              case: 'cluster',
              value: create(ClusterSchema, {
                name: request.scope?.cluster ?? '',
                uid: id.uid ?? '',
                context: id.context,
                kubernetesVersion: id.version ?? '',
              }),
            },
          }),
        );
        // A kind the server does not serve has nothing to audit: a note, not a gap.
        const notes = audit.skipped.map((k) => `live:${id.context}/${k.kind}: ${k.reason}`);
        return completed(request, audit, deps, notes);
      }
      if (ref?.case !== 'manifests' || !ref.value.source)
        return {
          status: ScanStatus.FAILED,
          error: `scan ${request.scanId}: the config auditor needs a manifests target with a source path (got ${ref?.case ?? 'no target'})`,
        };
      const paths = ref.value.sources.length > 0 ? ref.value.sources : [ref.value.source];
      let audit: AuditResult;
      try {
        audit = await auditManifests({
          paths,
          cluster: request.scope?.cluster ?? '',
          ...(cdeLabel ? { cdeLabel } : {}),
          keepOutcomes: false,
          ...(deps.clock ? { clock: deps.clock } : {}),
        });
      } catch (err) {
        return { status: ScanStatus.FAILED, error: (err as Error).message };
      }
      return completed(request, audit, deps);
    },
  };
}

async function completed(
  request: ScanRequested,
  audit: AuditResult,
  deps: ConfigAuditorDeps,
  notes: string[] = [],
): Promise<ScanResult> {
  const scanId = request.scanId;
  const targetKey = request.target?.key ?? '';
  const blobs: BlobRef[] = [];
  if (deps.putBlob && audit.inventory.length > 0) {
    const content = new TextEncoder().encode(
      JSON.stringify(audit.inventory.map((i) => toJson(InventoryItemSchema, i))),
    );
    const digest = await deps.putBlob(content, INVENTORY_MEDIA_TYPE);
    blobs.push(
      create(BlobRefSchema, {
        digest,
        mediaType: INVENTORY_MEDIA_TYPE,
        sizeBytes: BigInt(content.byteLength),
        role: 'inventory',
      }),
    );
  }
  const notAudited = audit.errors.length;
  // What could not be read was not checked, so this scan must not resolve what an earlier one found in it: the
  // rest is audited and reported, and the scan is FAILED (a failed scan resolves nothing). The same for an input
  // with nothing in it: a wrong path must not make every finding of the target go away.
  const nothing = notAudited === 0 && audit.assets.length === 0 && audit.inventory.length === 0;
  const error = [
    ...(notAudited
      ? [
          `${notAudited} input(s) not audited, so this scan resolves nothing: ${describeLoadErrors(audit.errors)}`,
        ]
      : []),
    ...(nothing ? [`no Kubernetes objects in ${request.target?.key || 'the input'}`] : []),
    ...notes,
  ].join('; ');
  return {
    status: notAudited > 0 || nothing ? ScanStatus.FAILED : ScanStatus.OK,
    error,
    events: [
      ...audit.findings.map((finding) => ({
        payload: {
          case: 'findingReported' as const,
          value: create(FindingReportedSchema, { scanId, finding }),
        },
        subjectKey: finding.id,
      })),
      ...inventoryBatches(audit.inventory).map((items) => ({
        payload: {
          case: 'inventoryObserved' as const,
          value: create(InventoryObservedSchema, {
            scanId,
            ...(request.scope ? { scope: request.scope } : {}),
            items,
          }),
        },
        // One key per scan target keeps a target's batches in order on one partition.
        subjectKey: targetKey,
      })),
    ],
    findingIds: audit.findings.map((f) => f.id),
    passing: audit.passing,
    assets: audit.assets,
    units: audit.units,
    counts: audit.counts,
    blobs,
  };
}

/** Splits the inventory into events under INVENTORY_EVENT_BYTES each, in order. */
export function inventoryBatches(items: InventoryItem[]): InventoryItem[][] {
  const out: InventoryItem[][] = [];
  let batch: InventoryItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = toBinary(InventoryItemSchema, item).byteLength + 8;
    if (batch.length > 0 && bytes + size > INVENTORY_EVENT_BYTES) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += size;
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

/** `key=value`, as --cde-label takes it; absent means the engine's default (pci-scope=cde). */
export function parseCdeLabel(text: string | undefined): { key: string; value: string } | undefined {
  if (text === undefined || text === '') return undefined;
  const eq = text.indexOf('=');
  const key = eq > 0 ? text.slice(0, eq).trim() : '';
  const value = eq > 0 ? text.slice(eq + 1).trim() : '';
  // Kubernetes label keys: an optional DNS prefix and a name of at most 63 characters; values likewise.
  if (
    !/^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(key) ||
    !/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/.test(value)
  )
    throw new Error(`cde-label "${text.slice(0, 80)}" is not a label key=value (e.g. pci-scope=cde)`);
  return { key, value };
}
