import type { Asset, Finding, FindingSelector } from '@vigil/contracts';
import { groupKey, isOkCompletion } from './finding-resolution.js';
import { scanStartOf, type ExceptionState, type ScanRecord, type ScopeState } from './scope-state.js';
import { compareNanos, toNanos, type TimestampLike } from './time.js';

// Risk acceptances (ExceptionRecorded) applied to a scope's findings. An accepted finding stays visible in the
// snapshot but stops failing its requirement while the acceptance is active.

export type ExceptionStanding = 'active' | 'expired' | 'revoked' | 'lapsed_on_fix' | 'no_expiry';

export interface ExceptionView {
  readonly id: string;
  readonly standing: ExceptionStanding;
  readonly exception: ExceptionState;
  // Requirement ids the acceptance is limited to; empty means every requirement its findings fail.
  readonly requirementIds: readonly string[];
}

// Every non-empty criterion must match (AND); within a repeated criterion any value may (OR); an empty selector
// matches nothing, so a blank acceptance can never silence a whole cluster.
export function selectorMatches(selector: FindingSelector | undefined, finding: Finding): boolean {
  if (!selector) return false;
  let criteria = 0;
  if (selector.findingIds.length > 0) {
    criteria++;
    if (!selector.findingIds.includes(finding.id)) return false;
  }
  if (selector.ruleIds.length > 0) {
    criteria++;
    if (
      !selector.ruleIds.includes(finding.ruleId) &&
      !finding.aliases.some((a) => selector.ruleIds.includes(a))
    )
      return false;
  }
  if (selector.sources.length > 0) {
    criteria++;
    if (!selector.sources.includes(finding.source)) return false;
  }
  if (selector.asset && hasAnyAssetField(selector.asset)) {
    criteria++;
    if (!assetMatches(selector.asset, finding.asset)) return false;
  }
  if (selector.imageRepository) {
    criteria++;
    if (imageRepository(finding.asset?.imageRef ?? '') !== selector.imageRepository) return false;
  }
  return criteria > 0;
}

const assetFields = [
  'cluster',
  'namespace',
  'name',
  'container',
  'imageRef',
  'imageDigest',
  'node',
  'resourceKind',
] as const;

function hasAnyAssetField(a: Asset): boolean {
  return a.kind !== 0 || assetFields.some((f) => a[f] !== '');
}

function assetMatches(want: Asset, got: Asset | undefined): boolean {
  if (!got) return false;
  if (want.kind !== 0 && want.kind !== got.kind) return false;
  return assetFields.every((f) => want[f] === '' || want[f] === got[f]);
}

// "registry/team/app:1.2@sha256:..." → "registry/team/app". A colon after the last slash starts the tag; a colon
// before it belongs to a registry port.
export function imageRepository(ref: string): string {
  const at = ref.indexOf('@');
  const noDigest = at >= 0 ? ref.slice(0, at) : ref;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

export function exceptionViews(scope: ScopeState, asOf: TimestampLike | undefined): ExceptionView[] {
  const views: ExceptionView[] = [];
  let scans: Map<string, ScanRecord[]> | undefined;
  const okScans = () => (scans ??= okScansByGroup(scope));
  for (const x of scope.exceptions.values()) {
    views.push({
      id: x.id,
      standing: standing(scope, x, asOf, okScans),
      exception: x,
      requirementIds: x.recorded.pciRequirements,
    });
  }
  return views.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function standing(
  scope: ScopeState,
  x: ExceptionState,
  asOf: TimestampLike | undefined,
  okScans: () => Map<string, ScanRecord[]>,
): ExceptionStanding {
  if (scope.revocations.has(x.id)) return 'revoked';
  // PCI DSS wants every accepted risk to come back for review: an acceptance without an expiry never applies.
  const expires = toNanos(x.recorded.expiresAt);
  if (expires === undefined) return 'no_expiry';
  if (compareNanos(toNanos(asOf), expires) >= 0) return 'expired';
  if (x.recorded.expireOnFix && fixedSinceAccepted(scope, x, okScans())) return 'lapsed_on_fix';
  return 'active';
}

// An expire-on-fix acceptance lapses once every finding it covers has been resolved after it was recorded: an ok
// scan of the finding's scanner and target key, started after the acceptance, did not list it. It stays lapsed when
// the finding comes back, so a regression is not silently covered.
function fixedSinceAccepted(
  scope: ScopeState,
  x: ExceptionState,
  okScans: Map<string, ScanRecord[]>,
): boolean {
  const acceptedAt = toNanos(x.occurredAt);
  let matched = 0;
  for (const record of scope.findings.values()) {
    // Any report of the finding counts, whatever order the reports came in.
    let hit = false;
    for (const r of record.reports.values()) if (selectorMatches(x.recorded.selector, r.finding)) hit = true;
    if (!hit) continue;
    matched++;
    let fixed = false;
    for (const r of record.reports.values()) {
      const scan = scope.scans.get(r.scanId);
      if (!scan || scan.scanner === undefined || scan.targetKey === undefined) continue;
      for (const later of okScans.get(groupKey(scan.scanner, scan.targetKey)) ?? []) {
        if (
          compareNanos(toNanos(scanStartOf(later)), acceptedAt) > 0 &&
          !later.completed?.findingIds.includes(record.id)
        )
          fixed = true;
      }
    }
    if (!fixed) return false;
  }
  return matched > 0;
}

function okScansByGroup(scope: ScopeState): Map<string, ScanRecord[]> {
  const out = new Map<string, ScanRecord[]>();
  for (const scan of scope.scans.values()) {
    if (!isOkCompletion(scan.completed) || scan.scanner === undefined || scan.targetKey === undefined)
      continue;
    const key = groupKey(scan.scanner, scan.targetKey);
    const list = out.get(key) ?? [];
    list.push(scan);
    out.set(key, list);
  }
  return out;
}
