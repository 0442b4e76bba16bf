import {
  FindingReportedSchema,
  ImageSchema,
  BlobRefSchema,
  ImageTargetSchema,
  InstalledPackageSchema,
  InventoryObservedSchema,
  ScanStatus,
  ScannerKind,
  TargetKind,
  TargetSchema,
  UnitRefSchema,
  create,
  toJson,
  type Finding,
  type InstalledPackage,
  type ScanRequested,
} from '@vigil/contracts';
import {
  CachedAdvisoryStore,
  DirectoryError,
  ImageError,
  ROOTFS_SKIP,
  imageAsset,
  readDirectory,
  scanFiles,
  openImage,
  openRegistryImage,
  parseReference,
  purlType,
  scanImage,
  toCycloneDx,
  type AdvisoryStore,
  type ImageSource,
  type RegistryCredentials,
  type ScanReport,
} from '@vigil/image-scan';
import { type ScanEngine, type ScanResult } from '@vigil/nest-kit';
import { PostgresAdvisoryStore, type Sql } from '@vigil/store';
import { findingCounts } from '@vigil/report';
import { parsePullSecretOption, type RegistryAuth } from './registry-auth.js';

/** Replicas of the image-scanner share this group and split the partitions of scan.requests.image. */
export const IMAGE_SCANNER_GROUP = 'vigil.image-scanner';

export const SBOM_MEDIA_TYPE = 'application/vnd.cyclonedx+json';
export const PACKAGE_LIST_MEDIA_TYPE = 'application/vnd.vigil.installed-packages+json';

const MAX_LISTED_FILES = 50;

/** The packages of a scan as the report's InstalledPackage messages. */
export function installedPackages(report: ScanReport): InstalledPackage[] {
  return report.packages.map((p) =>
    create(InstalledPackageSchema, {
      package: {
        ecosystem: purlType(p.purl),
        name: p.name,
        version: p.version,
        purl: p.purl,
        sourceName: p.sourceName && p.sourceName !== p.name ? p.sourceName : '',
        sourceVersion: p.sourceVersion && p.sourceVersion !== p.version ? p.sourceVersion : '',
      },
      // The database or lockfile first; installed files capped, since some packages list thousands.
      locations: [
        `/${p.location}`,
        ...p.installedFiles.slice(0, MAX_LISTED_FILES).map((f) => (f.startsWith('/') ? f : `/${f}`)),
      ],
      layer: p.layer ? p.layer.index + 1 : 0,
      layerDiffId: p.layer?.diffId ?? '',
      foundBy: p.foundBy,
    }),
  );
}

export interface ImageScannerEngineOptions {
  sql: Sql | null;
  clock?: () => Date;
  allowedRegistries?: readonly string[];
  /** Reports of this many digests are kept, so a digest scanned against the same DB build is not read again. */
  cacheSize?: number;
  /** Stores the SBOM; the event carries its digest. */
  putBlob?: (content: Uint8Array, mediaType: string) => Promise<string>;
  /** Credentials for registry images: the request's pull secrets, else the service's auth file. */
  registryAuth?: RegistryAuth;
}

// Request options this scanner reads; any other key is rejected so a typo does not pass silently.
//   input: "rootfs" | "fs" — archive_path is a directory to read as a root filesystem or a source tree
//   platform: "os/arch[/variant]" of a multi-platform image;  insecure-registry: "true" for plain-http registries
//   pull-secrets: "namespace/name,..." imagePullSecrets to read the registry's credentials from (names only:
//   secret contents never go on the log)
const OPTION_KEYS = new Set(['input', 'platform', 'insecure-registry', 'pull-secrets']);

/**
 * The image-scanner's engine: reads the image (an archive path or a registry reference), matches its packages
 * against the advisory database in the service's Postgres, and reports one FindingReported per vulnerability per
 * package plus the image checks, and the image's inventory. Without a database the scan is UNAVAILABLE: packages
 * could be listed, but a vulnerability scan that matched nothing would read as a clean image.
 */
