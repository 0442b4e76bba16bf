import { auditObjects, type AuditManifestsInput, type AuditResult } from '../audit.js';
import {
  readCluster,
  type ClusterIdentity,
  type ReadClusterOptions,
  type SkippedKind,
} from './cluster-reader.js';

export interface AuditClusterInput
  extends Omit<AuditManifestsInput, 'paths' | 'limits' | 'cluster'>, ReadClusterOptions {
  /** The scope cluster the findings' assets belong to; default the kube-system uid, else the context name. */
  cluster?: string;
}

export interface AuditClusterResult extends AuditResult {
  clusterIdentity: ClusterIdentity;
  skipped: SkippedKind[];
}

/** Reads the live cluster and audits what it holds; `files` lists one `live:<context>/<kind>` per kind read. */
export async function auditCluster(input: AuditClusterInput): Promise<AuditClusterResult> {
  const read = await readCluster(input);
  const cluster = input.cluster ?? read.cluster.uid ?? read.cluster.context;
  const result = auditObjects(read.objects, { ...input, cluster });
  const files = [...new Set(read.objects.map((o) => o.source.file))];
  return { ...result, errors: read.errors, files, clusterIdentity: read.cluster, skipped: read.skipped };
}
