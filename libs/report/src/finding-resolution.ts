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
  // Sorted by finding id. On a resolution from the incremental path this is built on first read, so a caller that
  // only wants what changed (changedSince/openById) never pays for sorting the whole scope.
  readonly open: readonly OpenFinding[];
  readonly groups: ReadonlyMap<string, TargetGroup>;
  // The open findings by id (the same objects as `open`).
  readonly openById?: ReadonlyMap<string, OpenFinding>;
  // Which resolution of the scope this is: pass it to changedSince of a later one.
  readonly epoch?: number;
  // The ids whose open finding may differ from what the resolution of `epoch` said (opened, closed, re-resolved),
  // or undefined when that resolution is too old to tell (or from another fold): the caller then compares in full.
  readonly changedSince?: (epoch: number) => ReadonlySet<string> | undefined;
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
  // A caller's own runtime rule may depend on anything: only the default rule is known well enough to cache.
  if (scope.changedFindings && !options.runtimeOpen) return resolveIncrementally(scope, options);
  const groups = targetGroups(scope);
  const latestLists = new Map<string, Set<string>>();
  for (const [key, g] of groups)
    if (g.latestOk?.completed) latestLists.set(key, latestList(g.latestOk.completed));

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

// ---- incremental resolution ----
//
// Resolving the whole scope on every batch made projection quadratic. What a finding's resolution reads is: its
// reports and runtime closures (evolve journals those in scope.changedFindings), the scan records its reports name,
// the latest ok scan of those scans' (scanner, target key) groups with the ids it lists, and for runtime findings
// the scope's runtime clock. So a finding needs re-resolving only when it was journalled, when a scan one of its
// reports names changed, when any scan of such a group changed (the group's latest, or the order against it, may
// have moved), or, for a runtime finding, when the runtime clock moved. Everything else keeps its last answer,
// which is exactly what a full pass would compute again.

interface ScanPrint {
  scanner: ScannerKind | undefined;
  targetKey: string | undefined;
  startedAt: TimestampLike | undefined;
  completed: ScanCompleted | undefined;
}

interface ResolutionCache {
  readonly quietPeriodMs: number | undefined;
  epoch: number;
  // The first epoch of this cache: what an earlier one said cannot be compared with it.
  readonly floor: number;
  readonly open: Map<string, OpenFinding>;
  sorted: OpenFinding[] | undefined;
  readonly scanPrints: Map<string, ScanPrint>;
  // scan id -> the findings with a report naming it (reports are only ever added or replaced, never dropped).
  readonly findingsByScan: Map<string, Set<string>>;
  readonly runtimeIds: Set<string>;
  runtimeNow: TimestampLike | undefined;
  // The ids each recent resolution re-resolved, newest last; bounded, older callers get a full comparison.
  readonly journal: { epoch: number; ids: readonly string[] }[];
}

const JOURNAL_LENGTH = 256;
const caches = new WeakMap<ScopeState, ResolutionCache>();
const latestLists = new WeakMap<ScanCompleted, Set<string>>();

function latestList(completed: ScanCompleted): Set<string> {
  let set = latestLists.get(completed);
  if (!set) {
    set = new Set(completed.findingIds);
    latestLists.set(completed, set);
  }
  return set;
}

