import {
  FindingSource,
  ScanStatus,
  type Finding,
  type ScanCompleted,
  type ScannerKind,
} from '@vigil/contracts';
import {
  scanStartOf,
  type FindingRecord,
  type FindingReport,
  type ScanRecord,
  type ScopeState,
} from './scope-state.js';
import { runtimeWindowOf } from './runtime-window.js';
import { compareNanos, compareStrings, earlierOf, laterOf, toNanos, type TimestampLike } from './time.js';

// Resolution: a finding is open once reported and is resolved ONLY by a later completed scan (status ok) of the
// same scanner, scope and target key that ran the finding's unit and no longer lists it. For images the target key is repository:tag, so a
// scan of a new digest under the same tag supersedes the old digest's findings. Failed and unavailable scans
// resolve nothing. Runtime detections are not resolved by absence: they have a time window (runtime-window.ts).
//
// Everything here is computed from the folded facts, never from the order they arrived in: "later" is the scans'
// own start time (then completion time, then scan id), so replays in another interleaving agree.

export interface ResolutionOptions {
  // Whether a runtime finding is still open as of the scope's log-derived time. Default: the window rule of
  // runtime-window.ts (closed when acknowledged, excepted or quiet for `runtimeQuietPeriodMs`).
  readonly runtimeOpen?: (record: FindingRecord, asOf: TimestampLike | undefined) => boolean;
  // How long a runtime detection may go without an occurrence before it closes as quiet; default 7 days.
  readonly runtimeQuietPeriodMs?: number;
}

export interface OpenFinding {
  // The report chosen to show: from the latest scan that keeps the finding open, with first/last seen widened to
  // every report of it.
  readonly finding: Finding;
  readonly scanIds: readonly string[];
}

export interface TargetGroup {
  readonly scanner: ScannerKind;
  readonly targetKey: string;
  // The latest completed scan of the group with status ok; undefined when none has succeeded yet.
  readonly latestOk: ScanRecord | undefined;
}

export interface Resolution {
  readonly open: readonly OpenFinding[];
  readonly groups: ReadonlyMap<string, TargetGroup>;
}

export function groupKey(scanner: ScannerKind, targetKey: string): string {
  return `${scanner}|${targetKey}`;
}

export function compareScans(a: ScanRecord, b: ScanRecord): number {
  return (
    compareNanos(toNanos(scanStartOf(a)), toNanos(scanStartOf(b))) ||
    compareNanos(toNanos(a.completed?.completedAt), toNanos(b.completed?.completedAt)) ||
    compareStrings(a.scanId, b.scanId)
  );
}

export function isOkCompletion(c: ScanCompleted | undefined): c is ScanCompleted {
  return c !== undefined && c.status === ScanStatus.OK;
}

export function targetGroups(scope: ScopeState): Map<string, TargetGroup> {
  const groups = new Map<
    string,
    { scanner: ScannerKind; targetKey: string; latestOk: ScanRecord | undefined }
  >();
  for (const scan of scope.scans.values()) {
    if (scan.scanner === undefined || scan.targetKey === undefined) continue;
    const key = groupKey(scan.scanner, scan.targetKey);
    let g = groups.get(key);
    if (!g) {
      g = { scanner: scan.scanner, targetKey: scan.targetKey, latestOk: undefined };
      groups.set(key, g);
    }
    if (isOkCompletion(scan.completed) && (!g.latestOk || compareScans(scan, g.latestOk) > 0))
      g.latestOk = scan;
  }
  return groups;
}

export function resolveFindings(scope: ScopeState, options: ResolutionOptions = {}): Resolution {
  const groups = targetGroups(scope);
  const latestLists = new Map<string, Set<string>>();
  for (const [key, g] of groups)
    if (g.latestOk?.completed) latestLists.set(key, new Set(g.latestOk.completed.findingIds));

  const runtimeNow = runtimeAsOf(scope);
  const open: OpenFinding[] = [];
  for (const record of scope.findings.values()) {
    const keeping = openingReports(scope, record, groups, latestLists, options, runtimeNow);
    if (keeping.length === 0) continue;
    open.push({
      finding: displayed(scope, record, keeping),
      scanIds: keeping.map((r) => r.scanId).sort(compareStrings),
    });
  }
  open.sort((a, b) => compareStrings(a.finding.id, b.finding.id));
  return { open, groups };
}

