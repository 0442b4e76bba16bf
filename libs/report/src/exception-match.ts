import {
  ExceptionKind,
  type Asset,
  type ExceptionRevoked,
  type Finding,
  type FindingSelector,
} from '@vigil/contracts';
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
  // An exception recorded before the kind existed is a risk acceptance.
  readonly kind: ExceptionKind;
  readonly revocation: ExceptionRevoked | undefined;
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
  if (selector.packages.length > 0) {
    criteria++;
    if (!selector.packages.some((p) => packageMatches(p, finding))) return false;
  }
  if (selector.paths.length > 0) {
    criteria++;
    if (!selector.paths.some((p) => finding.locations.some((l) => pathMatches(p, l)))) return false;
  }
  return criteria > 0;
}

// A package criterion is a name ("openssl") or a purl without version ("pkg:deb/debian/openssl"). The version is
// left out on purpose: an acceptance of a package must survive a rebuild that bumps it. A purl criterion also
// matches the source package a binary was built from, as an advisory for "openssl" covers "libssl3".
export function packageMatches(criterion: string, finding: Finding): boolean {
  const pkg = finding.package;
  if (!pkg) return false;
  if (!criterion.startsWith('pkg:')) return criterion === pkg.name || criterion === pkg.sourceName;
  const want = purlWithoutVersion(criterion);
  if (want === purlWithoutVersion(pkg.purl)) return true;
  // pkg:deb/debian/libssl3 → pkg:deb/debian/openssl, when the source package differs.
  if (!pkg.sourceName) return false;
  const own = purlWithoutVersion(pkg.purl);
  const slash = own.lastIndexOf('/');
  return slash > 0 && want === `${own.slice(0, slash + 1)}${pkg.sourceName}`;
}

// "pkg:deb/debian/openssl@3.0.11-1?distro=debian-12#sub" → "pkg:deb/debian/openssl". The version starts at the
// first "@" after the last "/" (npm scopes are written %40 in a purl's namespace, so they cannot be confused).
export function purlWithoutVersion(purl: string): string {
  let end = purl.length;
  for (const c of ['#', '?']) {
    const i = purl.indexOf(c);
    if (i >= 0 && i < end) end = i;
  }
  const base = purl.slice(0, end);
  const at = base.indexOf('@', base.lastIndexOf('/') + 1);
  return at >= 0 ? base.slice(0, at) : base;
}

// Exact, or a directory prefix when the criterion ends in "/": "/usr/lib/" covers "/usr/lib/x/libssl.so.3" but
// "/usr/lib" covers only itself, so "/usr/lib64/..." is never taken in by accident.
export function pathMatches(criterion: string, location: string): boolean {
  if (criterion === '') return false;
  return criterion.endsWith('/') ? location.startsWith(criterion) : location === criterion;
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
      kind: x.recorded.kind === ExceptionKind.UNSPECIFIED ? ExceptionKind.RISK_ACCEPTANCE : x.recorded.kind,
      revocation: scope.revocations.get(x.id),
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

// Which exceptions' selectors match a finding, without testing every selector against every finding: each selector
// is filed under one criterion every match must satisfy (finding id, rule id or package), and only the selectors
// filed under the finding's own keys — plus those with none of these criteria — are tested in full. At 200,000
// findings and a few hundred exceptions this keeps a snapshot's exception work linear in the findings.
export class ExceptionMatcher {
  private readonly byKey = new Map<string, ExceptionView[]>();
  private readonly unindexed: ExceptionView[] = [];
  private readonly cache = new WeakMap<Finding, readonly ExceptionView[]>();

  constructor(views: readonly ExceptionView[]) {
    for (const v of views) {
      const keys = indexKeys(v.exception.recorded.selector);
      if (keys === undefined) this.unindexed.push(v);
      else
        for (const k of keys) {
          const list = this.byKey.get(k) ?? [];
          list.push(v);
          this.byKey.set(k, list);
        }
    }
  }

  /** The exceptions (of any standing) whose selector matches the finding, in id order. */
  matching(finding: Finding): readonly ExceptionView[] {
    let hit = this.cache.get(finding);
    if (hit) return hit;
    const candidates = new Set<ExceptionView>(this.unindexed);
    for (const k of findingKeys(finding)) for (const v of this.byKey.get(k) ?? []) candidates.add(v);
    hit = [...candidates]
      .filter((v) => selectorMatches(v.exception.recorded.selector, finding))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    this.cache.set(finding, hit);
    return hit;
  }
}

// The cheapest criterion a match must satisfy, as keys; undefined when the selector has none of them.
function indexKeys(s: FindingSelector | undefined): string[] | undefined {
  if (!s) return [];
  if (s.findingIds.length > 0) return s.findingIds.map((id) => `id:${id}`);
  if (s.ruleIds.length > 0) return s.ruleIds.map((id) => `rule:${id}`);
  if (s.packages.length > 0)
    return s.packages.map((p) => `pkg:${p.startsWith('pkg:') ? lastSegment(purlWithoutVersion(p)) : p}`);
  return undefined;
}

function findingKeys(f: Finding): string[] {
  const keys = [`id:${f.id}`, `rule:${f.ruleId}`, ...f.aliases.map((a) => `rule:${a}`)];
  const p = f.package;
  if (p) {
    if (p.name) keys.push(`pkg:${p.name}`);
    if (p.sourceName) keys.push(`pkg:${p.sourceName}`);
    if (p.purl) keys.push(`pkg:${lastSegment(purlWithoutVersion(p.purl))}`);
  }
  return keys;
}

function lastSegment(purl: string): string {
  return purl.slice(purl.lastIndexOf('/') + 1);
}
