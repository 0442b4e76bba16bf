import { requirement as pciRequirement, principalOf } from '@vigil/pci';
import { RequirementStatus, type ComplianceReport, type Finding, type SnapshotDiff } from '@vigil/contracts';
import { assetText, isoOf, severityWord, statusWord } from './evidence-csv.js';
import { CHART_SEVERITIES, type ChartSeverity, type VersionHistory } from './evidence-history.js';
import { acceptedFindingIds } from '../compliance-table.renderer.js';

// The auditor's report: one self-contained HTML file (inline CSS and SVG, no script, no external asset), readable
// offline from the bundle. It prints the signing key's fingerprint so a reader can compare it with the key the
// deployment published, and lists per requirement its status, why, the evidence and the fixes.

export interface EvidenceHtmlInput {
  readonly report: ComplianceReport;
  /** Diff from the previous version; undefined for version 1. */
  readonly diff?: SnapshotDiff | undefined;
  /** Every version up to this one, oldest first. */
  readonly history: readonly VersionHistory[];
  readonly keyFingerprint: string;
  readonly bundleCreatedAt: Date;
  readonly producer: string;
  /** Findings listed in full under one requirement; the rest are counted (all of them are in findings.csv). */
  readonly findingsPerRequirement?: number;
}

const SEVERITY_COLOURS: Record<ChartSeverity, string> = {
  critical: '#7b1020',
  high: '#d0452f',
  medium: '#e89b2c',
  low: '#4f8fc0',
  unknown: '#9a9a9a',
};

const STATUS_CLASS: Record<string, string> = {
  in_place: 'ok',
  not_in_place: 'fail',
  not_tested: 'untested',
  not_applicable: 'na',
  manually_attested: 'ok',
};

export function renderEvidenceHtml(i: EvidenceHtmlInput): string {
  const r = i.report;
  const scope = r.scope ? [r.scope.tenant, r.scope.cluster].filter(Boolean).join('/') : '';
  const findings = new Map(r.findings.map((f) => [f.id, f]));
  const limit = i.findingsPerRequirement ?? 50;
  const s = r.summary;
  // Accepted findings stay in the snapshot, but are not open risk: counted apart, as the CLI's footer does.
  const accepted = acceptedFindingIds(r).size;
  const title = `PCI DSS v${r.frameworkVersion} evidence — ${scope}, snapshot ${r.snapshotVersion}`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}
