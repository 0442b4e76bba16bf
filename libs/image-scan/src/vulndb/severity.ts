// Every source's severity for one match (the distro's rating, each CVSS vector scored, the advisory database's
// own word) and the policy that picks the finding's severity from them.
import cvss from 'ae-cvss-calculator';
import { Severity } from '@vigil/contracts';
import type { CvssScore, VendorRating } from './match.types.js';
import type { OsvRecord, OsvRecordAffected, OsvSeverity } from './osv-record.js';

/**
 * Which source sets a finding's severity, tried in order until one gives a rating:
 * - `distro`: the distribution's own rating (Debian urgency, Ubuntu priority), the highest when merged records
 *   disagree; only for OS packages, because a distro rates the flaw as it ships it (backports, build flags).
 * - `cvss:4.0`, `cvss:3`: the highest base score among the vectors of that version (3.0 and 3.1 together).
 * - `advisory`: the advisory database's own word without a vector (GitHub's `database_specific.severity`,
 *   Bitnami's).
 * - `cvss:2`: last, because v2 scores run high and have no "critical".
 * Nothing applicable gives UNKNOWN with source "none".
 */
export const SEVERITY_POLICY = {
  os: ['distro', 'cvss:4.0', 'cvss:3', 'advisory', 'cvss:2'],
  language: ['cvss:4.0', 'cvss:3', 'advisory', 'cvss:2'],
} as const satisfies Record<'os' | 'language', readonly string[]>;

type SeverityStep = (typeof SEVERITY_POLICY)['os'][number];

/** The database a record id belongs to, as a finding names who scored or rated it. */
export function databaseOf(id: string): string {
  const prefixes: [RegExp, string][] = [
    [/^GHSA-/, 'ghsa'],
    [/^(USN|UBUNTU|LSN)-/, 'ubuntu'],
    [/^(DSA|DLA|DTSA|DEBIAN)-/, 'debian'],
    [/^PYSEC-/, 'pypa'],
    [/^GO-/, 'go'],
    [/^RUSTSEC-/, 'rustsec'],
    [/^(ALSA|ALBA|ALEA)-/, 'almalinux'],
    [/^(RLSA|RLBA|RLEA|RXSA)-/, 'rocky'],
    [/^(RHSA|RHBA|RHEA)-/, 'redhat'],
    [/^ALPINE-/, 'alpine'],
    [/^CGA-/, 'chainguard'],
    [/^BIT-/, 'bitnami'],
    [/^ROOT-/, 'root'],
    [/^(SUSE|openSUSE)-/, 'suse'],
    [/^MGASA-/, 'mageia'],
    [/^CVE-/, 'nvd'],
  ];
  for (const [re, name] of prefixes) if (re.test(id)) return name;
  return id.split('-')[0]!.toLowerCase();
}

const cvssCache = new Map<string, CvssScore | null>();

/** Scores one vector; undefined when the library cannot parse it (a bad vector is not a severity). */
export function scoreCvss(vector: string, source: string): CvssScore | undefined {
  const v = vector.trim();
  let scored = cvssCache.get(v);
  if (scored === undefined) {
    scored = null;
    try {
      const parsed = cvss.fromVector(v);
      if (parsed) {
        const name = parsed.getVectorName(); // "CVSS:3.1"
        const base = parsed.calculateScores().base;
        if (typeof base === 'number' && Number.isFinite(base))
          scored = { version: name.replace(/^CVSS:/, ''), vector: v, score: base, source: '' };
      }
    } catch {
      scored = null;
    }
    if (cvssCache.size > 50_000) cvssCache.clear();
    cvssCache.set(v, scored);
  }
  return scored ? { ...scored, source } : undefined;
}

/** The qualitative rating of a CVSS base score, per each version's specification. */
export function cvssSeverity(score: CvssScore): Severity {
  if (score.version.startsWith('2'))
    return score.score >= 7 ? Severity.HIGH : score.score >= 4 ? Severity.MEDIUM : Severity.LOW;
  if (score.score >= 9) return Severity.CRITICAL;
  if (score.score >= 7) return Severity.HIGH;
  if (score.score >= 4) return Severity.MEDIUM;
  return Severity.LOW;
}

/** A distro's or database's word as a severity; undefined for "not yet assigned", "untriaged" and the like. */
export function ratingSeverity(rating: string): Severity | undefined {
  switch (rating.trim().toLowerCase()) {
    case 'critical':
      return Severity.CRITICAL;
    case 'high':
    case 'important':
      return Severity.HIGH;
    case 'medium':
    case 'moderate':
      return Severity.MEDIUM;
    case 'low':
    case 'negligible':
    case 'unimportant':
      return Severity.LOW;
    default:
      return undefined;
  }
}

const RPM_ADVISORY = /^(RHSA|RHBA|RHEA|ALSA|ALBA|ALEA|RLSA|RLBA|RLEA|RXSA|ELSA)-/;
const IMPACT_PREFIX = /^(Critical|Important|Moderate|Low):/;

const isCvssType = (t: string | undefined) => t === undefined || /^CVSS_V[234]$/.test(t);

