// Matches and image checks → contracts Findings: the deterministic id, the image asset, the PCI DSS ids of the
// finding type, where the flaw sits (installed file, layer), its remediation and the evidence an assessor reads.
import {
  AssetKind,
  AssetSchema,
  FindingSchema,
  FindingSource,
  MatchType,
  Severity,
  create,
  findingId,
  timestampFromDate,
  type Asset,
  type Finding,
} from '@vigil/contracts';
import { requirementsFor } from '@vigil/pci';
import type { ExtractedPackage, OsRelease } from '../analyzers/analyzer.js';
import { purlType } from '../analyzers/purl.js';
import type { VulnerabilityMatch } from '../vulndb/match.types.js';
import { IMAGE_CHECK_UNIT, type ImageCheckOutcome } from './image-checks.js';
import { remediationFor } from './remediation.js';

/** The layer that brought a package or file into the image. */
export interface PackageLayer {
  index: number;
  digest: string;
  diffId: string;
  createdBy?: string;
}

export type ScannedPackage = ExtractedPackage & { layer?: PackageLayer };

export interface FindingContext {
  asset: Asset;
  os: OsRelease | null;
  packages: readonly ScannedPackage[];
  now: Date;
  /** Layers [0, baseLayers) came from the base image, when that is known. */
  base?: { name?: string; layers: number };
  /** Age of the advisory data, carried in every finding's evidence. */
  dbUpdatedAt?: Date;
}

export const MATCHER_UNIT = { id: 'osv-matcher', version: 1 };

// v4.0.1 6.3.3: critical fixes within one month of their release.
const CRITICAL_FIX_DAYS = 30;
const DAY_MS = 86_400_000;
const MAX_DESCRIPTION = 4000;
const MAX_FILES = 8;

export function imageAsset(input: { cluster: string; reference?: string; digest: string }): Asset {
  const ref = input.reference ?? '';
  const noDigest = ref.split('@')[0] ?? '';
  const colon = noDigest.lastIndexOf(':');
  const repository = colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
  return create(AssetSchema, {
    kind: AssetKind.IMAGE,
    cluster: input.cluster,
    name: repository,
    imageRef: ref,
    imageDigest: input.digest,
  });
}

/** The purl without version and qualifiers other than arch: the same package after an upgrade. */
export function packageIdentity(pkg: ExtractedPackage): string {
  const [head = '', query = ''] = pkg.purl.split('?');
  const at = head.lastIndexOf('@');
  const base = at > head.lastIndexOf('/') ? head.slice(0, at) : head;
  const arch = new URLSearchParams(query).get('arch');
  return arch ? `${base}?arch=${arch}` : base;
}

// The files of a package that carry its code: installed files that are not directories (dpkg lists those too) or
// documentation, shared libraries and executables first.
export function flawFiles(pkg: ExtractedPackage): string[] {
  const files = pkg.installedFiles.map((f) => (f.startsWith('/') ? f : `/${f}`));
  const set = new Set(files);
  const isDir = (f: string) => {
    for (const other of set) if (other.length > f.length && other.startsWith(`${f}/`)) return true;
    return false;
  };
  const docs = /^\/usr\/share\/(doc|man|info|lintian|locale|bug|licenses)\//;
  const code = files.filter((f) => !docs.test(f) && !isDir(f) && f !== '/.');
  const rank = (f: string) => (/\.so(\.|$)/.test(f) ? 0 : /\/s?bin\//.test(f) ? 1 : 2);
  return [...code].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0)).slice(0, MAX_FILES);
}

function pciFor(keys: string[]): string[] {
  const ids: string[] = [];
  for (const key of keys) {
    const r = requirementsFor(key);
    for (const id of [...r.primary, ...r.secondary]) if (!ids.includes(id)) ids.push(id);
  }
  return ids;
}

const ev = (key: string, value: string | undefined) => (value ? [{ key, value }] : []);