code,.mono{font-family:ui-monospace,monospace;font-size:.92em;word-break:break-all}
.status{font-weight:600;padding:0 .4em;border-radius:3px}
.ok{background:#d8f0d8}.fail{background:#f6d0cc}.untested{background:#f3e7c0}.na{background:#e6e6e6}
details{margin:.2em 0 .2em 1em}summary{cursor:pointer}
.key{background:#eef3fb;border:1px solid #9db4dd;padding:.6em 1em;margin:1em 0}
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<div class="key"><strong>Signing key fingerprint:</strong> <code id="signing-key-fingerprint">${esc(i.keyFingerprint)}</code><br>
Compare it with the fingerprint of the public key the deployment published (<code>vigil evidence key</code>); a bundle verified with a key obtained from the bundle itself proves nothing.</div>
<table>
<tr><th>Scope</th><td>${esc(scope)}</td></tr>
<tr><th>Snapshot version</th><td>${r.snapshotVersion}</td></tr>
<tr><th>Content hash</th><td class="mono">${esc(r.contentHash)}</td></tr>
<tr><th>Previous snapshot hash</th><td class="mono">${esc(r.previousHash || '(none: first version)')}</td></tr>
<tr><th>Covers events up to</th><td>${r.logPosition.map((p) => `${esc(p.topic)}[${p.partition}]@${esc(String(p.offset))}`).join('<br>')}</td></tr>
<tr><th>Snapshot generated at (last event)</th><td>${esc(isoOf(r.generatedAt))}</td></tr>
<tr><th>Bundle created</th><td>${esc(i.bundleCreatedAt.toISOString())} by ${esc(i.producer)}</td></tr>
</table>
<h2>Summary</h2>
<table>
<tr><th>In place</th><th>Not in place</th><th>Not tested</th><th>Not applicable</th><th>Manually attested</th><th>Total</th><th>Open findings</th><th>Accepted findings</th></tr>
<tr><td>${s?.inPlace ?? 0}</td><td>${s?.notInPlace ?? 0}</td><td>${s?.notTested ?? 0}</td><td>${s?.notApplicable ?? 0}</td><td>${s?.manuallyAttested ?? 0}</td><td>${s?.total ?? 0}</td><td>${(r.findingCounts?.total ?? 0) - accepted}</td><td>${accepted}</td></tr>
</table>
<h2>Findings over versions</h2>
${severityChart(i.history)}
${requirementChart(i.history)}
<h2>Changes since the previous version</h2>
${diffSection(i.diff)}
<h2>Requirements</h2>
${requirementTree(r, findings, limit)}
</body>
</html>
`;
}

function requirementTree(r: ComplianceReport, findings: Map<string, Finding>, limit: number): string {
  // Grouped under the principal requirement (1–12, A1–A3) each belongs to, in the report's (the standard's) order.
  const groups = new Map<string, { title: string; rows: string[] }>();
  for (const req of r.requirements) {
    let principal: { id: string; title: string };
    try {
      principal = principalOf(req.id);
    } catch {
      principal = { id: 'other', title: 'Requirements outside the v4.0.1 catalog' };
    }
    const g = groups.get(principal.id) ?? { title: `${principal.id} ${principal.title}`, rows: [] };
    groups.set(principal.id, g);
    g.rows.push(requirementBlock(req, findings, limit));
  }
  return [...groups.values()]
    .map(
      (g) =>
        `<details open><summary><strong>${esc(g.title)}</strong></summary>\n${g.rows.join('\n')}\n</details>`,
    )
    .join('\n');
}

function requirementBlock(
  req: ComplianceReport['requirements'][number],
  findings: Map<string, Finding>,
  limit: number,
): string {
  const word = statusWord(req.status);
  const depth = Math.max(0, req.id.split('.').length - 2);
  const section = pciRequirement(req.id)?.parent;
  const parts: string[] = [];
  if (req.reason) parts.push(`<p>${esc(req.reason)}</p>`);
  if (req.evidence.length > 0) {
    parts.push(
      `<table><tr><th>Evidence</th><th>Value</th></tr>${req.evidence
        .map((e) => `<tr><td>${esc(e.key)}</td><td class="mono">${esc(e.value)}</td></tr>`)
        .join('')}</table>`,
    );
  }
  if (req.findingIds.length > 0) {
    const shown = req.findingIds.slice(0, limit).map((id) => findings.get(id));
    parts.push(
      `<table><tr><th>Severity</th><th>Finding</th><th>Asset</th><th>Remediation</th></tr>${shown
        .map((f, k) =>
          f
            ? `<tr><td>${esc(severityWord(f.severity))}</td><td>${esc(f.ruleId)} ${esc(f.title)}<br><code>${esc(f.id)}</code></td><td>${esc(assetText(f))}</td><td>${esc(f.remediation?.summary ?? '')}${f.package?.fixedVersion ? `<br>fixed in ${esc(f.package.fixedVersion)}` : ''}</td></tr>`
            : `<tr><td colspan="4"><code>${esc(req.findingIds[k] ?? '')}</code></td></tr>`,
        )
        .join('')}</table>`,
    );
    if (req.findingIds.length > limit)
      parts.push(`<p>… and ${req.findingIds.length - limit} more (all are in findings.csv).</p>`);
  }
  if (req.exceptedFindingIds.length > 0)
    parts.push(
      `<p>${req.exceptedFindingIds.length} finding(s) accepted under exception(s) ${esc(req.exceptionIds.join(', '))}.</p>`,
    );
  if (req.status === RequirementStatus.NOT_IN_PLACE && req.findingIds.length === 0 && !req.reason)
    parts.push('<p>No finding is recorded for this status.</p>');
  const head = `<span class="mono">${esc(req.id)}</span> ${esc(req.title)} <span class="status ${STATUS_CLASS[word] ?? ''}">${esc(word.replace(/_/g, ' '))}</span>${req.findingIds.length ? ` — ${req.findingIds.length} finding(s)` : ''}`;
  const attrs = `id="req-${esc(req.id)}" style="margin-left:${depth}em"${section ? ` data-section="${esc(section)}"` : ''}`;
  return parts.length > 0
    ? `<details ${attrs}><summary>${head}</summary>${parts.join('')}</details>`
    : `<div ${attrs}>${head}</div>`;
}

function diffSection(diff: SnapshotDiff | undefined): string {
  if (!diff)
    return '<p>This is the scope’s first snapshot: there is no previous version to compare with.</p>';
  const f = diff.findings;
  const rows = (list: readonly Finding[], what: string) =>
    list
      .map(
        (x) =>
          `<tr><td>${what}</td><td>${esc(severityWord(x.severity))}</td><td>${esc(x.ruleId)} ${esc(x.title)}<br><code>${esc(x.id)}</code></td><td>${esc(x.pciRequirements.join(' '))}</td></tr>`,
      )
      .join('');
  const changed = (f?.changed ?? [])
    .map(
      (c) =>
        `<tr><td>changed</td><td>${esc(severityWord(c.after?.severity ?? 0))}</td><td><code>${esc(c.findingId)}</code> (${esc(c.fields.join(', '))})</td><td>${esc(c.after?.pciRequirements.join(' ') ?? '')}</td></tr>`,
    )
    .join('');
  const reqs = diff.requirements
    .map(
      (c) =>
        `<tr><td class="mono">${esc(c.id)}</td><td>${esc(statusWord(c.from))}</td><td>${esc(statusWord(c.to))}</td></tr>`,
    )
    .join('');
  return `<p>From version ${diff.from} to ${diff.to}: ${f?.added.length ?? 0} finding(s) added, ${f?.resolved.length ?? 0} resolved, ${f?.changed.length ?? 0} changed; ${diff.requirements.length} requirement status change(s).</p>
${reqs ? `<table><tr><th>Requirement</th><th>From</th><th>To</th></tr>${reqs}</table>` : ''}
${f && f.added.length + f.resolved.length + f.changed.length > 0 ? `<table><tr><th>Change</th><th>Severity</th><th>Finding</th><th>Requirements</th></tr>${rows(f.added, 'added')}${rows(f.resolved, 'resolved')}${changed}</table>` : ''}`;
}

// Stacked bars: open findings per version, split by severity.
function severityChart(history: readonly VersionHistory[]): string {
  const width = 640;
  const height = 220;
  const left = 48;
  const bottom = 30;
  const top = 10;
  const plotH = height - top - bottom;
  const totals = history.map((h) => CHART_SEVERITIES.reduce((n, s) => n + h.bySeverity[s], 0));
  const max = Math.max(1, ...totals);
  const slot = (width - left - 10) / Math.max(1, history.length);
  const bar = Math.max(2, Math.min(40, slot * 0.7));
  const bars: string[] = [];
  history.forEach((h, k) => {
    let y = top + plotH;
    const x = left + k * slot + (slot - bar) / 2;
    for (const s of CHART_SEVERITIES) {
      const n = h.bySeverity[s];
      if (n === 0) continue;
      const hgt = (n / max) * plotH;
      y -= hgt;
      bars.push(
        `<rect x="${fmt(x)}" y="${fmt(y)}" width="${fmt(bar)}" height="${fmt(hgt)}" fill="${SEVERITY_COLOURS[s]}"><title>v${h.version} ${s}: ${n}</title></rect>`,
      );
    }
    bars.push(
      `<text x="${fmt(x + bar / 2)}" y="${height - bottom + 14}" font-size="11" text-anchor="middle">v${h.version}</text>`,
    );
  });
  const legend = CHART_SEVERITIES.map(
    (s, k) =>
      `<rect x="${left + k * 90}" y="${height - 10}" width="10" height="10" fill="${SEVERITY_COLOURS[s]}"/><text x="${left + k * 90 + 14}" y="${height - 1}" font-size="11">${s}</text>`,
  ).join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Findings by severity per snapshot version, accepted ones included" width="${width}" height="${height + 12}" viewBox="0 0 ${width} ${height + 12}">
<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#555"/><line x1="${left}" y1="${top + plotH}" x2="${width - 10}" y2="${top + plotH}" stroke="#555"/>
<text x="${left - 6}" y="${top + 10}" font-size="11" text-anchor="end">${max}</text><text x="${left - 6}" y="${top + plotH}" font-size="11" text-anchor="end">0</text>
${bars.join('\n')}
${legend}
</svg><figcaption>Findings by severity, per snapshot version (accepted ones included, as each version counts them).</figcaption></figure>`;
}

// A grid: requirements with findings in any version (rows) by version (columns), shaded by the count.
function requirementChart(history: readonly VersionHistory[]): string {
  const ids = new Set<string>();
  for (const h of history) for (const id of Object.keys(h.byRequirement)) ids.add(id);
  if (ids.size === 0) return '<p>No version had open findings against any requirement.</p>';
  const order = new Map<string, number>();
  // The latest version's order (the standard's), then ids only older versions had.
  for (const h of [...history].reverse())
    for (const id of Object.keys(h.byRequirement)) if (!order.has(id)) order.set(id, order.size);
  const rows = [...ids].sort((a, b) => compareIds(a, b) || (order.get(a) ?? 0) - (order.get(b) ?? 0));
  const max = Math.max(1, ...history.flatMap((h) => Object.values(h.byRequirement)));
  const cell = 28;
  const left = 90;
  const top = 22;
  const width = left + history.length * cell + 10;
  const height = top + rows.length * 18 + 6;
  const cells: string[] = [];
  history.forEach((h, c) => {
    cells.push(
      `<text x="${left + c * cell + cell / 2}" y="14" font-size="11" text-anchor="middle">v${h.version}</text>`,
    );
    rows.forEach((id, k) => {
      const n = h.byRequirement[id] ?? 0;
      const shade = n === 0 ? '#f4f4f4' : `rgba(208,69,47,${fmt(0.2 + (0.8 * n) / max)})`;
      cells.push(
        `<rect x="${left + c * cell}" y="${top + k * 18}" width="${cell - 2}" height="16" fill="${shade}"><title>${esc(id)} v${h.version}: ${n}</title></rect>${n ? `<text x="${left + c * cell + (cell - 2) / 2}" y="${top + k * 18 + 12}" font-size="10" text-anchor="middle">${n}</text>` : ''}`,
      );
    });
  });
  const labels = rows
    .map(
      (id, k) =>
        `<text x="${left - 6}" y="${top + k * 18 + 12}" font-size="11" text-anchor="end">${esc(id)}</text>`,
    )
    .join('');
  return `<figure><svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Open findings per requirement per snapshot version" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
${labels}
${cells.join('\n')}
</svg><figcaption>Open findings per requirement (rows) and snapshot version (columns).</figcaption></figure>`;
}

// Dotted requirement ids in numeric order ("2.2.10" after "2.2.9"), appendices after the twelve.
function compareIds(a: string, b: string): number {
  const pa = a.split('.');
  const pb = b.split('.');
  for (let k = 0; k < Math.max(pa.length, pb.length); k++) {
    const x = pa[k];
    const y = pb[k];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : Number.POSITIVE_INFINITY;
    const ny = /^\d+$/.test(y) ? Number(y) : Number.POSITIVE_INFINITY;
    if (nx !== ny) return nx < ny ? -1 : 1;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

function fmt(n: number): string {
  return String(Math.round(n * 100) / 100);
}

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