export function imageScannerEngine(options: ImageScannerEngineOptions): ScanEngine {
  // One cache per engine: every scan of this process matches against the same DB build.
  const advisories: AdvisoryStore | null = options.sql
    ? new CachedAdvisoryStore(new PostgresAdvisoryStore(options.sql))
    : null;
  const cache = new Map<string, ScanReport>();
  const cacheSize = options.cacheSize ?? 256;
  return {
    scanner: ScannerKind.IMAGE,
    name: 'image-scan',
    async scan(request) {
      if (!advisories)
        return {
          status: ScanStatus.UNAVAILABLE,
          error: 'image-scan needs the advisory database: the image-scanner has no DATABASE_URL',
        };
      try {
        await advisories.info();
      } catch (err) {
        return {
          status: ScanStatus.UNAVAILABLE,
          error: `image-scan cannot read the advisory database (${(err as Error).message}); run \`vigil db migrate\` and \`vigil db import\``,
        };
      }
      return scanRequest(request, advisories, cache, cacheSize, options);
    },
  };
}

async function scanRequest(
  request: ScanRequested,
  advisories: AdvisoryStore,
  cache: Map<string, ScanReport>,
  cacheSize: number,
  options: ImageScannerEngineOptions,
): Promise<ScanResult> {
  const target = request.target;
  if (target?.ref.case !== 'image')
    return {
      status: ScanStatus.FAILED,
      error: `scan ${request.scanId}: the image scanner needs an image target, got ${target?.ref.case ?? 'no target'}`,
    };
  const unknown = Object.keys(request.options).filter((k) => !OPTION_KEYS.has(k));
  if (unknown.length)
    return {
      status: ScanStatus.FAILED,
      error: `scan ${request.scanId}: unknown option(s) ${unknown.join(', ')} (the image scanner reads ${[...OPTION_KEYS].join(', ')})`,
    };
  const image = target.ref.value;
  const name = image.archivePath || image.ref;
  if (!name)
    return {
      status: ScanStatus.FAILED,
      error: `scan ${request.scanId}: the image target names no ref or archive`,
    };
  const input = request.options['input'];
  if (input !== undefined && input !== 'rootfs' && input !== 'fs')
    return {
      status: ScanStatus.FAILED,
      error: `scan ${request.scanId}: option input must be rootfs or fs, got "${input}"`,
    };
  if (input) {
    try {
      if ((await advisories.info()).records === 0) return emptyDatabase();
      const dir = await readDirectory(
        image.archivePath,
        input === 'rootfs' ? { skip: ROOTFS_SKIP } : { skipNames: ['.git'] },
      );
      const report = await scanFiles(
        dir.files,
        // No digest given: scanFiles uses the content digest of the files read, which then stands wherever an
        // image digest does (asset, inventory, SBOM identity).
        { name: image.archivePath, kind: input },
        {
          cluster: request.scope?.cluster ?? '',
          advisories,
          reference: image.archivePath,
          ...(options.clock ? { clock: options.clock } : {}),
        },
      );
      return await toResult(request, report, options);
    } catch (err) {
      if (err instanceof DirectoryError) return { status: ScanStatus.FAILED, error: err.message };
      throw err;
    }
  }
  const platform = request.options['platform'];
  // Checked before the image is read, so an empty database answers the same whatever the input.
  const db = await advisories.info();
  if (db.records === 0) return emptyDatabase();
  let source: ImageSource | undefined;
  let report: ScanReport;
  let credentials: RegistryCredentials | undefined;
  if (!image.archivePath && options.registryAuth) {
    let pullSecrets: string[];
    try {
      pullSecrets = parsePullSecretOption(request.options['pull-secrets'] ?? '');
    } catch (err) {
      return { status: ScanStatus.FAILED, error: `scan ${request.scanId}: ${(err as Error).message}` };
    }
    try {
      credentials = await options.registryAuth.credentials(parseReference(image.ref).registry, pullSecrets);
    } catch (err) {
      if (err instanceof ImageError) return { status: ScanStatus.FAILED, error: err.message };
      throw err;
    }
  }
  try {
    source = image.archivePath
      ? await openImage(image.archivePath, platform ? { platform } : {})
      : await openRegistryImage(image.digest ? `${image.ref.split('@')[0]}@${image.digest}` : image.ref, {
          ...(platform ? { platform } : {}),
          ...(request.options['insecure-registry'] === 'true' ? { insecure: true } : {}),
          ...(credentials ? { credentials } : {}),
        });
    const digest = source.manifestDigest ?? source.configDigest;
    const reference = image.ref || source.repoTags[0] || '';
    const key = `${request.scope?.cluster ?? ''}\0${reference}\0${digest}\0${db.build}`;
    const cached = cache.get(key);
    if (cached) {
      report = cached;
    } else {
      report = await scanImage(source, {
        cluster: request.scope?.cluster ?? '',
        advisories,
        reference,
        ...(options.clock ? { clock: options.clock } : {}),
        ...(options.allowedRegistries ? { allowedRegistries: options.allowedRegistries } : {}),
      });
      cache.set(key, report);
      if (cache.size > cacheSize) cache.delete(cache.keys().next().value as string);
    }
  } catch (err) {
    if (err instanceof ImageError) return { status: ScanStatus.FAILED, error: err.message };
    throw err;
  } finally {
    await source?.close().catch(() => undefined);
  }
  return toResult(request, report, options);
}

