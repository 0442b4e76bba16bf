// RPM version order: rpmvercmp (rpm's lib/rpmvercmp.c) on version and release, after a numeric epoch.
// "~" sorts before anything (pre-releases), "^" after the base but before any further segment (snapshots).
import {
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  compareDigits,
  isDigit,
  isAsciiLetter,
  memoizeParse,
} from './scheme.js';

export interface RpmVersion {
  epoch: string;
  version: string;
  release: string | undefined;
}

const isAlnum = (c: string | undefined): boolean => isDigit(c) || isAsciiLetter(c);

export function parse(evr: string): RpmVersion {
  const v = evr.trim();
  if (v === '') throw new InvalidVersionError('rpm', evr, 'empty version');
  let epoch = '0';
  let rest = v;
  // Only a numeric prefix is an epoch; "1:2" is epoch 1, while "a:b" keeps its colon as an ordinary separator.
  const m = /^(\d+):(.*)$/.exec(v);
  if (m) {
    epoch = m[1]!;
    rest = m[2]!;
  }
  const dash = rest.lastIndexOf('-');
  return dash >= 0
    ? { epoch, version: rest.slice(0, dash), release: rest.slice(dash + 1) }
    : { epoch, version: rest, release: undefined };
}

/** rpmvercmp: one version or release string against another. */
export function rpmvercmp(a: string, b: string): Sign {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (!(i < a.length && j < b.length)) break;
    const numeric = isDigit(a[i]);
    const test = numeric ? isDigit : isAsciiLetter;
    let ie = i;
    let je = j;
    while (ie < a.length && test(a[ie])) ie++;
    while (je < b.length && test(b[je])) je++;
    const sa = a.slice(i, ie);
    const sb = b.slice(j, je);
    // Segments of different kinds: a number is newer than letters.
    if (sb === '') return numeric ? 1 : -1;
    const c = numeric ? compareDigits(sa, sb) : sa < sb ? -1 : sa > sb ? 1 : 0;
    if (c !== 0) return c;
    i = ie;
    j = je;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

const cachedParse = memoizeParse(parse);

export function compare(a: string, b: string): Sign {
  const x = cachedParse(a);
  const y = cachedParse(b);
  const e = compareDigits(x.epoch, y.epoch);
  if (e !== 0) return e;
  const v = rpmvercmp(x.version, y.version);
  if (v !== 0) return v;
  // rpm's rpmverCmp: with equal versions, the one that has a release (even an empty one) is newer.
  if (x.release === undefined || y.release === undefined)
    return x.release === y.release ? 0 : x.release === undefined ? -1 : 1;
  return rpmvercmp(x.release, y.release);
}

export const rpmScheme: VersionScheme = { id: 'rpm', parse, compare };
