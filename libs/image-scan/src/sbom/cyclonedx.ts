// CycloneDX 1.6 JSON SBOM of one image, built with @cyclonedx/cyclonedx-library's models and serializer.
//
// Determinism: the same image (same digest, same packages, same matches) gives byte-identical output apart from
// metadata.timestamp. bom-refs are derived from purl and location, every list is sorted by the library's
// sortLists, the serial number is a name-based UUID of the image digest, and the timestamp comes from the clock.
//
// The library's ComponentEvidence model has no `occurrences` (CycloneDX 1.5+), so the installed files are added to
// the normalized JSON after the library has produced it; everything else is the library's output.
import { createHash } from 'node:crypto';
import { Enums, Models, Serialize, Spec, SPDX } from '@cyclonedx/cyclonedx-library';
import { PackageURL } from 'packageurl-js';
import { Severity } from '@vigil/contracts';
import type { ExtractedPackage, OsRelease } from '../analyzers/analyzer.js';
import type { CvssScore, VulnerabilityMatch } from '../vulndb/match.types.js';
import { imagePurl, imageReferenceOf } from './image-purl.js';

export interface SbomLayer {
  index: number;
  digest: string;
  diffId: string;
}

export type SbomPackage = ExtractedPackage & { layer?: SbomLayer };

export interface SbomTarget {
  /** The image as the user named it: a reference, an archive path; for a directory, its path. */
  name: string;
  /**
   * "rootfs" or "fs" for a directory target; configDigest is then its content digest (directoryDigest). Absent for
   * an image.
   */
  directory?: 'rootfs' | 'fs';
  repoTags: string[];
  /** "sha256:<hex>" of the manifest; absent for a local archive without one. */
  manifestDigest?: string;
  configDigest: string;
  os?: OsRelease | null;
  architecture?: string;
}

export interface SbomInput {
  target: SbomTarget;
  packages: SbomPackage[];
  /** When given, the SBOM carries a vulnerabilities section (a VDR). */
  matches?: VulnerabilityMatch[];
}

export interface SbomOptions {
  clock?: () => Date;
  /** vigil's version, recorded as the tool that wrote the SBOM. */
  toolVersion?: string;
}

/** Something the SBOM had to leave out, named so the caller can report it. */
export interface SbomProblem {
  package: string;
  location: string;
  problem: string;
}

export interface CycloneDxSbom {
  /** The serialized document (two-space indented JSON). */
  json: string;
  /** The same document, parsed. */
  document: Record<string, unknown>;
  problems: SbomProblem[];
}

/** Property names in the `vigil:` namespace (CycloneDX property taxonomy style, as Trivy's `aquasecurity:trivy:`). */
export const SBOM_PROPERTY = {
  location: 'vigil:package:location',
  lines: 'vigil:package:lines',
  ecosystem: 'vigil:package:ecosystem',
  sourceName: 'vigil:package:source_name',
  sourceVersion: 'vigil:package:source_version',
  epoch: 'vigil:package:epoch',
  arch: 'vigil:package:arch',
  relationship: 'vigil:package:relationship',
  dev: 'vigil:package:dev',
  transitional: 'vigil:package:transitional',
  foundBy: 'vigil:package:found_by',
  layerIndex: 'vigil:layer:index',
  layerDigest: 'vigil:layer:digest',
  layerDiffId: 'vigil:layer:diff_id',
  imageConfigDigest: 'vigil:image:config_digest',
  imageManifestDigest: 'vigil:image:manifest_digest',
  imageRepoTag: 'vigil:image:repo_tag',
  directoryKind: 'vigil:directory:kind',
  directoryContentDigest: 'vigil:directory:content_digest',
  severity: 'vigil:vulnerability:severity',
  severitySource: 'vigil:vulnerability:severity_source',
  fixState: 'vigil:vulnerability:fix_state',
  fixedVersion: 'vigil:vulnerability:fixed_version',
  fixPublished: 'vigil:vulnerability:fix_published',
  matchedRange: 'vigil:vulnerability:matched_range',
  matchType: 'vigil:vulnerability:match_type',
  record: 'vigil:vulnerability:record',
  kevDateAdded: 'vigil:vulnerability:kev_date_added',
  epssScore: 'vigil:vulnerability:epss_score',
  epssPercentile: 'vigil:vulnerability:epss_percentile',
} as const;

const OS_PURL_TYPES = new Set(['deb', 'apk', 'rpm', 'alpm']);

const spec = Spec.Spec1dot6;
const serializer = new Serialize.JsonSerializer(new Serialize.JSON.Normalize.Factory(spec));

