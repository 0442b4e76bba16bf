// SemVer 2.0 order (npm, crates.io, Hex, and Go with its "v" prefix). Parsing is lenient the way OSV matching needs
// it: a leading "v"/"=", missing minor/patch (0), a pre-release without "-", and components past the third read
// as build metadata. Numbers are compared as digit strings, so 30-digit components still order.
import { InvalidVersionError, type Sign, type VersionScheme, compareDigits, memoizeParse } from './scheme.js';

export interface SemVer {
  core: [string, string, string];
  prerelease: string[];
  build: string;
}

export function parse(version: string, schemeId = 'semver'): SemVer {
  const v = version.trim().replace(/^=?\s*v?\s*/i, '');
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?(.*)$/s.exec(v);
  if (!m)
    throw new InvalidVersionError(schemeId, version, 'does not start with a number (MAJOR[.MINOR[.PATCH]])');
  let rest = m[4] ?? '';
  let build = '';
  let prerelease: string[] = [];
  if (rest.startsWith('.')) {
    // 1.1.3.4.5: the extra components are build metadata as far as ordering goes.
    const plus = rest.indexOf('+');
    const dash = rest.indexOf('-');
    const cut = dash >= 0 && (plus < 0 || dash < plus) ? dash : plus >= 0 ? plus : rest.length;
    build = rest.slice(0, cut);
    rest = rest.slice(cut);
  }
  const plus = rest.indexOf('+');
  if (plus >= 0) {
    build += rest.slice(plus);
    rest = rest.slice(0, plus);
  }
  if (rest !== '') {
    const pre = rest.startsWith('-') ? rest.slice(1) : rest;
    if (pre === '') throw new InvalidVersionError(schemeId, version, 'empty pre-release after "-"');
    prerelease = pre.split('.');
  }
  return { core: [m[1]!, m[2] ?? '0', m[3] ?? '0'], prerelease, build };
}

function compareIdentifier(a: string, b: string): Sign {
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn) return compareDigits(a, b);
  if (an) return -1;
  if (bn) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareParsed(x: SemVer, y: SemVer): Sign {
  for (let i = 0; i < 3; i++) {
    const c = compareDigits(x.core[i]!, y.core[i]!);
    if (c !== 0) return c;
  }
  if (x.prerelease.length === 0 || y.prerelease.length === 0) {
    return x.prerelease.length === y.prerelease.length ? 0 : x.prerelease.length === 0 ? 1 : -1;
  }
  const n = Math.min(x.prerelease.length, y.prerelease.length);
  for (let i = 0; i < n; i++) {
    const c = compareIdentifier(x.prerelease[i]!, y.prerelease[i]!);
    if (c !== 0) return c;
  }
  return x.prerelease.length === y.prerelease.length ? 0 : x.prerelease.length < y.prerelease.length ? -1 : 1;
}

// One memo per scheme id: the id is part of the error a bad version raises.
const parseSemver = memoizeParse((v: string) => parse(v));
const parseGo = memoizeParse((v: string) => parse(v, 'go'));

export function compare(a: string, b: string): Sign {
  return compareParsed(parseSemver(a), parseSemver(b));
}

export const semverScheme: VersionScheme = { id: 'semver', parse: (v) => parse(v), compare };

/** Go modules: semver with a "v" prefix; pseudo-versions (v0.0.0-20230101-abcdef) are pre-releases and order as such. */
export const goScheme: VersionScheme = {
  id: 'go',
  parse: (v) => parse(v, 'go'),
  compare: (a, b) => compareParsed(parseGo(a), parseGo(b)),
};

/** NuGet: up to four numeric parts, pre-release labels compared case-insensitively, build metadata ignored. */
export const nugetScheme: VersionScheme = {
  id: 'nuget',
  parse: (v) => parseNuget(v),
  compare: (a, b) => {
    const x = parseNuget(a);
    const y = parseNuget(b);
    for (let i = 0; i < 4; i++) {
      const c = compareDigits(x.parts[i] ?? '0', y.parts[i] ?? '0');
      if (c !== 0) return c;
    }
    return compareParsed(
      { core: ['0', '0', '0'], prerelease: x.pre, build: '' },
      { core: ['0', '0', '0'], prerelease: y.pre, build: '' },
    );
  },
};

function parseNuget(version: string): { parts: string[]; pre: string[] } {
  const m = /^\s*v?(\d+(?:\.\d+){0,3})(?:-([0-9A-Za-z.-]+))?(?:\+.*)?\s*$/.exec(version);
  if (!m) throw new InvalidVersionError('nuget', version, 'expected N[.N[.N[.N]]][-prerelease][+metadata]');
  return { parts: m[1]!.split('.'), pre: m[2] ? m[2].toLowerCase().split('.') : [] };
}
