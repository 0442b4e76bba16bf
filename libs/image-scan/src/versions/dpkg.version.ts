// Debian version order as dpkg implements it (lib/dpkg/version.c): [epoch:]upstream[-revision], each part
// compared by alternating non-digit and digit runs, "~" sorting before everything including the end of the string.
import {
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  isDigit,
  isAsciiLetter,
  memoizeParse,
  sign,
} from './scheme.js';

export interface DpkgVersion {
  epoch: number;
  upstream: string;
  revision: string;
}

export function parse(version: string): DpkgVersion {
  const v = version.trim();
  if (v === '') throw new InvalidVersionError('dpkg', version, 'empty version');
  if (/\s/.test(v)) throw new InvalidVersionError('dpkg', version, 'embedded whitespace');
  let epoch = 0;
  let rest = v;
  const colon = v.indexOf(':');
  if (colon >= 0) {
    const e = v.slice(0, colon);
    if (!/^\d+$/.test(e))
      throw new InvalidVersionError('dpkg', version, `epoch ${JSON.stringify(e)} is not a number`);
    epoch = Number(e);
    rest = v.slice(colon + 1);
  }
  const dash = rest.lastIndexOf('-');
  const upstream = dash >= 0 ? rest.slice(0, dash) : rest;
  const revision = dash >= 0 ? rest.slice(dash + 1) : '';
  if (upstream === '') throw new InvalidVersionError('dpkg', version, 'empty upstream version');
  if (!/^[A-Za-z0-9.+~:-]+$/.test(upstream))
    throw new InvalidVersionError(
      'dpkg',
      version,
      'upstream version has characters outside [A-Za-z0-9.+~:-]',
    );
  if (revision !== '' && !/^[A-Za-z0-9.+~]+$/.test(revision))
    throw new InvalidVersionError('dpkg', version, 'revision has characters outside [A-Za-z0-9.+~]');
  return { epoch, upstream, revision };
}

function order(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (isAsciiLetter(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

/** dpkg's verrevcmp on one part. */
export function compareFragment(a: string, b: string): Sign {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    let firstDiff = 0;
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const ac = order(a[i]);
      const bc = order(b[j]);
      if (ac !== bc) return sign(ac - bc);
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (firstDiff === 0) firstDiff = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (firstDiff !== 0) return sign(firstDiff);
  }
  return 0;
}

const cachedParse = memoizeParse(parse);

export function compare(a: string, b: string): Sign {
  const x = cachedParse(a);
  const y = cachedParse(b);
  if (x.epoch !== y.epoch) return x.epoch < y.epoch ? -1 : 1;
  return compareFragment(x.upstream, y.upstream) || compareFragment(x.revision, y.revision);
}

export const dpkgScheme: VersionScheme = { id: 'dpkg', parse, compare };
