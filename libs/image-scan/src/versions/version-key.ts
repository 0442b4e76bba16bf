// Canonical keys of versions: per scheme, a string such that two versions compare equal in that scheme exactly
// when their keys are equal. They let a store test "is this version in an advisory's versions list" with plain
// string equality (in SQL, on an index) instead of shipping the list to the matcher. Only schemes whose equality is
// fully understood have one: for the others (apk, rpm, Maven, RubyGems, Packagist) versionKey answers undefined and
// the lists stay with the records, because a key that merged or split versions the compare does not would change
// what matches.
import { parse as parseDpkg } from './dpkg.version.js';
import { canonicalKey as pep440Key } from './pep440.version.js';
import { versionScheme } from './registry.js';
import { InvalidVersionError } from './scheme.js';
import { parse as parseSemver, type SemVer } from './semver.version.js';

const stripZeros = (digits: string): string => digits.replace(/^0+(?=\d)/, '');

/** SemVer order (semver, npm, Go): the build metadata never counts, numbers and numeric identifiers by value. */
function semverKey(v: SemVer): string {
  const core = v.core.map(stripZeros).join('.');
  if (!v.prerelease.length) return core;
  return `${core}-${v.prerelease.map((id) => (/^\d+$/.test(id) ? stripZeros(id) : id)).join('.')}`;
}

/**
 * One dpkg part (upstream or revision) as verrevcmp sees it: alternating runs of non-digits, compared character
 * by character, and digits, compared by value, where a missing digit run counts as 0 ("1.0a" == "1.0a0", "" ==
 * "0"). Non-digit runs after the first are never empty, so writing each run followed by its value (0 when absent)
 * is unambiguous.
 */
function dpkgPartKey(part: string): string {
  let out = '';
  let i = 0;
  while (i < part.length) {
    let j = i;
    while (j < part.length && !(part[j]! >= '0' && part[j]! <= '9')) j++;
    const text = part.slice(i, j);
    let k = j;
    while (k < part.length && part[k]! >= '0' && part[k]! <= '9') k++;
    out += text + stripZeros(part.slice(j, k) || '0');
    i = k;
  }
  // A part that is only a zero equals no part at all ("1.0-0" == "1.0").
  return out === '0' ? '' : out;
}

/** dpkg order: epoch made explicit, each part canonical, the revision after the last "-". */
function dpkgKey(version: string): string {
  const v = parseDpkg(version);
  return `${v.epoch}:${dpkgPartKey(v.upstream)}-${dpkgPartKey(v.revision)}`;
}

/** NuGet: four numeric parts by value (missing ones 0), pre-release labels case-insensitive, metadata ignored. */
function nugetKey(version: string): string {
  const m = /^\s*v?(\d+(?:\.\d+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+.*)?\s*$/.exec(version);
  if (!m) throw new InvalidVersionError('nuget', version, 'expected N[.N[.N[.N]]][-prerelease][+metadata]');
  const parts = m[1]!.split('.').map(stripZeros);
  while (parts.length < 4) parts.push('0');
  const pre = m[2] ? m[2].toLowerCase().split('.') : [];
  const preKey = pre.map((id) => (/^\d+$/.test(id) ? stripZeros(id) : id)).join('.');
  return pre.length ? `${parts.join('.')}-${preKey}` : parts.join('.');
}

/** Per scheme id: the canonical form, throwing InvalidVersionError where the scheme's compare would throw. */
const KEY_BY_SCHEME: Record<string, (version: string) => string> = {
  semver: (v) => semverKey(parseSemver(v)),
  npm: (v) => semverKey(parseSemver(v, 'npm')),
  go: (v) => semverKey(parseSemver(v, 'go')),
  nuget: nugetKey,
  dpkg: dpkgKey,
  pep440: pep440Key,
};

/** Whether versions of this scheme id have canonical keys. */
export function hasVersionKeys(schemeId: string): boolean {
  return Object.hasOwn(KEY_BY_SCHEME, schemeId);
}

/** The scheme's canonical key of a version; throws InvalidVersionError when the scheme cannot read it. */
export function schemeVersionKey(schemeId: string, version: string): string {
  const key = KEY_BY_SCHEME[schemeId];
  if (!key) throw new Error(`version scheme ${JSON.stringify(schemeId)} has no canonical version keys`);
  return key(version);
}

/**
 * The key a versions list is tested with, for a version of a package in `ecosystem`: equal for two versions
 * exactly when the matcher's list test (the same string, or the scheme's compare says equal) holds for them.
 * A version the scheme cannot read equals only itself, so it keys as its raw text under another prefix.
 * Undefined when the ecosystem is unknown or its scheme has no canonical form (the list must be scanned).
 */
export function versionKey(ecosystem: string, version: string): string | undefined {
  let schemeId: string;
  try {
    schemeId = versionScheme(ecosystem).id;
  } catch {
    return undefined;
  }
  const key = KEY_BY_SCHEME[schemeId];
  if (!key) return undefined;
  try {
    return `k:${key(version)}`;
  } catch (err) {
    if (err instanceof InvalidVersionError) return `r:${version}`;
    throw err;
  }
}
