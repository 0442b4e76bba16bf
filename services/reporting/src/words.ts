import { FindingSource, ScannerKind, Severity, type Asset } from '@vigil/contracts';

// The plain words the store's columns and the reports use for the contracts' enums.

export function scannerWord(kind: ScannerKind): string {
  return kind === ScannerKind.UNSPECIFIED ? '' : ScannerKind[kind].toLowerCase();
}

export function sourceWord(source: FindingSource): string {
  return source === FindingSource.UNSPECIFIED ? '' : FindingSource[source].toLowerCase();
}

export function severityWord(severity: Severity): 'CRITICAL' | 'HIGH' | 'MEDIUM' | 'LOW' | 'UNKNOWN' {
  switch (severity) {
    case Severity.CRITICAL:
      return 'CRITICAL';
    case Severity.HIGH:
      return 'HIGH';
    case Severity.MEDIUM:
      return 'MEDIUM';
    case Severity.LOW:
      return 'LOW';
    default:
      return 'UNKNOWN';
  }
}

/** A readable, stable key of the asset a finding is about: kind/cluster/namespace/name[/container], or image/node. */
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
