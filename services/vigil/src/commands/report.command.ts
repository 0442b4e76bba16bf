import {
  ComplianceReportSchema,
  SnapshotDiffSchema,
  SnapshotListSchema,
  toReportJson,
  type ComplianceReport,
} from '@vigil/contracts';
import {
  diffSnapshots,
  renderComplianceTable,
  renderExceptionListing,
  exceptionListing,
  renderEvidenceHtml,
  reportFromContent,
  requirementsCsv,
  snapshotList,
  toJunit,
  toSarif,
  versionHistory,
} from '@vigil/report';
import { applyPolicy } from '@vigil/policy';
import type { ReportingStore } from '@vigil/store';
import { table, type Output } from '../output.js';
import { UsageError, commandName } from '../usage-error.js';
import { diffText } from './diff.command.js';
import { policyOutcome, policyView, type PolicyInput } from './findings-view.js';

export interface ReportCommandInput {
  store: ReportingStore;
  cluster: string;
  /** sarif, csv, html and junit are for one snapshot (not --list or --diff). */
  format: ReportFormat;
  /**
   * The deployment's evidence key fingerprint (what vigil evidence key prints), shown with every format of one
   * snapshot: a bundle that carries its own key proves nothing, so a reader compares fingerprints.
   */
  keyFingerprint?: () => Promise<string>;
  toolVersion?: string;
  /** `--version N`: that snapshot instead of the latest. */
  version?: number | undefined;
  /** `--list`: every snapshot of the scope. */
  list?: boolean | undefined;
  /** `--diff A..B`. */
  diff?: string | undefined;
  policy: PolicyInput;
  out: Output;
}

export type ReportFormat = 'table' | 'json' | 'sarif' | 'csv' | 'html' | 'junit';

/** `vigil report`: the scope's latest snapshot (or one version, the list, or a diff of two). */
export async function reportCommand(i: ReportCommandInput): Promise<number> {
  if ((i.list || i.diff) && i.format !== 'table' && i.format !== 'json')
    throw new UsageError(
      `vigil report: --format ${i.format} is for one snapshot; --list and --diff are table or json`,
    );
  if (i.list) return listSnapshots(i);
  if (i.diff) return diff(i, i.diff);
  const stored =
    i.version !== undefined
      ? await i.store.getSnapshot(i.cluster, i.version)
      : await i.store.latestSnapshot(i.cluster);
  if (!stored) {
    if (i.version !== undefined)
      throw new UsageError(`vigil report: scope ${i.cluster} has no snapshot version ${i.version}`);
    // Nothing to print is not a clean "done": a pipeline gate must not pass on no data.
    throw new UsageError(
      `vigil report: scope ${i.cluster} has no snapshot yet; run a scan first (vigil scan image|k8s|host ...)`,
    );
  }
  const report: ComplianceReport = reportFromContent(stored.content, stored.contentHash);
  report.contentHash = stored.contentHash;
  const fingerprint = i.keyFingerprint ? await i.keyFingerprint() : '';
  const key = fingerprint ? { evidenceKeyFingerprint: fingerprint } : {};
  if (i.format === 'json')
    // Beside the report's fields, not in them: the snapshot content and its hash stay what was stored.
    i.out.result(JSON.stringify({ ...toReportJson(ComplianceReportSchema, report), ...key }, null, 2));
  else if (i.format === 'sarif')
    i.out.result(
      JSON.stringify(
        toSarif(report.findings, { toolVersion: i.toolVersion ?? '', exceptions: report.exceptions, ...key }),
        null,
        2,
      ),
    );
  else if (i.format === 'csv') {
    // CSV has no place for it: a column would repeat one deployment fact on every requirement row, and a comment
    // or trailing line is not RFC 4180 and breaks readers that take every line as a row. stdout stays the plain
    // table (the same bytes as the bundle's requirements.csv); the fingerprint goes to stderr, which a terminal
    // shows and a redirect to a file leaves out of the data.
    i.out.result(requirementsCsv(report));
    if (fingerprint) i.out.warn(`${commandName('report')}: evidence key ${fingerprint} (vigil evidence key)`);
  } else if (i.format === 'html') i.out.result(await htmlReport(i, report, fingerprint));
  else if (i.format === 'junit') i.out.result(junitReport(report, i.policy, fingerprint));
  else {
    i.out.result(renderComplianceTable(report, key));
    if (report.exceptions.length || report.attestations.length)
      i.out.result(
        renderExceptionListing(
          exceptionListing({ exceptionUses: report.exceptions, attestationUses: report.attestations }),
        ),
      );
  }
  const outcome = policyOutcome(report.findings, i.policy, true);
  for (const w of outcome.warnings) i.out.warn(w);
  if (i.format === 'table') for (const n of outcome.notes) i.out.result(n);
  return outcome.exitCode;
}

