// Findings as one SARIF 2.1.0 run, in the form GitHub code scanning reads: one rule per ruleId, a level and a
// `security-severity` per rule and result, partialFingerprints from the finding id so an alert survives reruns.
//
// Locations. Config findings (libs/config-audit) carry `[field path, "file:line (document N[, item M])"]`: the
// manifest becomes the physical location (the line is where the document starts) and the resource and its field
// become logical locations. Image and host findings carry file paths inside the image or node root: the first is
// the result's location, the rest related locations, and the image (or node) is a logical location. Anything
// else is kept as a logical location so nothing a finding says is dropped.
//
// Output is a pure function of the findings and options: results sorted by (ruleId, finding id), rules by id.
import { isAbsolute, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  AssetKind,
  ExceptionKind,
  FindingSource,
  Severity,
  timestampDate,
  type Asset,
  type ExceptionUse,
  type Finding,
} from '@vigil/contracts';
import type {
  ArtifactLocation,
  LogicalLocation,
  ReportingDescriptor,
  SarifLevel,
  SarifLocation,
  SarifLog,
  SarifResult,
  SarifSuppression,
} from './sarif.types.js';

export type { ReportingDescriptor, SarifLevel, SarifLog, SarifResult, SarifRun } from './sarif.types.js';

export const SARIF_SCHEMA_URI =
  'https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json';

/** Version of vigil's use of SARIF (property names, fingerprint keys); bumped when their meaning changes. */
export const SARIF_OUTPUT_VERSION = 1;

/** The partialFingerprints key: a finding id is stable across scans of the same problem. */
export const FINGERPRINT_KEY = 'vigilFindingId/v1';

export const SRCROOT = 'SRCROOT';

export interface SarifOptions {
  toolName?: string;
  toolVersion: string;
  informationUri?: string;
  /**
   * A directory (absolute, e.g. the repository checkout): manifest paths under it are written relative to it with
   * uriBaseId SRCROOT, as code scanning wants; other absolute paths become file: URIs.
   */
  artifactBase?: string;
  /**
   * The deployment's evidence signing key fingerprint (vigil evidence key), put in run.properties so a reader of
   * the SARIF can compare it with the key the deployment published.
   */
  evidenceKeyFingerprint?: string;
  /**
   * The exceptions of the snapshot (ComplianceReport.exceptions): a finding one of them covers is written with an
   * accepted external suppression naming it, as it stops failing its requirements in the snapshot.
   */
  exceptions?: readonly ExceptionUse[];
}

const SEVERITY_WORD: Record<Severity, string> = {
  [Severity.UNSPECIFIED]: 'UNKNOWN',
  [Severity.CRITICAL]: 'CRITICAL',
  [Severity.HIGH]: 'HIGH',
  [Severity.MEDIUM]: 'MEDIUM',
  [Severity.LOW]: 'LOW',
  [Severity.UNKNOWN]: 'UNKNOWN',
};

export function sarifLevel(severity: Severity): SarifLevel {
  if (severity === Severity.CRITICAL || severity === Severity.HIGH) return 'error';
  if (severity === Severity.MEDIUM) return 'warning';
  return 'note';
}

// GitHub maps security-severity to its labels: >= 9.0 critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low.
const SEVERITY_BAND: Record<Severity, [number, number] | undefined> = {
  [Severity.CRITICAL]: [9.0, 10.0],
  [Severity.HIGH]: [7.0, 8.9],
  [Severity.MEDIUM]: [4.0, 6.9],
  [Severity.LOW]: [0.1, 3.9],
  [Severity.UNKNOWN]: undefined,
  [Severity.UNSPECIFIED]: undefined,
};
const BAND_DEFAULT: Partial<Record<Severity, number>> = {
  [Severity.CRITICAL]: 9.5,
  [Severity.HIGH]: 8.0,
  [Severity.MEDIUM]: 5.5,
  [Severity.LOW]: 2.0,
};

/**
 * The number GitHub shows as the alert's severity. The finding's own severity decides the band (it may come from
 * the distro rather than CVSS); the CVSS base score is used when it lies in that band, else the band's middle.
 * An unknown severity has none.
 */
export function securitySeverity(finding: Finding): string | undefined {
  const band = SEVERITY_BAND[finding.severity];
  if (!band) return undefined;
  const score = finding.cvss?.score;
  const n =
    score !== undefined && score >= band[0] && score <= band[1] ? score : BAND_DEFAULT[finding.severity]!;
  return n.toFixed(1);
}

