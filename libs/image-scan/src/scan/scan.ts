// The image scan use case: read the image's layers (keeping only what the analyzers want), find the OS and the
// packages, attribute each package to the layer that brought it, match the packages against the advisory store,
// and turn matches and image checks into Findings. `scanFiles` is the same minus the image, for a root
// filesystem or a source tree.
import type { Finding } from '@vigil/contracts';
import type { FileEntry, OsRelease } from '../analyzers/analyzer.js';
import { extractPackages } from '../analyzers/extract.js';
import { analyzers, isWanted, isWantedContent, keptContentOf } from '../analyzers/registry.js';
import type { ImageConfig, ImageSource, ImageSourceKind } from '../image/source.js';
import { squashImage, type SquashedImage } from '../image/squash.js';
import { directoryDigest } from './directory.js';
import type { AdvisoryDbInfo, AdvisoryStore } from '../vulndb/advisory-store.js';
import { matchPackages, type MatchOptions } from '../vulndb/match.js';
import type { VulnerabilityMatch } from '../vulndb/match.types.js';
import {
  MATCHER_UNIT,
  imageAsset,
  imageCheckFinding,
  vulnerabilityFinding,
  type FindingContext,
  type PackageLayer,
  type ScannedPackage,
} from './findings.js';
import { IMAGE_CHECK_UNIT, imageChecks } from './image-checks.js';

export interface ScanOptions {
  /** The scope's cluster; part of every finding's asset. */
  cluster: string;
  advisories: AdvisoryStore;
  clock?: () => Date;
  /** The image as the user or the workload referenced it; defaults to the image's first RepoTag. */
  reference?: string;
  allowedRegistries?: readonly string[];
  /** KEV and EPSS enrichment, when loaded. */
  enrichment?: Omit<MatchOptions, 'now'>;
}

export interface ScanTarget {
  /** What was scanned, as named: a reference, an archive path, a directory. */
  name: string;
  kind: ImageSourceKind | 'rootfs' | 'fs';
  /** "registry/repository:tag" (or "@sha256:…") the findings are reported against; empty for a directory. */
  reference: string;
  /** The asset digest: the manifest digest, or the config digest for an archive without one. */
  digest: string;
  manifestDigest?: string;
  configDigest?: string;
  repoTags: string[];
  architecture?: string;
  /** "debian 12.5", "alpine 3.19.1" */
  distro?: string;
  layers: PackageLayer[];
  /** Layers [0, base.layers) came from the base image, when the history tells. */
  base?: { name?: string; layers: number };
}

export interface ScanReport {
  target: ScanTarget;
  os: OsRelease | null;
  packages: ScannedPackage[];
  matches: VulnerabilityMatch[];
  findings: Finding[];
  db: AdvisoryDbInfo;
  /** The analyzers, matcher and checks that ran, with their versions. */
  units: { id: string; version: number }[];
}

export async function scanImage(source: ImageSource, options: ScanOptions): Promise<ScanReport> {
  const squashed = await squashImage(source, {
    wanted: isWanted,
    wantedContent: isWantedContent,
    keptContent: keptContentOf,
  });
  const layers: PackageLayer[] = squashed.layers.map((l) => ({
    index: l.index,
    digest: l.digest,
    diffId: l.diffId,
    ...(l.createdBy ? { createdBy: l.createdBy } : {}),
  }));
  const { os, packages } = await extractPackages(squashed.files);
  const scanned = await attributeLayers(packages, squashed, layers);
  const reference = options.reference ?? source.repoTags[0] ?? '';
  const digest = source.manifestDigest ?? source.configDigest;
  const base = baseLayers(source.config);
  const target: ScanTarget = {
    name: source.name,
    kind: source.kind,
    reference,
    digest,
    ...(source.manifestDigest ? { manifestDigest: source.manifestDigest } : {}),
    configDigest: source.configDigest,
    repoTags: source.repoTags,
    ...(source.config.architecture ? { architecture: source.config.architecture } : {}),
    ...(os ? { distro: distroName(os) } : {}),
    layers,
    ...(base ? { base } : {}),
  };
  return finish(target, os, scanned, source.config, options);
}

/**
 * A root filesystem or a source tree: the same analysis and matching, no layers and no image config. Without a
 * digest from the caller the target's digest is the content digest of the files (directoryDigest), so the asset,
 * the inventory and the SBOM name the same content the same way.
 */
