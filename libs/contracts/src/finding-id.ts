import { createHash } from 'node:crypto';
import { type Asset, AssetKind } from './gen/vigil/v1/common_pb.js';
import { FindingSource } from './gen/vigil/v1/finding_pb.js';

/** The asset fields findingId reads; which of them identify the asset depends on its kind. */
export type FindingAssetIdentity = Partial<
  Pick<
    Asset,
    | 'kind'
    | 'cluster'
    | 'namespace'
    | 'name'
    | 'container'
    | 'imageRef'
    | 'imageDigest'
    | 'node'
    | 'resourceKind'
  >
>;

export interface FindingIdInput {
  source: FindingSource;
  /** The CVE id when one exists, else the advisory or check id. */
  ruleId: string;
  asset: FindingAssetIdentity;
  /**
   * Where on the asset: the resource field path for a config check, the file for a host check, the package (purl
   * without version, so an upgrade that stays vulnerable is the same finding) for an image vulnerability.
   */
  location?: string;
}

const SOURCE_WORDS: Partial<Record<FindingSource, string>> = {
  [FindingSource.IMAGE]: 'image',
  [FindingSource.CONFIG]: 'config',
  [FindingSource.RUNTIME]: 'runtime',
  [FindingSource.HOST]: 'host',
  [FindingSource.CORRELATED]: 'correlated',
};

// Bump only together with a migration of stored finding ids: every id changes with it.
const ID_SCHEME = 'vigil-finding-id/1';

/**
 * The identity of an asset, field by field, for its kind. Fields that describe rather than identify are left out:
 * a workload's image may change without its privileged-container finding becoming a new one, and an image's new
 * digest under the same tag supersedes the old one, so image findings carry over (first_seen kept).
 */
function assetIdentity(asset: FindingAssetIdentity): string[] {
  const need = (field: keyof FindingAssetIdentity, value: string | undefined, kind: string): string => {
    if (!value) throw new Error(`findingId: asset.${field} is required for a ${kind} asset`);
    return value;
  };
  const cluster = need('cluster', asset.cluster, 'finding');
  switch (asset.kind) {
    case AssetKind.CLUSTER:
      return ['cluster', cluster];
    case AssetKind.NAMESPACE:
      return ['namespace', cluster, need('name', asset.name || asset.namespace, 'namespace')];
    case AssetKind.WORKLOAD:
    case AssetKind.SERVICE:
    case AssetKind.RESOURCE: {
      const kind =
        asset.kind === AssetKind.WORKLOAD
          ? 'workload'
          : asset.kind === AssetKind.SERVICE
            ? 'service'
            : 'resource';
      return [
        kind,
        cluster,
        need('resourceKind', asset.resourceKind, kind),
        asset.namespace ?? '',
        need('name', asset.name, kind),
      ];
    }
    case AssetKind.CONTAINER:
      return [
        'container',
        cluster,
        need('resourceKind', asset.resourceKind, 'container'),
        asset.namespace ?? '',
        need('name', asset.name, 'container'),
        need('container', asset.container, 'container'),
      ];
    case AssetKind.IMAGE:
      if (asset.imageRef) return ['image', cluster, asset.imageRef];
      if (!asset.imageDigest)
        throw new Error('findingId: asset.imageRef or asset.imageDigest is required for an image asset');
      // The empty slot keeps a digest from ever colliding with a ref of the same text.
      return ['image', cluster, '', asset.imageDigest];
    case AssetKind.NODE:
      return ['node', cluster, need('node', asset.node || asset.name, 'node (node or name)')];
    default:
      throw new Error(`findingId: asset.kind ${String(asset.kind)} is not a known asset kind`);
  }
}

/** The canonical text the id hashes; exposed so tools and tests can show what an id stands for. */
export function findingIdCanonical(input: FindingIdInput): string {
  const source = SOURCE_WORDS[input.source];
  if (!source)
    throw new Error(
      `findingId: source ${String(input.source)} is not image, config, runtime, host or correlated`,
    );
  if (!input.ruleId) throw new Error(`findingId: ruleId is empty (${source} finding)`);
  // A JSON array of strings is unambiguous (no separator can be forged) and stable across runtimes.
  return JSON.stringify([
    ID_SCHEME,
    source,
    input.ruleId,
    ...assetIdentity(input.asset),
    input.location ?? '',
  ]);
}

/**
 * Deterministic finding id: "<source>-" and the first 32 hex digits (128 bits) of the SHA-256 of the canonical
 * serialization of (source, rule, asset identity, location). The same problem seen twice is the same finding.
 */
export function findingId(input: FindingIdInput): string {
  const canonical = findingIdCanonical(input);
  const hex = createHash('sha256').update(canonical, 'utf8').digest('hex');
  return `${SOURCE_WORDS[input.source]}-${hex.slice(0, 32)}`;
}