/** PCI DSS ids in catalog order: numeric parts compare as numbers ("2.2.10" after "2.2.9"), "A1.1.2" after "12". */
export function comparePciIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (Number.isNaN(nx) !== Number.isNaN(ny)) {
      return Number.isNaN(nx) ? 1 : -1;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }
  return 0;
}

function sortedPci(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort(comparePciIds);
}

/** Requirement ids a finding supports without testing them. */
function supportingPci(f: Finding): string[] {
  return f.supportingPciRequirements;
}

const SOURCE_WORD: Record<FindingSource, string> = {
  [FindingSource.UNSPECIFIED]: 'unspecified',
  [FindingSource.IMAGE]: 'image',
  [FindingSource.CONFIG]: 'config',
  [FindingSource.RUNTIME]: 'runtime',
  [FindingSource.HOST]: 'host',
  [FindingSource.CORRELATED]: 'correlated',
};

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function severityRank(s: Severity): number {
  // Lower is worse; UNSPECIFIED ranks with UNKNOWN.
  return s === Severity.UNSPECIFIED ? Severity.UNKNOWN : s;
}

export function toSarif(findings: readonly Finding[], options: SarifOptions): SarifLog {
  if (!options.toolVersion) throw new Error('toSarif: options.toolVersion is required (the vigil version)');
  if (options.artifactBase !== undefined && !isAbsolute(options.artifactBase)) {
    throw new Error(`toSarif: artifactBase "${options.artifactBase}" is not an absolute directory`);
  }
  const ordered = [...findings].sort((a, b) => compareText(a.ruleId, b.ruleId) || compareText(a.id, b.id));
  const byRule = new Map<string, Finding[]>();
  for (const f of ordered) {
    if (!f.ruleId) throw new Error(`toSarif: finding ${f.id || '(no id)'} has no ruleId`);
    const group = byRule.get(f.ruleId) ?? [];
    group.push(f);
    byRule.set(f.ruleId, group);
  }
  const ruleIds = [...byRule.keys()];
  const rules = ruleIds.map((id) => ruleOf(id, byRule.get(id)!));
  const ruleIndex = new Map(ruleIds.map((id, i) => [id, i]));
  let usesBase = false;
  const covering = new Map<string, ExceptionUse[]>();
  for (const x of options.exceptions ?? [])
    for (const id of x.coveredFindingIds) covering.set(id, [...(covering.get(id) ?? []), x]);
  const results = ordered.map((f) => {
    const r = resultOf(f, ruleIndex.get(f.ruleId)!, options.artifactBase);
    usesBase ||= r.usesBase;
    const by = covering.get(f.id);
    if (by) r.result.suppressions = by.map(suppressionOf);
    return r.result;
  });

  const semver = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/.test(options.toolVersion);
  return {
    $schema: SARIF_SCHEMA_URI,
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: options.toolName ?? 'vigil',
            version: options.toolVersion,
            ...(semver ? { semanticVersion: options.toolVersion } : {}),
            ...(options.informationUri ? { informationUri: options.informationUri } : {}),
            rules,
          },
        },
        ...(usesBase && options.artifactBase
          ? { originalUriBaseIds: { [SRCROOT]: { uri: directoryUri(options.artifactBase) } } }
          : {}),
        results,
        columnKind: 'utf16CodeUnits',
        properties: {
          'vigil-sarif-version': SARIF_OUTPUT_VERSION,
          ...(options.evidenceKeyFingerprint
            ? { 'vigil-evidence-key-fingerprint': options.evidenceKeyFingerprint }
            : {}),
        },
      },
    ],
  };
}