// An empty database would make every image look clean and resolve every earlier vulnerability finding.
function emptyDatabase(): ScanResult {
  return {
    status: ScanStatus.UNAVAILABLE,
    error:
      'the advisory database has no records: load one with `vigil db import <zip|dir>` or `vigil db update`',
  };
}

async function toResult(
  request: ScanRequested,
  report: ScanReport,
  options: ImageScannerEngineOptions,
): Promise<ScanResult> {
  const sbom = new TextEncoder().encode(
    toCycloneDx(
      {
        target: {
          name: report.target.reference || report.target.name,
          ...(report.target.kind === 'rootfs' || report.target.kind === 'fs'
            ? { directory: report.target.kind }
            : {}),
          repoTags: report.target.repoTags,
          ...(report.target.manifestDigest ? { manifestDigest: report.target.manifestDigest } : {}),
          configDigest: report.target.configDigest ?? report.target.digest,
          os: report.os,
          ...(report.target.architecture ? { architecture: report.target.architecture } : {}),
        },
        packages: report.packages,
        matches: report.matches,
      },
      options.clock ? { clock: options.clock } : {},
    ),
  );
  const packageList = new TextEncoder().encode(
    JSON.stringify(installedPackages(report).map((p) => toJson(InstalledPackageSchema, p))),
  );
  const store = async (content: Uint8Array, mediaType: string, role: string) => {
    if (!options.putBlob) return undefined;
    const digest = await options.putBlob(content, mediaType);
    return create(BlobRefSchema, { digest, mediaType, sizeBytes: BigInt(content.byteLength), role });
  };
  const sbomRef = await store(sbom, SBOM_MEDIA_TYPE, 'sbom');
  const listRef = await store(packageList, PACKAGE_LIST_MEDIA_TYPE, 'package-list');
  const inventory = create(InventoryObservedSchema, {
    scanId: request.scanId,
    ...(request.scope ? { scope: request.scope } : {}),
    items: [
      {
        item: {
          case: 'image',
          value: create(ImageSchema, {
            ref: report.target.reference,
            digest: report.target.digest,
            os: 'linux',
            architecture: report.target.architecture ?? '',
            distro: report.target.distro ?? '',
            ...(sbomRef ? { sbom: sbomRef } : {}),
          }),
        },
      },
    ],
  });
  const findings: Finding[] = report.findings;
  const scanned = create(TargetSchema, {
    kind: TargetKind.IMAGE,
    key: request.target?.key ?? '',
    ref: {
      case: 'image',
      value: create(ImageTargetSchema, {
        ref: report.target.reference,
        digest: report.target.digest,
        archivePath: request.target?.ref.case === 'image' ? request.target.ref.value.archivePath : '',
      }),
    },
  });
  return {
    status: ScanStatus.OK,
    error: '',
    target: scanned,
    units: report.units.map((u) => create(UnitRefSchema, u)),
    assets: [
      imageAsset({
        cluster: request.scope?.cluster ?? '',
        reference: report.target.reference,
        digest: report.target.digest,
      }),
    ],
    findingIds: findings.map((f) => f.id),
    counts: findingCounts(findings),
    blobs: [sbomRef, listRef].filter((b) => b !== undefined),
    events: [
      ...findings.map((finding) => ({
        payload: {
          case: 'findingReported' as const,
          value: create(FindingReportedSchema, { scanId: request.scanId, finding }),
        },
        subjectKey: finding.id,
      })),
      { payload: { case: 'inventoryObserved' as const, value: inventory }, subjectKey: report.target.digest },
    ],
  };
}