async function listSnapshots(i: ReportCommandInput): Promise<number> {
  const infos = await i.store.listSnapshots(i.cluster);
  const reports = [];
  for (const info of infos) {
    const s = await i.store.getSnapshot(i.cluster, info.version);
    if (s) reports.push({ info, report: reportFromContent(s.content, s.contentHash) });
  }
  const list = snapshotList(
    { tenant: '', cluster: i.cluster },
    reports.map(({ info, report }) => ({
      scope: { tenant: '', cluster: i.cluster },
      version: info.version,
      frameworkVersion: info.frameworkVersion,
      contentHash: info.contentHash,
      previousHash: info.previousHash ?? '',
      createdAt: info.createdAt,
      scanId: info.scanId ?? '',
      summary: report.summary,
      findingCounts: report.findingCounts,
    })),
  );
  if (i.format === 'json') {
    i.out.result(JSON.stringify(toReportJson(SnapshotListSchema, list), null, 2));
  } else if (list.snapshots.length === 0) {
    i.out.result(`scope ${i.cluster} has no snapshots yet`);
  } else {
    i.out.result(
      table(
        ['version', 'created', 'in place', 'not in place', 'not tested', 'findings', 'content hash'],
        list.snapshots.map((s) => [
          String(s.version),
          s.createdAt ? new Date(Number(s.createdAt.seconds) * 1000).toISOString() : '',
          String(s.summary?.inPlace ?? 0),
          String(s.summary?.notInPlace ?? 0),
          String(s.summary?.notTested ?? 0),
          String(s.findingCounts?.total ?? 0),
          s.contentHash,
        ]),
      ),
    );
  }
  return 0;
}

async function diff(i: ReportCommandInput, spec: string): Promise<number> {
  const m = /^(\d+)\.\.(\d+)$/.exec(spec);
  if (!m)
    throw new UsageError(`vigil report: --diff takes FROM..TO snapshot versions, e.g. 3..5; got "${spec}"`);
  const [from, to] = [Number(m[1]), Number(m[2])];
  const load = async (v: number) => {
    const s = await i.store.getSnapshot(i.cluster, v);
    if (!s) throw new UsageError(`vigil report: scope ${i.cluster} has no snapshot version ${v}`);
    return { ...reportFromContent(s.content, s.contentHash), contentHash: s.contentHash };
  };
  const d = diffSnapshots(await load(from), await load(to));
  if (i.format === 'json') {
    i.out.result(JSON.stringify(toReportJson(SnapshotDiffSchema, d), null, 2));
  } else {
    i.out.result(diffText(d, i.cluster, from, to));
  }
  return 0;
}

// The auditor-readable page of the evidence bundle, for one snapshot: its history is every version up to it.
async function htmlReport(
  i: ReportCommandInput,
  report: ComplianceReport,
  keyFingerprint: string,
): Promise<string> {
  const history = [];
  let previous: ComplianceReport | undefined;
  for (const info of await i.store.listSnapshots(i.cluster)) {
    if (info.version > report.snapshotVersion) break;
    const s = await i.store.getSnapshot(i.cluster, info.version);
    if (!s) continue;
    const r = { ...reportFromContent(s.content, s.contentHash), contentHash: s.contentHash };
    history.push(versionHistory(r));
    if (info.version === report.snapshotVersion - 1) previous = r;
  }
  return renderEvidenceHtml({
    report,
    ...(previous ? { diff: diffSnapshots(previous, report) } : {}),
    history,
    keyFingerprint,
    bundleCreatedAt: new Date(),
    producer: `vigil ${i.toolVersion ?? ''}`.trim(),
  });
}

// The test cases fail on the open findings the ignore file does not accept (the snapshot's verdict) and, with
// --fail-on, only on those at or above it, as the exit code does.
function junitReport(report: ComplianceReport, policy: PolicyInput, keyFingerprint: string): string {
  const result = applyPolicy(report.findings.map(policyView), {
    ...(policy.threshold ? { threshold: policy.threshold } : {}),
    ignores: policy.ignores,
    now: policy.now,
  });
  const ignored = new Set(result.ignored.map((x) => x.finding.id));
  const order = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
  const severe = (f: ComplianceReport['findings'][number]) =>
    !policy.threshold || order.indexOf(policyView(f).severity) <= order.indexOf(policy.threshold);
  return toJunit(report, {
    ...(keyFingerprint ? { evidenceKeyFingerprint: keyFingerprint } : {}),
    fails: (f) => !ignored.has(f.id) && severe(f),
    waivedBecause: (f) =>
      ignored.has(f.id) ? 'accepted in the ignore file' : `below --fail-on ${policy.threshold}`,
  });
}