function ruleOf(id: string, group: Finding[]): ReportingDescriptor {
  const first = group[0]!;
  const worst = group.reduce((w, f) => (severityRank(f.severity) < severityRank(w.severity) ? f : w), first);
  const pci = sortedPci(group.flatMap((f) => f.pciRequirements));
  const supporting = sortedPci(group.flatMap(supportingPci)).filter((p) => !pci.includes(p));
  const remediations = [...new Set(group.map((f) => f.remediation?.summary ?? '').filter(Boolean))].sort();
  const references = [...new Set(group.flatMap((f) => f.references))].sort();
  const pciLine = pci.length
    ? `PCI DSS v4.0.1 requirements: ${pci.join(', ')}.`
    : supporting.length
      ? `Supports PCI DSS v4.0.1 requirements: ${supporting.join(', ')}.`
      : '';
  const text = [
    remediations.length
      ? `Remediation: ${remediations.join(' / ')}`
      : `No remediation is recorded for ${id}.`,
    pciLine,
  ]
    .filter(Boolean)
    .join('\n\n');
  const markdown = [
    remediations.length
      ? `**Remediation**\n\n${remediations.map((r) => `- ${r}`).join('\n')}`
      : `No remediation is recorded for \`${id}\`.`,
    pci.length ? `**PCI DSS v4.0.1 requirements:** ${pci.join(', ')}` : '',
    supporting.length ? `**Supports PCI DSS v4.0.1 requirements:** ${supporting.join(', ')}` : '',
    references.length ? `**References**\n\n${references.map((r) => `- ${r}`).join('\n')}` : '',
  ]
    .filter(Boolean)
    .join('\n\n');
  const sources = [...new Set(group.map((f) => SOURCE_WORD[f.source]))].sort();
  const severity = securitySeverity(worst);
  return {
    id,
    shortDescription: { text: first.title || id },
    help: { text, markdown },
    ...(references[0] ? { helpUri: references[0] } : {}),
    defaultConfiguration: { level: sarifLevel(worst.severity) },
    properties: {
      tags: ['security', 'pci-dss', ...sources, ...pci.map((p) => `PCI-DSS-${p}`)],
      precision: 'high',
      ...(severity ? { 'security-severity': severity } : {}),
      'pci-dss-requirements': pci,
      ...(supporting.length ? { 'pci-dss-supporting-requirements': supporting } : {}),
    },
  };
}

// "path:line (document N)" or "path (document N, item M)", as config-audit writes its source location.
const MANIFEST_SOURCE = /^(.+?)(?::(\d+))? \(document (\d+)(?:, item (\d+))?\)$/;

function resultOf(
  f: Finding,
  ruleIndex: number,
  base: string | undefined,
): { result: SarifResult; usesBase: boolean } {
  let usesBase = false;
  const artifact = (path: string): ArtifactLocation => {
    const a = artifactOf(path, base);
    usesBase ||= a.uriBaseId === SRCROOT;
    return a;
  };
  const assetLocation = logicalAsset(f.asset);
  const locations: SarifLocation[] = [];
  const related: SarifLocation[] = [];

  if (f.source === FindingSource.CONFIG) {
    const [field, ...rest] = f.locations;
    const logical: LogicalLocation[] = [];
    if (assetLocation) logical.push(assetLocation);
    if (field) {
      logical.push({
        name: field,
        fullyQualifiedName: assetLocation?.fullyQualifiedName
          ? `${assetLocation.fullyQualifiedName}:${field}`
          : field,
        kind: 'property',
      });
    }
    const source = rest.map((r) => MANIFEST_SOURCE.exec(r)).find(Boolean);
    locations.push({
      ...(source
        ? {
            physicalLocation: {
              artifactLocation: artifact(source[1]!),
              ...(source[2] ? { region: { startLine: Number(source[2]) } } : {}),
            },
          }
        : {}),
      ...(logical.length ? { logicalLocations: logical } : {}),
    });
    for (const other of rest.filter((r) => !MANIFEST_SOURCE.test(r))) {
      related.push({ id: related.length + 1, logicalLocations: [{ name: other, kind: 'property' }] });
    }
  } else {
    const files = f.locations.filter(looksLikePath);
    const others = f.locations.filter((l) => !looksLikePath(l));
    const logical = [
      ...(assetLocation ? [assetLocation] : []),
      ...others.map((o): LogicalLocation => ({ name: o, kind: 'element' })),
    ];
    // Paths inside an image or a node's root, not on the machine reading the log: relative URIs, said where.
    const inside = (path: string): ArtifactLocation => ({
      uri: encodeURI(path.replace(/^\/+/, '')),
      ...(assetLocation ? { description: { text: `in ${assetLocation.fullyQualifiedName}` } } : {}),
    });
    const [primary, ...more] = files;
    locations.push({
      ...(primary ? { physicalLocation: { artifactLocation: inside(primary) } } : {}),
      ...(logical.length ? { logicalLocations: logical } : {}),
    });
    for (const p of more)
      related.push({ id: related.length + 1, physicalLocation: { artifactLocation: inside(p) } });
  }

  const severity = securitySeverity(f);
  const fix = f.remediation?.summary;
  const result: SarifResult = {
    ruleId: f.ruleId,
    ruleIndex,
    level: sarifLevel(f.severity),
    message: { text: `${f.description || f.title || f.ruleId}${fix ? ` Fix: ${fix}` : ''}` },
    locations,
    ...(related.length ? { relatedLocations: related } : {}),
    partialFingerprints: { [FINGERPRINT_KEY]: f.id },
    properties: resultProperties(f, severity),
  };
  return { result, usesBase };
}

