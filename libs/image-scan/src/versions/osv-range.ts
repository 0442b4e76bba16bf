// Whether a version falls in an OSV "affected" entry's ranges and versions, per the OSV schema's evaluation:
// events sorted by version, "introduced" opens, "fixed" closes (exclusive), "last_affected" closes (inclusive);
// "limit" caps the range. SEMVER ranges always use SemVer order; ECOSYSTEM ranges the ecosystem's own.
import { versionScheme } from './registry.js';
import type { VersionScheme } from './scheme.js';
import { semverScheme } from './semver.version.js';

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT' | string;
  events: OsvEvent[];
}

export interface OsvAffected {
  ranges?: OsvRange[];
  versions?: string[];
}

function eventVersion(e: OsvEvent): string {
  return (e.introduced ?? e.fixed ?? e.last_affected ?? e.limit)!;
}

// Sorted events per range and scheme: a matcher evaluates the same record ranges for package after package, and
// sorting them (a scheme comparison per step) was most of the work. Keyed by the range object, so records that are
// dropped take their entries with them; ranges are not changed once read.
const sortedByRange = new WeakMap<OsvRange, Map<string, OsvEvent[]>>();

/**
 * The range's introduced/fixed/last_affected events in OSV evaluation order (introduced "0" first, then by the
 * scheme's order; equal versions keep the record's order). Limits are left out. Throws as the scheme's compare does.
 * The list is shared: callers must not change it.
 */
export function sortedEvents(scheme: VersionScheme, range: OsvRange): readonly OsvEvent[] {
  let byScheme = sortedByRange.get(range);
  const hit = byScheme?.get(scheme.id);
  if (hit) return hit;
  // introduced "0" means "since the first version"; any other "0" (fixed: "0") is an ordinary version.
  const isStart = (e: OsvEvent): boolean => e.introduced === '0';
  const order = (a: OsvEvent, b: OsvEvent): number => {
    if (isStart(a) || isStart(b)) return isStart(a) === isStart(b) ? 0 : isStart(a) ? -1 : 1;
    return scheme.compare(eventVersion(a), eventVersion(b));
  };
  const sorted = range.events
    .filter((e) => eventVersion(e) !== undefined && e.limit === undefined)
    .sort(order);
  if (!byScheme) sortedByRange.set(range, (byScheme = new Map()));
  byScheme.set(scheme.id, sorted);
  return sorted;
}

export function inRange(scheme: VersionScheme, version: string, range: OsvRange): boolean {
  const isStart = (e: OsvEvent): boolean => e.introduced === '0';
  let limited = false;
  let belowSomeLimit = false;
  for (const e of range.events) {
    if (e.limit === undefined) continue;
    limited = true;
    // In the record's order, stopping at the first limit above the version, as a plain every() would.
    if (!belowSomeLimit && (e.limit === '*' || scheme.compare(version, e.limit) < 0)) belowSomeLimit = true;
  }
  if (limited && !belowSomeLimit) return false;
  const sorted = sortedEvents(scheme, range);
  let affected = false;
  for (const e of sorted) {
    if (e.introduced !== undefined) {
      if (isStart(e) || scheme.compare(version, e.introduced) >= 0) affected = true;
    } else if (e.fixed !== undefined) {
      if (scheme.compare(version, e.fixed) >= 0) affected = false;
    } else if (e.last_affected !== undefined) {
      if (scheme.compare(version, e.last_affected) > 0) affected = false;
    }
  }
  return affected;
}

/**
 * True when `version` of a package in `ecosystem` is affected by one OSV `affected[]` entry (or by bare ranges).
 * GIT ranges name commits, not versions, and are ignored here.
 */
export function isAffected(ecosystem: string, version: string, affected: OsvAffected | OsvRange[]): boolean {
  const scheme = versionScheme(ecosystem);
  const entry: OsvAffected = Array.isArray(affected) ? { ranges: affected } : affected;
  if (entry.versions?.some((v) => v === version || safeEqual(scheme, v, version))) return true;
  return (entry.ranges ?? []).some((r) => {
    if (r.type === 'ECOSYSTEM') return inRange(scheme, version, r);
    if (r.type === 'SEMVER') return inRange(semverScheme, version, r);
    return false;
  });
}

function safeEqual(scheme: VersionScheme, a: string, b: string): boolean {
  try {
    return scheme.compare(a, b) === 0;
  } catch {
    return false;
  }
}