function vectorsOf(list: readonly OsvSeverity[] | undefined, source: string, out: CvssScore[]): void {
  for (const s of list ?? []) {
    if (!isCvssType(s.type)) continue;
    // Typeless entries hold either a vector or a word (an Ubuntu priority in API copies).
    if (s.type === undefined && !/^(CVSS:|AV:)/.test(s.score)) continue;
    const scored = scoreCvss(s.score, source);
    if (scored) out.push(scored);
  }
}

function wordsOf(list: readonly OsvSeverity[] | undefined): string[] {
  return (list ?? [])
    .filter((s) => s.type === 'Ubuntu' || (s.type === undefined && !/^(CVSS:|AV:)/.test(s.score)))
    .map((s) => s.score);
}

interface CvesMapEntry {
  id?: unknown;
  severity?: unknown;
  priority?: unknown;
}

/** Ubuntu notices carry each CVE's vectors and priority in affected[].database_specific.cves_map. */
function cvesMap(a: OsvRecordAffected): CvesMapEntry[] {
  const m = a.database_specific?.['cves_map'] as { cves?: unknown } | undefined;
  return Array.isArray(m?.cves) ? (m.cves as CvesMapEntry[]) : [];
}

export interface SeverityEvidence {
  cvss: CvssScore[];
  vendorRatings: VendorRating[];
  /** Ratings of the advisory database without a vector (GHSA's word). */
  advisoryRatings: VendorRating[];
}

/**
 * What one record says about severity, from the affected[] entries that matched. `cve` narrows an Ubuntu
 * notice's cves_map to the CVE the match is about; `distro` says whether distro ratings apply.
 */
export function severityEvidence(
  record: OsvRecord,
  entries: readonly OsvRecordAffected[],
  cve: string | undefined,
  distro: boolean,
  into: SeverityEvidence,
): void {
  const source = databaseOf(record.id);
  vectorsOf(record.severity, source, into.cvss);
  for (const a of entries) {
    vectorsOf(a.severity, source, into.cvss);
    for (const c of cvesMap(a)) {
      if (cve && c.id !== cve) continue;
      const sev = Array.isArray(c.severity) ? (c.severity as OsvSeverity[]) : [];
      vectorsOf(sev, source, into.cvss);
      if (distro) {
        for (const w of wordsOf(sev)) into.vendorRatings.push({ source, rating: w });
        if (typeof c.priority === 'string') into.vendorRatings.push({ source, rating: c.priority });
      }
    }
    if (!distro) continue;
    const es = a.ecosystem_specific ?? {};
    if (typeof es['urgency'] === 'string')
      into.vendorRatings.push({ source: 'debian', rating: es['urgency'] });
    if (typeof es['ubuntu_priority'] === 'string')
      into.vendorRatings.push({ source: 'ubuntu', rating: es['ubuntu_priority'] });
  }
  if (distro) for (const w of wordsOf(record.severity)) into.vendorRatings.push({ source, rating: w });
  // Red Hat and its rebuilds give the advisory's impact only as the summary's first word.
  const impact = distro && RPM_ADVISORY.test(record.id) ? IMPACT_PREFIX.exec(record.summary ?? '') : null;
  if (impact) into.vendorRatings.push({ source, rating: impact[1]! });
  const rustCvss = entries.map((a) => a.database_specific?.['cvss']).find((v) => typeof v === 'string');
  if (typeof rustCvss === 'string') {
    const scored = scoreCvss(rustCvss, source);
    if (scored) into.cvss.push(scored);
  }
  const word = record.database_specific?.['severity'];
  if (typeof word === 'string') into.advisoryRatings.push({ source, rating: word });
}

/** Applies SEVERITY_POLICY to the evidence of one match. */
export function chooseSeverity(
  evidence: SeverityEvidence,
  kind: 'os' | 'language',
): { severity: Severity; source: string } {
  const highest = (list: CvssScore[]) =>
    list.reduce<CvssScore | undefined>((b, s) => (!b || s.score > b.score ? s : b), undefined);
  const bestRating = (list: VendorRating[]) => {
    let best: { severity: Severity; source: string } | undefined;
    for (const r of list) {
      const s = ratingSeverity(r.rating);
      // Lower enum value = more severe.
      if (s !== undefined && (!best || s < best.severity)) best = { severity: s, source: r.source };
    }
    return best;
  };
  for (const step of SEVERITY_POLICY[kind] as readonly SeverityStep[]) {
    if (step === 'distro') {
      const b = bestRating(evidence.vendorRatings);
      if (b) return b;
    } else if (step === 'advisory') {
      const b = bestRating(evidence.advisoryRatings);
      if (b) return b;
    } else {
      const prefix = step.slice('cvss:'.length);
      const s = highest(evidence.cvss.filter((c) => c.version.startsWith(prefix === '3' ? '3.' : prefix)));
      if (s) return { severity: cvssSeverity(s), source: `cvss:${s.version}` };
    }
  }
  return { severity: Severity.UNKNOWN, source: 'none' };
}