function suppressionOf(x: ExceptionUse): SarifSuppression {
  const kind = x.kind === ExceptionKind.COMPENSATING_CONTROL ? 'compensating control' : 'accepted risk';
  return {
    kind: 'external',
    status: 'accepted',
    justification: `${kind} ${x.exceptionId} (owner ${x.owner}): ${x.justification}`,
    properties: {
      'vigil-exception-id': x.exceptionId,
      ...(x.expiresAt ? { expires: timestampDate(x.expiresAt).toISOString() } : {}),
      approvers: x.approvers.map((a) => a.name),
    },
  };
}

function resultProperties(f: Finding, severity: string | undefined): Record<string, unknown> {
  const p: Record<string, unknown> = {
    'vigil-finding-id': f.id,
    source: SOURCE_WORD[f.source],
    severity: SEVERITY_WORD[f.severity],
    ...(severity ? { 'security-severity': severity } : {}),
    'pci-dss-requirements': sortedPci(f.pciRequirements),
  };
  const supporting = supportingPci(f);
  if (supporting.length) p['pci-dss-supporting-requirements'] = sortedPci(supporting);
  if (f.aliases.length) p['aliases'] = [...f.aliases];
  if (f.cvss && f.cvss.vector) {
    p['cvss'] = {
      version: f.cvss.version,
      vector: f.cvss.vector,
      score: f.cvss.score,
      source: f.cvss.source,
    };
  }
  if (f.package) {
    p['package'] = {
      ecosystem: f.package.ecosystem,
      name: f.package.name,
      version: f.package.version,
      ...(f.package.purl ? { purl: f.package.purl } : {}),
      ...(f.package.fixedVersion ? { fixedVersion: f.package.fixedVersion } : {}),
    };
  }
  if (f.remediation?.patch) p['remediation-patch'] = f.remediation.patch;
  if (f.detection?.field) {
    p['detection'] = { field: f.detection.field, expected: f.detection.expected, actual: f.detection.actual };
  }
  return p;
}

function looksLikePath(s: string): boolean {
  return s.startsWith('/') || (/^[\w.@+-]+(\/[\w.@+~-]+)+$/.test(s) && !s.includes(' '));
}

function logicalAsset(asset: Asset | undefined): LogicalLocation | undefined {
  if (!asset) return undefined;
  if (asset.kind === AssetKind.IMAGE || asset.imageDigest || asset.imageRef) {
    const ref = asset.imageRef || asset.name;
    const fq = asset.imageDigest ? `${ref.replace(/@sha256:[0-9a-f]{64}$/, '')}@${asset.imageDigest}` : ref;
    return { name: ref, fullyQualifiedName: fq, kind: 'module' };
  }
  if (asset.kind === AssetKind.NODE || asset.node) {
    const node = asset.node || asset.name;
    return { name: node, fullyQualifiedName: `${asset.cluster}/node/${node}`, kind: 'module' };
  }
  const kind = asset.resourceKind || AssetKind[asset.kind];
  const key = [kind, asset.namespace, asset.name].filter(Boolean).join('/');
  return { name: key, fullyQualifiedName: `${asset.cluster}/${key}`, kind: 'resource' };
}

function artifactOf(path: string, base: string | undefined): ArtifactLocation {
  if (!isAbsolute(path)) return { uri: encodeURI(path) };
  if (base) {
    const rel = relative(base, path);
    if (rel && !rel.startsWith('..') && !isAbsolute(rel)) {
      return { uri: encodeURI(rel.split(sep).join('/')), uriBaseId: SRCROOT };
    }
  }
  return { uri: pathToFileURL(path).href };
}

function directoryUri(dir: string): string {
  const href = pathToFileURL(dir).href;
  return href.endsWith('/') ? href : `${href}/`;
}