/** The SBOM as a JSON string; see cycloneDxSbom for the problems it had to work around. */
export function toCycloneDx(input: SbomInput, options: SbomOptions = {}): string {
  return cycloneDxSbom(input, options).json;
}

export function cycloneDxSbom(input: SbomInput, options: SbomOptions = {}): CycloneDxSbom {
  const { target } = input;
  const digest = target.manifestDigest ?? target.configDigest;
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
    const what = target.directory ? 'directory content digest' : 'image digest';
    throw new Error(`SBOM for ${target.name}: ${what} "${digest}" is not sha256:<64 hex>`);
  }
  const problems: SbomProblem[] = [];
  const bom = new Models.Bom();
  bom.serialNumber = serialNumberOf(digest, target.directory ? 'directory' : 'image');
  bom.metadata.timestamp = (options.clock ?? (() => new Date()))();
  bom.metadata.tools.components.add(
    new Models.Component(Enums.ComponentType.Application, 'vigil', {
      ...(options.toolVersion ? { version: options.toolVersion } : {}),
    }),
  );

  const image = target.directory ? directoryComponent(target, digest) : imageComponent(target, digest);
  bom.metadata.component = image;

  const os = target.os ? osComponent(target.os) : undefined;
  if (os) {
    bom.components.add(os);
    image.dependencies.add(os.bomRef);
  }

  const occurrences = new Map<string, { location: string; line?: number }[]>();
  const byIdentity = new Map<string, Models.Component>();
  const packages = sortPackages(input.packages);
  const usedRefs = new Set<string>([image.bomRef.value!, ...(os ? [os.bomRef.value!] : [])]);
  const byLocation = new Map<string, { pkg: SbomPackage; component: Models.Component }[]>();

  for (const pkg of packages) {
    const purl = normalizePurl(pkg, problems);
    const base = `${purl ?? `${pkg.ecosystem}/${pkg.name}@${pkg.version}`}#${pkg.location}`;
    let ref = base;
    for (let n = 2; usedRefs.has(ref); n++) ref = `${base}#${n}`;
    usedRefs.add(ref);
    const component = packageComponent(pkg, ref, purl);
    bom.components.add(component);
    occurrences.set(ref, occurrencesOf(pkg));
    const identity = identityOf(pkg);
    if (!byIdentity.has(identity)) byIdentity.set(identity, component);
    const group = byLocation.get(pkg.location) ?? [];
    group.push({ pkg, component });
    byLocation.set(pkg.location, group);
  }
  linkDependencies(image, os, byLocation);

  for (const match of input.matches ?? []) {
    const component = byIdentity.get(identityOf(match.package));
    if (!component) {
      throw new Error(
        `SBOM for ${target.name}: match ${match.vulnerabilityId} names ${match.package.name}@${match.package.version} ` +
          `at ${match.package.location}, which is not among the image's packages`,
      );
    }
    bom.vulnerabilities.add(vulnerabilityOf(match, component));
  }

  const document = JSON.parse(serializer.serialize(bom, { sortLists: true })) as Record<string, unknown>;
  addOccurrences(document, occurrences);
  return { json: `${JSON.stringify(document, null, 2)}\n`, document, problems };
}

function imageComponent(target: SbomTarget, digest: string): Models.Component {
  const reference = imageReferenceOf(target.name, target.repoTags);
  const image = new Models.Component(Enums.ComponentType.Container, reference?.repository ?? target.name, {
    bomRef: imagePurl(target.name, reference, digest, target.architecture),
    purl: imagePurl(target.name, reference, digest, target.architecture),
    version: digest,
  });
  image.properties.add(new Models.Property(SBOM_PROPERTY.imageConfigDigest, target.configDigest));
  if (target.manifestDigest) {
    image.properties.add(new Models.Property(SBOM_PROPERTY.imageManifestDigest, target.manifestDigest));
  }
  for (const tag of target.repoTags)
    image.properties.add(new Models.Property(SBOM_PROPERTY.imageRepoTag, tag));
  return image;
}

/**
 * A directory (`vigil scan fs|rootfs`) is described as itself, as Syft does for a directory source: a CycloneDX
 * `file` component named by its path, with no purl (no purl type names a local directory) and no image
 * properties. `container` would claim an image that does not exist, and `operating-system` would stand for the
 * OS, which a root filesystem with an os-release already gets as its own component below this one; `file` is
 * the 1.6 type for what was read from disk. Its version and bom-ref carry the content digest, so the same
 * content gives the same SBOM identity wherever the directory sits.
 */
