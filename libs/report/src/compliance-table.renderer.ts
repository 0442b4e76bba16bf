import { RequirementStatus, type ComplianceReport, type RequirementResult } from '@vigil/contracts';
import { requirement } from '@vigil/pci';
import { findingCounts } from './snapshot.builder.js';

// `vigil report --format table`: one line per requirement, grouped under its principal requirement or appendix,
// reasons wrapped (never cut) so the table stays within the width.

export const REQUIREMENT_STATUS_WORDS: Record<RequirementStatus, string> = {
  [RequirementStatus.UNSPECIFIED]: 'unspecified',
  [RequirementStatus.IN_PLACE]: 'in_place',
  [RequirementStatus.NOT_IN_PLACE]: 'not_in_place',
  [RequirementStatus.NOT_TESTED]: 'not_tested',
  [RequirementStatus.NOT_APPLICABLE]: 'not_applicable',
  [RequirementStatus.MANUALLY_ATTESTED]: 'manually_attested',
};

export interface TableOptions {
  // Total width in columns; reasons wrap to fit. Default 110.
  readonly width?: number;
  // The deployment's evidence signing key fingerprint (vigil evidence key), printed as the last line: a reader
  // compares it with the key the deployment published, since a bundle that carries its own key proves nothing.
  readonly evidenceKeyFingerprint?: string;
}

const ID_W = 10;
const STATUS_W = 17;
const COUNT_W = 8;
const GAP = '  ';

export function renderComplianceTable(report: ComplianceReport, options: TableOptions = {}): string {
  const width = options.width ?? 110;
  const reasonCol = 2 + ID_W + GAP.length + STATUS_W + GAP.length + COUNT_W + GAP.length;
  if (width < reasonCol + 20)
    throw new Error(`renderComplianceTable: width ${width} is too narrow (at least ${reasonCol + 20})`);
  const reasonW = width - reasonCol;

  const scope = report.scope
    ? report.scope.tenant
      ? `${report.scope.tenant}/${report.scope.cluster}`
      : report.scope.cluster
    : '';
  const lines: string[] = [];
  // Lines outside the table wrap too, continued two columns in.
  const prose = (text: string) => {
    const [first, ...rest] = wrap(text, width);
    if (first !== undefined) lines.push(first);
    for (const more of rest.length > 0 ? wrap(rest.join(' '), width - 2) : []) lines.push(`  ${more}`);
  };
  prose(
    `PCI DSS ${report.frameworkVersion} compliance · scope ${scope} · snapshot ${report.snapshotVersion}` +
      (report.generatedAt ? ` · as of ${isoOf(report.generatedAt)}` : ''),
  );
  prose(`content ${report.contentHash || '(not hashed)'}`);
  prose(`previous ${report.previousHash || '(none: first version)'}`);
  lines.push('');
  lines.push(
    `  ${pad('ID', ID_W)}${GAP}${pad('STATUS', STATUS_W)}${GAP}${padLeft('FINDINGS', COUNT_W)}${GAP}REASON`,
  );

  let group = '';
  for (const r of report.requirements) {
    const g = groupOf(r.id);
    if (g !== group) {
      group = g;
      prose(groupTitle(g));
    }
    const text = reasonOf(r);
    const wrapped = wrap(text, reasonW);
    const count = String(r.findingIds.length);
    lines.push(
      `  ${pad(r.id, ID_W)}${GAP}${pad(REQUIREMENT_STATUS_WORDS[r.status], STATUS_W)}${GAP}${padLeft(count, COUNT_W)}${GAP}${wrapped[0] ?? ''}`.trimEnd(),
    );
    for (const more of wrapped.slice(1)) lines.push(`${' '.repeat(reasonCol)}${more}`);
  }
  lines.push('');
  const s = report.summary;
  prose(
    `Requirements: ${s?.total ?? 0} · ${s?.inPlace ?? 0} in_place · ${s?.notInPlace ?? 0} not_in_place · ` +
      `${s?.notTested ?? 0} not_tested · ${s?.notApplicable ?? 0} not_applicable · ${s?.manuallyAttested ?? 0} manually_attested`,
  );
  prose(findingsLine(report));
  if (options.evidenceKeyFingerprint)
    prose(`Evidence key ${options.evidenceKeyFingerprint} (vigil evidence key)`);
  return lines.join('\n') + '\n';
}

/**
 * The open findings an exception accepts: covered by an active exception and failing no requirement. A finding an
 * exception limited to some requirements covers still fails the others, so it stays open. `vigil report` and
 * `vigil ci` count these apart from the open ones; the snapshot keeps them (and findingCounts counts them).
 */
export function acceptedFindingIds(
  report: Pick<ComplianceReport, 'exceptions' | 'requirements'>,
): Set<string> {
  const failing = new Set(report.requirements.flatMap((r) => r.findingIds));
  // A requirement's excepted findings are covered ones too; the exceptions' lists add those no requirement maps
  // (a config finding that only supports its requirements).
  const covered = [
    ...report.requirements.flatMap((r) => r.exceptedFindingIds),
    ...report.exceptions.flatMap((x) => x.coveredFindingIds),
  ];
  return new Set(covered.filter((id) => !failing.has(id)));
}

// Says what it counts: findings the requirement's exceptions accept, and how many exceptions do (one exception
// often covers several findings, so "N accepted risks" read as N exceptions).
function reasonOf(r: RequirementResult): string {
  if (r.exceptedFindingIds.length === 0) return r.reason;
  const n = r.exceptedFindingIds.length;
  const k = r.exceptionIds.length;
  return (
    `${r.reason} (${n} finding${n === 1 ? '' : 's'} accepted by ${k} exception${k === 1 ? '' : 's'}: ` +
    `${r.exceptionIds.join(', ')})`
  );
}

// "N open (by severity), M accepted": an accepted finding is still in the snapshot but not an open risk.
function findingsLine(report: ComplianceReport): string {
  const accepted = acceptedFindingIds(report);
  const c = findingCounts(report.findings.filter((f) => !accepted.has(f.id)));
  return (
    `Findings: ${c.total} open (${c.critical} CRITICAL · ${c.high} HIGH · ${c.medium} MEDIUM · ` +
    `${c.low} LOW · ${c.unknown} UNKNOWN), ${accepted.size} accepted`
  );
}

function groupOf(id: string): string {
  const dot = id.indexOf('.');
  return dot < 0 ? id : id.slice(0, dot);
}

function groupTitle(g: string): string {
  const title = requirement(g)?.title;
  const label = g.startsWith('A') ? `Appendix ${g}` : `Requirement ${g}`;
  return title ? `${label}: ${title}` : label;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line === '') line = word;
    else if (line.length + 1 + word.length <= width) line += ` ${word}`;
    else {
      out.push(line);
      line = word;
    }
    // A single word longer than the column (a long id or URL) is split rather than overflowing.
    while (line.length > width) {
      out.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line !== '') out.push(line);
  return out;
}

function pad(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

function padLeft(s: string, w: number): string {
  return s.length >= w ? s : ' '.repeat(w - s.length) + s;
}

function isoOf(ts: { seconds: bigint; nanos: number }): string {
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000)).toISOString();
}
