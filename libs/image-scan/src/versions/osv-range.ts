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

export function inRange(scheme: VersionScheme, version: string, range: OsvRange): boolean {
  // introduced "0" means "since the first version"; any other "0" (fixed: "0") is an ordinary version.
  const isStart = (e: OsvEvent): boolean => e.introduced === '0';
  const order = (a: OsvEvent, b: OsvEvent): number => {
    if (isStart(a) || isStart(b)) return isStart(a) === isStart(b) ? 0 : isStart(a) ? -1 : 1;
    return scheme.compare(eventVersion(a), eventVersion(b));
  };
  const events = range.events.filter((e) => eventVersion(e) !== undefined);
  const limits = events.filter((e) => e.limit !== undefined).map((e) => e.limit!);
  if (limits.length > 0 && limits.every((l) => l !== '*' && scheme.compare(version, l) >= 0)) return false;
  const sorted = events.filter((e) => e.limit === undefined).sort(order);
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
