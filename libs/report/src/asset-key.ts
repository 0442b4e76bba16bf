import type { Asset } from '@vigil/contracts';

/**
 * A readable, stable key of the asset a finding is about: cluster/namespace/kind/name[/container], then the image
 * or the node. The store's asset column and the order of a snapshot's findings use it.
 */
export function assetKey(asset: Asset | undefined): string {
  if (!asset) return '';
  const parts = [asset.cluster, asset.namespace, asset.resourceKind, asset.name, asset.container].filter(
    (p) => p,
  );
  if (asset.imageDigest) parts.push(asset.imageDigest);
  else if (asset.imageRef) parts.push(asset.imageRef);
  if (asset.node) parts.push(`node:${asset.node}`);
  return parts.join('/');
}