function resolveIncrementally(scope: ScopeState, options: ResolutionOptions): Resolution {
  const changed = scope.changedFindings as Set<string>;
  let cache = caches.get(scope);
  const fresh = !cache || cache.quietPeriodMs !== options.runtimeQuietPeriodMs;
  if (!cache || fresh) {
    const epoch = (cache?.epoch ?? 0) + 1;
    cache = {
      quietPeriodMs: options.runtimeQuietPeriodMs,
      epoch,
      floor: epoch,
      open: new Map(),
      sorted: undefined,
      scanPrints: new Map(),
      findingsByScan: new Map(),
      runtimeIds: new Set(),
      runtimeNow: undefined,
      journal: [],
    };
    caches.set(scope, cache);
  }
  const c = cache;
  const groups = targetGroups(scope);

  const dirty = new Set<string>();
  if (fresh) for (const id of scope.findings.keys()) dirty.add(id);
  for (const id of changed) dirty.add(id);
  changed.clear();

  // Scans whose facts changed, and the groups they were or are in.
  const dirtyGroups = new Set<string>();
  for (const scan of scope.scans.values()) {
    const before = c.scanPrints.get(scan.scanId);
    if (
      before &&
      before.scanner === scan.scanner &&
      before.targetKey === scan.targetKey &&
      before.startedAt === scan.startedAt &&
      before.completed === scan.completed
    )
      continue;
    if (before?.scanner !== undefined && before.targetKey !== undefined)
      dirtyGroups.add(groupKey(before.scanner, before.targetKey));
    if (scan.scanner !== undefined && scan.targetKey !== undefined)
      dirtyGroups.add(groupKey(scan.scanner, scan.targetKey));
    c.scanPrints.set(scan.scanId, {
      scanner: scan.scanner,
      targetKey: scan.targetKey,
      startedAt: scan.startedAt,
      completed: scan.completed,
    });
    for (const id of c.findingsByScan.get(scan.scanId) ?? []) dirty.add(id);
  }
  if (dirtyGroups.size > 0)
    for (const scan of scope.scans.values()) {
      if (scan.scanner === undefined || scan.targetKey === undefined) continue;
      if (!dirtyGroups.has(groupKey(scan.scanner, scan.targetKey))) continue;
      for (const id of c.findingsByScan.get(scan.scanId) ?? []) dirty.add(id);
    }

  // Index the touched findings' reports, and keep the set of runtime findings the runtime clock is read from.
  let runtimeTouched = fresh;
  for (const id of dirty) {
    const record = scope.findings.get(id);
    if (!record) continue;
    let runtime = false;
    for (const r of record.reports.values()) {
      let ids = c.findingsByScan.get(r.scanId);
      if (!ids) {
        ids = new Set();
        c.findingsByScan.set(r.scanId, ids);
      }
      ids.add(id);
      if (r.finding.source === FindingSource.RUNTIME) runtime = true;
    }
    if (runtime !== c.runtimeIds.has(id) || runtime) runtimeTouched = true;
    if (runtime) c.runtimeIds.add(id);
    else c.runtimeIds.delete(id);
  }
  // Without runtime findings the clock falls back to the scope's as-of time, which nothing then depends on.
  let runtimeNow = c.runtimeNow;
  if (runtimeTouched || c.runtimeIds.size === 0) runtimeNow = runtimeAsOfAmong(scope, c.runtimeIds);
  if (c.runtimeIds.size > 0 && toNanos(runtimeNow) !== toNanos(c.runtimeNow))
    for (const id of c.runtimeIds) dirty.add(id);
  c.runtimeNow = runtimeNow;

  const lists = new Map<string, Set<string>>();
  for (const [key, g] of groups) if (g.latestOk?.completed) lists.set(key, latestList(g.latestOk.completed));

  const touched: string[] = [];
  for (const id of dirty) {
    const record = scope.findings.get(id);
    const before = c.open.get(id);
    const keeping = record ? openingReports(scope, record, groups, lists, options, runtimeNow) : [];
    if (!record || keeping.length === 0) {
      if (before) {
        c.open.delete(id);
        touched.push(id);
      }
      continue;
    }
    const finding = displayed(scope, record, keeping);
    const scanIds = keeping.map((r) => r.scanId).sort(compareStrings);
    // The same object while nothing changed, so callers can tell "unchanged" by identity.
    if (before && before.finding === finding && sameStrings(before.scanIds, scanIds)) {
      touched.push(id);
      continue;
    }
    c.open.set(id, { finding, scanIds });
    touched.push(id);
  }
  if (touched.length > 0 && !fresh) {
    c.epoch += 1;
    c.sorted = undefined;
    c.journal.push({ epoch: c.epoch, ids: touched });
    if (c.journal.length > JOURNAL_LENGTH) c.journal.shift();
  }

  const epoch = c.epoch;
  const open = c.open;
  let sorted: OpenFinding[] | undefined;
  return {
    get open() {
      if (sorted) return sorted;
      // Later resolutions change the cache; this one keeps the answer of its own epoch once read.
      if (c.epoch === epoch && c.sorted) return (sorted = c.sorted);
      sorted = [...open.values()].sort((a, b) => compareStrings(a.finding.id, b.finding.id));
      if (c.epoch === epoch) c.sorted = sorted;
      return sorted;
    },
    groups,
    openById: open,
    epoch,
    changedSince: (since: number) => {
      if (since === epoch) return new Set();
      const first = c.journal[0];
      if (since > epoch || since < c.floor || (first && since < first.epoch - 1)) return undefined;
      const out = new Set<string>();
      for (const entry of c.journal)
        if (entry.epoch > since && entry.epoch <= epoch) for (const id of entry.ids) out.add(id);
      return out;
    },
  };
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
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

// Shown findings that are their best report's finding itself, nothing changed.
const shownAsReported = new WeakSet<Finding>();

/**
 * The reported finding a shown one is, if it is one (not a copy with other first or last seen times): a consumer
 * that kept something of the reported finding (its encoded bytes, say) may use it for the shown one.
 */
export function reportedFindingOf(shown: Finding): Finding | undefined {
  return shownAsReported.has(shown) ? shown : undefined;
}

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
  let finding: Finding;
  if (toNanos(best.finding.firstSeen) === first && toNanos(best.finding.lastSeen) === last) {
    // Nothing to change: the report's own finding is shown (frozen, as every shown finding is, so that what is
    // remembered of it stays true), not a copy of each of its fields.
    finding = Object.freeze(best.finding);
    shownAsReported.add(finding);
  } else {
    finding = Object.freeze({
      ...best.finding,
      firstSeen: firstSeen as Finding['firstSeen'],
      lastSeen: lastSeen as Finding['lastSeen'],
    });
  }
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
export function runtimeAsOf(scope: ScopeState): TimestampLike | undefined {
  let latest: TimestampLike | undefined;
  for (const record of scope.findings.values())
    for (const r of record.reports.values())
      if (r.finding.source === FindingSource.RUNTIME)
        latest = laterOf(latest, r.finding.lastSeen ?? r.occurredAt);
  return latest ?? scope.asOf;
}

// The same clock over the findings known to carry runtime reports: the others contribute nothing to it.
function runtimeAsOfAmong(scope: ScopeState, ids: ReadonlySet<string>): TimestampLike | undefined {
  let latest: TimestampLike | undefined;
  for (const id of ids)
    for (const r of scope.findings.get(id)?.reports.values() ?? [])
      if (r.finding.source === FindingSource.RUNTIME)
        latest = laterOf(latest, r.finding.lastSeen ?? r.occurredAt);
  return latest ?? scope.asOf;
}