export function vulnerabilityFinding(m: VulnerabilityMatch, ctx: FindingContext): Finding {
  const pkg = m.package as ScannedPackage;
  const identity = `${packageIdentity(pkg)} ${pkg.location}`;
  const fixAgeDays =
    m.fixState === 'fixed' && m.fixPublished
      ? Math.floor((ctx.now.getTime() - m.fixPublished.getTime()) / DAY_MS)
      : undefined;
  const overdue =
    m.severity === Severity.CRITICAL && fixAgeDays !== undefined && fixAgeDays > CRITICAL_FIX_DAYS;
  const keys = ['image.vulnerable_package', ...(overdue ? ['image.unpatched_critical_over_30_days'] : [])];
  const fromBase =
    pkg.layer && ctx.base && pkg.layer.index < ctx.base.layers
      ? {
          ...(ctx.base.name ? { name: ctx.base.name } : {}),
          layer: pkg.layer.index,
          ...(pkg.layer.createdBy ? { createdBy: pkg.layer.createdBy } : {}),
        }
      : undefined;
  const remediation = remediationFor({
    package: pkg,
    ...(m.fixedVersion ? { fixedVersion: m.fixedVersion } : {}),
    siblings: ctx.packages,
    os: ctx.os,
    ...(fromBase ? { baseImage: fromBase } : {}),
  });
  const chosen = m.cvss.find((c) => m.severitySource === `cvss:${c.version}`) ?? m.cvss[0];
  const seen = timestampFromDate(ctx.now);
  const files = flawFiles(pkg);
  return create(FindingSchema, {
    id: findingId({
      source: FindingSource.IMAGE,
      ruleId: m.vulnerabilityId,
      asset: ctx.asset,
      location: identity,
    }),
    source: FindingSource.IMAGE,
    ruleId: m.vulnerabilityId,
    aliases: m.aliases,
    title: m.summary
      ? `${m.vulnerabilityId}: ${m.summary}`
      : `${m.vulnerabilityId} in ${pkg.name} ${pkg.version}`,
    description: m.details.length > MAX_DESCRIPTION ? `${m.details.slice(0, MAX_DESCRIPTION)}…` : m.details,
    severity: m.severity,
    ...(chosen
      ? {
          cvss: {
            version: chosen.version,
            vector: chosen.vector,
            score: chosen.score,
            source: chosen.source,
          },
        }
      : {}),
    pciRequirements: pciFor(keys),
    asset: ctx.asset,
    package: {
      ecosystem: purlType(pkg.purl),
      name: pkg.name,
      version: pkg.version,
      purl: pkg.purl,
      sourceName: pkg.sourceName && pkg.sourceName !== pkg.name ? pkg.sourceName : '',
      sourceVersion: pkg.sourceVersion && pkg.sourceVersion !== pkg.version ? pkg.sourceVersion : '',
      fixedVersion: m.fixedVersion ?? '',
    },
    locations: [...files, `/${pkg.location}`],
    remediation,
    evidence: [
      { key: 'package-identity', value: identity },
      { key: 'ecosystem', value: pkg.ecosystem },
      ...(pkg.layer
        ? [
            { key: 'layer', value: `${pkg.layer.index + 1} ${pkg.layer.diffId}` },
            ...ev('layer-created-by', pkg.layer.createdBy?.slice(0, 300)),
          ]
        : []),
      ...ev('base-image', fromBase ? (ctx.base?.name ?? 'base layers') : undefined),
      { key: 'severity-source', value: m.severitySource },
      ...m.vendorRatings.map((r) => ({ key: `rating:${r.source}`, value: r.rating })),
      ...m.cvss.map((c) => ({ key: `cvss:${c.source}:${c.version}`, value: `${c.score} ${c.vector}` })),
      { key: 'fix-state', value: m.fixState },
      ...ev('fix-published', m.fixPublished?.toISOString()),
      ...ev('fix-age-days', fixAgeDays === undefined ? undefined : String(fixAgeDays)),
      ...ev('published', m.published?.toISOString()),
      ...ev(
        'known-exploited',
        m.knownExploited
          ? `CISA KEV since ${m.knownExploited.dateAdded}${m.knownExploited.dueDate ? `, due ${m.knownExploited.dueDate}` : ''}${m.knownExploited.ransomware ? ', used in ransomware' : ''}`
          : undefined,
      ),
      ...ev(
        'epss',
        m.epss
          ? `${m.epss.score} (percentile ${m.epss.percentile}${m.epss.date ? `, ${m.epss.date}` : ''})`
          : undefined,
      ),
      ...ev('advisory-db-updated', ctx.dbUpdatedAt?.toISOString()),
      { key: 'pci-mapping-key', value: keys.join(',') },
    ],
    detection: {
      matchType: m.matchType === 'source' ? MatchType.SOURCE_PACKAGE : MatchType.DIRECT,
      unit: MATCHER_UNIT,
      record: m.records.join(', '),
      matchedRange: m.matchedRange,
    },
    firstSeen: seen,
    lastSeen: seen,
    references: m.references.slice(0, 10),
  });
}

export function imageCheckFinding(o: ImageCheckOutcome, ctx: FindingContext): Finding {
  const seen = timestampFromDate(ctx.now);
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.IMAGE, ruleId: o.ruleId, asset: ctx.asset, location: o.location }),
    source: FindingSource.IMAGE,
    ruleId: o.ruleId,
    title: o.title,
    description: `${ctx.asset.imageRef || ctx.asset.imageDigest}: ${o.message}.`,
    severity: o.severity,
    pciRequirements: pciFor([o.mappingKey]),
    asset: ctx.asset,
    locations: [o.location],
    remediation: o.remediation,
    evidence: [
      ...o.evidence.map(([key, value]) => ({ key, value })),
      { key: 'pci-mapping-key', value: o.mappingKey },
    ],
    detection: {
      matchType: MatchType.CHECK,
      unit: IMAGE_CHECK_UNIT,
      field: o.location,
      ...(o.evidence.find(([k]) => k === 'expected')
        ? { expected: o.evidence.find(([k]) => k === 'expected')?.[1] ?? '' }
        : {}),
      ...(o.evidence.find(([k]) => k === 'actual')
        ? { actual: o.evidence.find(([k]) => k === 'actual')?.[1] ?? '' }
        : {}),
    },
    firstSeen: seen,
    lastSeen: seen,
  });
}