export async function scanFiles(
  files: FileEntry[],
  target: { name: string; kind: 'rootfs' | 'fs'; digest?: string },
  options: ScanOptions,
): Promise<ScanReport> {
  const { os, packages } = await extractPackages(files);
  const digest = target.digest ?? (await directoryDigest(files));
  return finish(
    {
      name: target.name,
      kind: target.kind,
      reference: options.reference ?? '',
      digest,
      repoTags: [],
      ...(os ? { distro: distroName(os) } : {}),
      layers: [],
    },
    os,
    packages,
    undefined,
    options,
  );
}

async function finish(
  target: ScanTarget,
  os: OsRelease | null,
  packages: ScannedPackage[],
  config: ImageConfig | undefined,
  options: ScanOptions,
): Promise<ScanReport> {
  const now = (options.clock ?? (() => new Date()))();
  const db = await options.advisories.info();
  const matches = await matchPackages(packages, options.advisories, { ...options.enrichment, now });
  const asset = imageAsset({ cluster: options.cluster, reference: target.reference, digest: target.digest });
  const ctx: FindingContext = {
    asset,
    os,
    packages,
    now,
    ...(target.base ? { base: target.base } : {}),
    ...(db.updatedAt ? { dbUpdatedAt: db.updatedAt } : {}),
  };
  const findings = matches.map((m) => vulnerabilityFinding(m, ctx));
  if (config)
    findings.push(
      ...imageChecks({
        reference: target.reference,
        config,
        ...(options.allowedRegistries ? { allowedRegistries: options.allowedRegistries } : {}),
      }).map((o) => imageCheckFinding(o, ctx)),
    );
  // Two matches can only share an id when the same package is listed twice in one file; keep one.
  const unique = [...new Map(findings.map((f) => [f.id, f])).values()].sort((a, b) =>
    a.id < b.id ? -1 : a.id > b.id ? 1 : 0,
  );
  const used = new Set(packages.map((p) => p.foundBy.id));
  const units = [
    ...analyzers.filter((a) => used.has(a.id)).map((a) => ({ id: a.id, version: a.version })),
    MATCHER_UNIT,
    ...(config ? [IMAGE_CHECK_UNIT] : []),
  ];
  return { target, os, packages, matches, findings: unique, db, units };
}

export function distroName(os: OsRelease): string {
  return [os.id, os.version_id ?? os.version_codename].filter(Boolean).join(' ');
}

// A package came from the lowest layer whose copy of its database file already lists it at the installed
// version: an upgrade in a later layer is attributed to that later layer.
async function attributeLayers(
  packages: ScannedPackage[],
  squashed: SquashedImage,
  layers: PackageLayer[],
): Promise<ScannedPackage[]> {
  const seenIn = new Map<string, Promise<Set<string>[]>>();
  const listed = (location: string, foundBy: string) => {
    const key = `${foundBy}\0${location}`;
    let p = seenIn.get(key);
    if (!p) {
      const analyzer = analyzers.find((a) => a.id === foundBy);
      p = Promise.all(
        squashed.history(location).map(async (version) => {
          if (!analyzer || analyzer.kind !== 'packages') return new Set<string>();
          const one = await analyzer.analyze([version], { os: null, file: () => undefined }).catch(() => []);
          return new Set(one.map((x) => `${x.name}\0${x.version}`));
        }),
      );
      seenIn.set(key, p);
    }
    return p;
  };
  const out: ScannedPackage[] = [];
  for (const pkg of packages) {
    const history = squashed.history(pkg.location);
    const sets = await listed(pkg.location, pkg.foundBy.id);
    const first = sets.findIndex((s) => s.has(`${pkg.name}\0${pkg.version}`));
    const layerIndex = first >= 0 ? history[first]?.layer : squashed.file(pkg.location)?.layer;
    const layer = layerIndex === undefined ? undefined : layers[layerIndex];
    out.push(layer ? { ...pkg, layer } : pkg);
  }
  return out;
}

// The base image's layers end at its last CMD/ENTRYPOINT: the history entries after it are this image's own
// instructions. Without such a marker (or with it last) the split is unknown.
function baseLayers(config: ImageConfig): { name?: string; layers: number } | undefined {
  const history = config.history ?? [];
  const name = config.config?.Labels?.['org.opencontainers.image.base.name'];
  let marker = -1;
  for (let i = 0; i < history.length - 1; i++) {
    const h = history[i];
    if (h?.empty_layer && /\b(CMD|ENTRYPOINT)\b/.test(h.created_by ?? '')) marker = i;
  }
  if (marker < 0) return undefined;
  const layers = history.slice(0, marker + 1).filter((h) => !h.empty_layer).length;
  if (layers === 0 || layers >= (config.rootfs?.diff_ids?.length ?? 0)) return undefined;
  return { ...(name ? { name } : {}), layers };
}