// The reports of a finding that keep it open; empty when it is resolved.
function openingReports(
  scope: ScopeState,
  record: FindingRecord,
  groups: Map<string, TargetGroup>,
  latestLists: Map<string, Set<string>>,
  options: ResolutionOptions,
  runtimeNow: TimestampLike | undefined,
): FindingReport[] {
  const reports = [...record.reports.values()];
  if (reports.some((r) => r.finding.source === FindingSource.RUNTIME)) {
    const stillOpen = options.runtimeOpen
      ? options.runtimeOpen(record, runtimeNow)
      : runtimeWindowOf(
          record,
          scope.runtimeClosures?.get(record.id),
          runtimeNow,
          options.runtimeQuietPeriodMs,
        ).open;
    return stillOpen ? reports : [];
  }
  const keeping: FindingReport[] = [];
  for (const report of reports) {
    const scan = scope.scans.get(report.scanId);
    // A report whose scan is not known yet cannot be resolved by anything: open.
    if (!scan || scan.scanner === undefined || scan.targetKey === undefined) {
      keeping.push(report);
      continue;
    }
    const key = groupKey(scan.scanner, scan.targetKey);
    const latest = groups.get(key)?.latestOk;
    if (
      !latest ||
      latestLists.get(key)?.has(record.id) ||
      compareScans(scan, latest) >= 0 ||
      !ranUnitOf(latest, report.finding)
    )
      keeping.push(report);
  }
  return keeping;
}

// A later scan says nothing about a finding whose check did not run in it (a host scan without advisory data
// matches no packages): only a scan that ran the finding's unit can resolve it. Scans that list no units, and
// findings that name none, keep the plain rule.
function ranUnitOf(scan: ScanRecord, finding: Finding): boolean {
  const unit = finding.detection?.unit?.id;
  const units = scan.completed?.units ?? [];
  if (!unit || units.length === 0) return true;
  return units.some((u) => u.id === unit);
}

// The shown finding of a record, reused while neither the chosen report nor first/last seen change, so repeated
// snapshots of a large scope neither copy nor re-serialize unchanged findings (see snapshot.builder.ts). Shown
// findings are frozen: the snapshot that holds them is immutable.
const shownMemo = new WeakMap<
  FindingRecord,
  { best: FindingReport; first: bigint | undefined; last: bigint | undefined; finding: Finding }
>();

function displayed(scope: ScopeState, record: FindingRecord, keeping: readonly FindingReport[]): Finding {
  let best = keeping[0] as FindingReport;
  for (const r of keeping.slice(1)) if (compareReports(scope, r, best) > 0) best = r;
  let firstSeen: TimestampLike | undefined;
  let lastSeen: TimestampLike | undefined;
  for (const r of record.reports.values()) {
    firstSeen = earlierOf(firstSeen, r.finding.firstSeen ?? r.occurredAt);
    lastSeen = laterOf(lastSeen, r.finding.lastSeen ?? r.occurredAt);
  }
  const first = toNanos(firstSeen);
  const last = toNanos(lastSeen);
  const memo = shownMemo.get(record);
  if (memo && memo.best === best && memo.first === first && memo.last === last) return memo.finding;
  const finding: Finding = Object.freeze({
    ...best.finding,
    firstSeen: firstSeen as Finding['firstSeen'],
    lastSeen: lastSeen as Finding['lastSeen'],
  });
  shownMemo.set(record, { best, first, last, finding });
  return finding;
}

function compareReports(scope: ScopeState, a: FindingReport, b: FindingReport): number {
  const sa = scope.scans.get(a.scanId);
  const sb = scope.scans.get(b.scanId);
  if (sa && sb) {
    const c = compareScans(sa, sb);
    if (c !== 0) return c;
  } else if (sa || sb) {
    return sa ? 1 : -1;
  }
  return compareNanos(toNanos(a.occurredAt), toNanos(b.occurredAt)) || compareStrings(a.eventId, b.eventId);
}

// "Quiet" is measured on the sensors' own clock: the latest runtime occurrence the scope has seen (or the scope's
// time when it has none). Replaying last month's Falco file keeps its detections open within that file's
// timeline; on a live system the sensors move the clock on; a sensor that stops is its own finding
// (runtime/sensor-silent), not a reason to close every detection it reported.
function runtimeAsOf(scope: ScopeState): TimestampLike | undefined {
  let latest: TimestampLike | undefined;
  for (const record of scope.findings.values())
    for (const r of record.reports.values())
      if (r.finding.source === FindingSource.RUNTIME)
        latest = laterOf(latest, r.finding.lastSeen ?? r.occurredAt);
  return latest ?? scope.asOf;
}