function directoryComponent(target: SbomTarget, digest: string): Models.Component {
  const dir = new Models.Component(Enums.ComponentType.File, target.name, {
    bomRef: `directory:${target.directory}:${digest}`,
    version: digest,
  });
  dir.properties.add(new Models.Property(SBOM_PROPERTY.directoryKind, target.directory!));
  dir.properties.add(new Models.Property(SBOM_PROPERTY.directoryContentDigest, digest));
  return dir;
}

/**
 * RFC 4122 version 5 (name-based) UUID of the target's digest in the URL namespace: the same image (or directory
 * content), the same serial. Directories hash under their own name so they never share an image's serial.
 */
export function serialNumberOf(digest: string, kind: 'image' | 'directory' = 'image'): string {
  const urlNamespace = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');
  const hash = createHash('sha1').update(urlNamespace).update(`urn:vigil:${kind}:${digest}`).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function osComponent(os: OsRelease): Models.Component | undefined {
  if (!os.id) return undefined;
  const component = new Models.Component(Enums.ComponentType.OperatingSystem, os.id, {
    bomRef: `os:${os.id}${os.version_id ? `@${os.version_id}` : ''}`,
    ...(os.version_id ? { version: os.version_id } : {}),
    ...(os.pretty_name ? { description: os.pretty_name } : {}),
  });
  if (os.version_codename)
    component.properties.add(new Models.Property('vigil:os:codename', os.version_codename));
  if (os.cpe_name) component.cpe = os.cpe_name;
  return component;
}

function sortPackages(packages: SbomPackage[]): SbomPackage[] {
  const key = (p: SbomPackage) =>
    [p.purl, p.location, p.name, p.version, p.layer?.index ?? -1, p.installedFiles.join('\n')].join('\u0000');
  return [...packages].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The analyzer's purl, parsed and re-serialized by packageurl-js; undefined (and a problem) when it does not parse. */
function normalizePurl(pkg: SbomPackage, problems: SbomProblem[]): string | undefined {
  if (!pkg.purl) {
    problems.push({ package: `${pkg.name}@${pkg.version}`, location: pkg.location, problem: 'no purl' });
    return undefined;
  }
  try {
    return PackageURL.fromString(pkg.purl).toString();
  } catch (err) {
    problems.push({
      package: `${pkg.name}@${pkg.version}`,
      location: pkg.location,
      problem: `purl "${pkg.purl}" does not parse: ${(err as Error).message}`,
    });
    return undefined;
  }
}

function identityOf(p: ExtractedPackage): string {
  return [p.purl, p.location, p.name, p.version].join('\u0000');
}

function packageComponent(pkg: SbomPackage, ref: string, purl: string | undefined): Models.Component {
  const type = pkg.relationship === 'root' ? Enums.ComponentType.Application : Enums.ComponentType.Library;
  const parsed = purl ? PackageURL.fromString(purl) : undefined;
  const component = new Models.Component(type, pkg.name, {
    bomRef: ref,
    version: pkg.version,
    ...(purl ? { purl } : {}),
    // Maven, npm scopes, Go module paths: the purl namespace is CycloneDX's group. OS vendors are not a group.
    ...(parsed?.namespace && !OS_PURL_TYPES.has(parsed.type) ? { group: parsed.namespace } : {}),
    ...(pkg.dev ? { scope: Enums.ComponentScope.Optional } : {}),
  });
  for (const license of licensesOf(pkg.licenses ?? [])) component.licenses.add(license);
  const props: [string, string | undefined][] = [
    [SBOM_PROPERTY.location, pkg.location],
    [SBOM_PROPERTY.lines, pkg.lines ? `${pkg.lines[0]}-${pkg.lines[1]}` : undefined],
    [SBOM_PROPERTY.ecosystem, pkg.ecosystem || undefined],
    [SBOM_PROPERTY.sourceName, pkg.sourceName],
    [SBOM_PROPERTY.sourceVersion, pkg.sourceVersion],
    [SBOM_PROPERTY.epoch, pkg.epoch === undefined ? undefined : String(pkg.epoch)],
    [SBOM_PROPERTY.arch, pkg.arch],
    [SBOM_PROPERTY.relationship, pkg.relationship],
    [SBOM_PROPERTY.dev, pkg.dev ? 'true' : undefined],
    [SBOM_PROPERTY.transitional, pkg.transitional ? 'true' : undefined],
    [SBOM_PROPERTY.foundBy, `${pkg.foundBy.id}@${pkg.foundBy.version}`],
    [SBOM_PROPERTY.layerIndex, pkg.layer ? String(pkg.layer.index) : undefined],
    [SBOM_PROPERTY.layerDigest, pkg.layer?.digest],
    [SBOM_PROPERTY.layerDiffId, pkg.layer?.diffId],
  ];
  for (const [name, value] of props) {
    if (value !== undefined && value !== '') component.properties.add(new Models.Property(name, value));
  }
  return component;
}

/**
 * The schema allows either license objects or one expression, never both: a lone expression stays one, anything
 * else becomes SPDX ids where the library knows the id and named licenses otherwise.
 */
function licensesOf(licenses: string[]): Models.License[] {
  const clean = [...new Set(licenses.map((l) => l.trim()).filter(Boolean))];
  if (clean.length === 1 && /\s(AND|OR|WITH)\s/.test(clean[0]!))
    return [new Models.LicenseExpression(clean[0]!)];
  return clean.map((l) => {
    const id = SPDX.fixupSpdxId(l);
    return id ? new Models.SpdxLicense(id) : new Models.NamedLicense(l);
  });
}

function occurrencesOf(pkg: SbomPackage): { location: string; line?: number }[] {
  if (pkg.installedFiles.length)
    return [...pkg.installedFiles].sort().map((f) => ({ location: absolute(f) }));
  // A lockfile entry: the evidence is where the file declares it.
  return [{ location: absolute(pkg.location), ...(pkg.lines ? { line: pkg.lines[0] } : {}) }];
}

function absolute(path: string): string {
  return path.startsWith('/') ? path : `/${path}`;
}

/**
 * The analyzers report each package's relationship to its project, not edges between packages, so the graph
 * holds only what that says: the image contains the OS and each project's root (or, without one, its direct
 * dependencies and packages of unknown relationship); the OS contains the OS packages; a project root depends on
 * its direct dependencies. Indirect dependencies get no incoming edge: who pulls them in is not known.
 */
function linkDependencies(
  image: Models.Component,
  os: Models.Component | undefined,
  byLocation: Map<string, { pkg: SbomPackage; component: Models.Component }[]>,
): void {
  for (const group of byLocation.values()) {
    const roots = group.filter((g) => g.pkg.relationship === 'root');
    for (const { pkg, component } of group) {
      const isOs = OS_PURL_TYPES.has(component.purl ? PackageURL.fromString(component.purl).type : '');
      if (isOs) {
        (os ?? image).dependencies.add(component.bomRef);
      } else if (pkg.relationship === 'root') {
        image.dependencies.add(component.bomRef);
      } else if (pkg.relationship === 'direct') {
        if (roots.length) for (const r of roots) r.component.dependencies.add(component.bomRef);
        else image.dependencies.add(component.bomRef);
      } else if (pkg.relationship !== 'indirect' && !roots.length) {
        image.dependencies.add(component.bomRef);
      }
    }
  }
}

const RATING_METHOD: Record<string, Enums.Vulnerability.RatingMethod> = {
  '2.0': Enums.Vulnerability.RatingMethod.CVSSv2,
  '3.0': Enums.Vulnerability.RatingMethod.CVSSv3,
  '3.1': Enums.Vulnerability.RatingMethod.CVSSv31,
  '4.0': Enums.Vulnerability.RatingMethod.CVSSv4,
};

/** Qualitative severity of a CVSS base score (the same bands in v2 for high/medium/low, v3 and v4). */
function severityOfScore(s: CvssScore): Enums.Vulnerability.Severity {
  const S = Enums.Vulnerability.Severity;
  if (s.version === '2.0') return s.score >= 7 ? S.High : s.score >= 4 ? S.Medium : S.Low;
  if (s.score === 0) return S.None;
  return s.score >= 9 ? S.Critical : s.score >= 7 ? S.High : s.score >= 4 ? S.Medium : S.Low;
}

/** A distro's rating word in CycloneDX terms ("unimportant", "negligible" are informational). */
function severityOfWord(word: string): Enums.Vulnerability.Severity {
  const S = Enums.Vulnerability.Severity;
  const w = word.toLowerCase();
  if (w === 'critical') return S.Critical;
  if (w === 'high' || w === 'important') return S.High;
  if (w === 'medium' || w === 'moderate') return S.Medium;
  if (w === 'low') return S.Low;
  if (w === 'negligible' || w === 'unimportant' || w === 'info') return S.Info;
  return S.Unknown;
}

function sourceOf(id: string): Models.Vulnerability.Source {
  if (id.startsWith('CVE-'))
    return new Models.Vulnerability.Source({ name: 'NVD', url: `https://nvd.nist.gov/vuln/detail/${id}` });
  if (id.startsWith('GHSA-'))
    return new Models.Vulnerability.Source({ name: 'GitHub', url: `https://github.com/advisories/${id}` });
  return new Models.Vulnerability.Source({
    name: 'OSV',
    url: `https://osv.dev/vulnerability/${encodeURIComponent(id)}`,
  });
}

const FIX_STATE_WORDS: Record<VulnerabilityMatch['fixState'], string> = {
  fixed: 'fixed',
  no_fix: 'no fixed version released',
  will_not_fix: 'will not fix',
  deferred: 'fix deferred',
  affected: 'affected, no fixed version released',
  unknown: 'status unknown',
};

function vulnerabilityOf(
  m: VulnerabilityMatch,
  component: Models.Component,
): Models.Vulnerability.Vulnerability {
  const V = Models.Vulnerability;
  const v = new V.Vulnerability({
    bomRef: `${m.vulnerabilityId}@${component.bomRef.value}`,
    id: m.vulnerabilityId,
    source: sourceOf(m.vulnerabilityId),
    ...(m.summary ? { description: m.summary } : {}),
    ...(m.details ? { detail: m.details } : {}),
    recommendation: m.fixedVersion
      ? `Upgrade ${m.package.name} to ${m.fixedVersion}`
      : `No fix yet (${FIX_STATE_WORDS[m.fixState]})`,
    ...(m.published ? { published: m.published } : {}),
    ...(m.modified ? { updated: m.modified } : {}),
  });
  for (const alias of m.aliases) v.references.add(new V.Reference(alias, sourceOf(alias)));
  for (const url of m.references) if (/^https?:\/\//.test(url)) v.advisories.add(new V.Advisory(url));
  for (const s of m.cvss) {
    v.ratings.add(
      new V.Rating({
        source: new V.Source({ name: s.source }),
        score: s.score,
        severity: severityOfScore(s),
        method: RATING_METHOD[s.version] ?? Enums.Vulnerability.RatingMethod.Other,
        vector: s.vector,
      }),
    );
  }
  for (const r of m.vendorRatings) {
    v.ratings.add(
      new V.Rating({
        source: new V.Source({ name: r.source }),
        severity: severityOfWord(r.rating),
        method: Enums.Vulnerability.RatingMethod.Other,
        justification: `${r.source} rates it "${r.rating}"`,
      }),
    );
  }
  const affect = new V.Affect(component.bomRef);
  affect.versions.add(
    new V.AffectedSingleVersion(m.package.version, { status: Enums.Vulnerability.AffectStatus.Affected }),
  );
  if (m.fixedVersion) {
    affect.versions.add(
      new V.AffectedSingleVersion(m.fixedVersion, { status: Enums.Vulnerability.AffectStatus.Unaffected }),
    );
  }
  v.affects.add(affect);
  const R = Enums.Vulnerability.AnalysisResponse;
  const response =
    m.fixState === 'fixed' ? R.Update : m.fixState === 'will_not_fix' ? R.WillNotFix : R.CanNotFix;
  // No state: without reachability analysis the scanner cannot say exploitable or not, only what can be done.
  v.analysis = new V.Analysis({
    detail: m.fixedVersion
      ? `fixed in ${m.fixedVersion}`
      : `no fixed version; status: ${FIX_STATE_WORDS[m.fixState]}`,
  });
  v.analysis.response.add(response);
  const props: [string, string | undefined][] = [
    [SBOM_PROPERTY.severity, Severity[m.severity]],
    [SBOM_PROPERTY.severitySource, m.severitySource],
    [SBOM_PROPERTY.fixState, m.fixState],
    [SBOM_PROPERTY.fixedVersion, m.fixedVersion],
    [SBOM_PROPERTY.fixPublished, m.fixPublished?.toISOString()],
    [SBOM_PROPERTY.matchedRange, m.matchedRange],
    [SBOM_PROPERTY.matchType, m.matchType],
    [SBOM_PROPERTY.kevDateAdded, m.knownExploited?.dateAdded],
    [SBOM_PROPERTY.epssScore, m.epss ? String(m.epss.score) : undefined],
    [SBOM_PROPERTY.epssPercentile, m.epss ? String(m.epss.percentile) : undefined],
  ];
  for (const [name, value] of props) {
    if (value !== undefined && value !== '') v.properties.add(new Models.Property(name, value));
  }
  for (const record of m.records) v.properties.add(new Models.Property(SBOM_PROPERTY.record, record));
  return v;
}

function addOccurrences(
  document: Record<string, unknown>,
  occurrences: Map<string, { location: string; line?: number }[]>,
): void {
  for (const c of (document['components'] ?? []) as Record<string, unknown>[]) {
    const found = occurrences.get(c['bom-ref'] as string);
    if (!found?.length) continue;
    c['evidence'] = { ...((c['evidence'] as object | undefined) ?? {}), occurrences: found };
  }
}
