import {
  FindingSource,
  RequirementStatus,
  Severity,
  type ComplianceReport,
  type Finding,
} from '@vigil/contracts';

// RFC 4180 CSV: CRLF line ends, a field quoted when it holds a comma, a quote, CR or LF (quotes doubled inside),
// and a field that starts or ends with a space quoted too, so spreadsheet imports keep it. Values are written as
// they are; a cell that starts with "=" is text to an RFC 4180 reader (spreadsheet formula injection is a viewer's
// setting, and rewriting the data would make it disagree with the snapshot).
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => cells.map(csvField).join(',');
  for (const [i, r] of rows.entries()) {
    if (r.length !== header.length)
      throw new Error(`toCsv: row ${i + 1} has ${r.length} cells, the header ${header.length}`);
  }
  return [header, ...rows].map(line).join('\r\n') + '\r\n';
}

export function csvField(value: string): string {
  if (/[",\r\n]/.test(value) || /^\s|\s$/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export const REQUIREMENTS_CSV_HEADER = [
  'requirement',
  'title',
  'status',
  'reason',
  'open_findings',
  'excepted_findings',
  'exceptions',
  'evidence',
] as const;

export function requirementsCsv(report: ComplianceReport): string {
  return toCsv(
    REQUIREMENTS_CSV_HEADER,
    report.requirements.map((r) => [
      r.id,
      r.title,
      statusWord(r.status),
      r.reason,
      String(r.findingIds.length),
      String(r.exceptedFindingIds.length),
      r.exceptionIds.join(' '),
      r.evidence.map((e) => `${e.key}=${e.value}`).join('\n'),
    ]),
  );
}

export const FINDINGS_CSV_HEADER = [
  'finding_id',
  'source',
  'rule_id',
  'severity',
  'title',
  'pci_requirements',
  // Requirements the finding only supports (never failed by it).
  'supporting_pci_requirements',
  'asset',
  'package',
  'installed_version',
  'fixed_version',
  'locations',
  'remediation',
  'first_seen',
  'last_seen',
] as const;

export function findingsCsv(report: ComplianceReport): string {
  return toCsv(
    FINDINGS_CSV_HEADER,
    report.findings.map((f) => [
      f.id,
      sourceWord(f.source),
      f.ruleId,
      severityWord(f.severity),
      f.title,
      f.pciRequirements.join(' '),
      f.supportingPciRequirements.join(' '),
      assetText(f),
      f.package?.name ?? '',
      f.package?.version ?? '',
      f.package?.fixedVersion ?? '',
      f.locations.join('\n'),
      f.remediation?.summary ?? '',
      isoOf(f.firstSeen),
      isoOf(f.lastSeen),
    ]),
  );
}

export function statusWord(s: RequirementStatus): string {
  return (RequirementStatus[s] ?? 'UNSPECIFIED').toLowerCase();
}

export function severityWord(s: Severity): string {
  return s === Severity.UNSPECIFIED ? 'unknown' : (Severity[s] ?? 'UNKNOWN').toLowerCase();
}

export function sourceWord(s: FindingSource): string {
  return (FindingSource[s] ?? 'UNSPECIFIED').toLowerCase();
}

/** One line naming the asset a finding is on: namespace/name, container, image, node, whichever it has. */
export function assetText(f: Finding): string {
  const a = f.asset;
  if (!a) return '';
  const parts: string[] = [];
  if (a.resourceKind || a.name)
    parts.push([a.resourceKind, [a.namespace, a.name].filter(Boolean).join('/')].filter(Boolean).join(' '));
  if (a.container) parts.push(`container ${a.container}`);
  if (a.imageRef || a.imageDigest) parts.push(`image ${a.imageRef || a.imageDigest}`);
  if (a.node) parts.push(`node ${a.node}`);
  return parts.join(', ');
}

export function isoOf(t: { seconds: bigint; nanos: number } | undefined): string {
  if (!t) return '';
  return new Date(Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6)).toISOString();
}
