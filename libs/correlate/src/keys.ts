import { type Asset, AssetKind, canonicalImageRef } from '@vigil/contracts';

// Every key carries the cluster first: one correlator may see several scopes, and a workload named the same in two
// clusters is two workloads.

export const workloadKey = (cluster: string, kind: string, namespace: string, name: string): string =>
  `${cluster}/${kind}/${namespace}/${name}`;

export const containerKey = (workload: string, container: string): string => `${workload}#${container}`;

export const namespaceKey = (cluster: string, namespace: string): string => `${cluster}/${namespace}`;

export const serviceAccountKey = (cluster: string, namespace: string, name: string): string =>
  `${cluster}/${namespace}/${name}`;

export const podKey = (cluster: string, namespace: string, name: string): string =>
  `${cluster}/${namespace}/${name}`;

export const nodeKey = (cluster: string, node: string): string => `${cluster}/${node}`;

/** Resolution goes by (scanner, scope, target key): the same triple names the same target across scans. */
export const scanKey = (scanner: number, cluster: string, targetKey: string): string =>
  `${scanner}\u0000${cluster}\u0000${targetKey}`;

/**
 * An image reference in one spelling: Docker Hub's implied registry and library/ namespace made explicit, so a
 * manifest's `postgres:15` and a scan of `docker.io/library/postgres:15` meet. A reference without a tag or digest
 * means :latest to the kubelet.
 */
export function normalizeImageRef(ref: string): string {
  if (!ref) return '';
  const c = canonicalImageRef(ref);
  // A reference the rules refuse still joins with itself.
  return typeof c === 'string' ? ref : c.ref;
}

/** The workload a finding's asset belongs to, when it names one (runtime findings on bare pods do not). */
export function workloadOfAsset(asset: Asset, cluster: string): string | undefined {
  if (asset.kind !== AssetKind.WORKLOAD && asset.kind !== AssetKind.CONTAINER) return undefined;
  if (!asset.resourceKind || asset.resourceKind === 'Pod' || !asset.name) return undefined;
  return workloadKey(asset.cluster || cluster, asset.resourceKind, asset.namespace, asset.name);
}

/** "Kind/namespace/name" as the inventory lists workloads (ServiceAccount.workloads, ServiceExposure.workloads). */
export function workloadKeyFromRef(cluster: string, ref: string): string | undefined {
  const parts = ref.split('/');
  if (parts.length !== 3 || parts.some((p) => !p)) return undefined;
  return workloadKey(cluster, parts[0]!, parts[1]!, parts[2]!);
}
