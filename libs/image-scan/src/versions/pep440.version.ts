// PEP 440 version order (Python packages), the way pypa/packaging orders them: epoch, release (trailing zeros
// ignored), then dev < pre (a < b < rc) < final < post, local versions after the same public version. Strings that
// are not PEP 440 ("legacy" versions still present in old advisories) order before every valid version, using
// packaging's historical LegacyVersion key.
import {
  InvalidConstraintError,
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  compareDigits,
  compareStrings,
  memoizeParse,
} from './scheme.js';

const PATTERN = new RegExp(
  '^\\s*v?' +
    '(?:(?<epoch>[0-9]+)!)?' +
    '(?<release>[0-9]+(?:\\.[0-9]+)*)' +
    '(?<pre>[-_.]?(?<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?<pre_n>[0-9]+)?)?' +
    '(?<post>(?:-(?<post_n1>[0-9]+))|(?:[-_.]?(?<post_l>post|rev|r)[-_.]?(?<post_n2>[0-9]+)?))?' +
    '(?<dev>[-_.]?(?<dev_l>dev)[-_.]?(?<dev_n>[0-9]+)?)?' +
    '(?:\\+(?<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?' +
    '\\s*$',
  'i',
);

export interface Pep440Version {
  epoch: string;
  release: string[];
  pre?: [string, string];
  post?: string;
  dev?: string;
  local?: string[];
}

export function parse(version: string): Pep440Version {
  const m = PATTERN.exec(version);
  if (!m?.groups) throw new InvalidVersionError('pep440', version, 'not a PEP 440 version');
  const g = m.groups;
  const preLabel = g['pre_l']?.toLowerCase();
  const pre: [string, string] | undefined = preLabel
    ? [
        preLabel === 'alpha'
          ? 'a'
          : preLabel === 'beta'
            ? 'b'
            : ['c', 'pre', 'preview'].includes(preLabel)
              ? 'rc'
              : preLabel,
        String(Number(g['pre_n'] ?? '0')),
      ]
    : undefined;
  const post = g['post'] ? strip(g['post_n1'] ?? g['post_n2'] ?? '0') : undefined;
  const dev = g['dev'] ? strip(g['dev_n'] ?? '0') : undefined;
  const local = g['local'] ? g['local'].toLowerCase().split(/[-_.]/) : undefined;
  const out: Pep440Version = {
    epoch: strip(g['epoch'] ?? '0'),
    release: g['release']!.split('.').map(strip),
  };
  if (pre) out.pre = pre;
  if (post !== undefined) out.post = post;
  if (dev !== undefined) out.dev = dev;
  if (local) out.local = local.map((p) => (/^\d+$/.test(p) ? strip(p) : p));
  return out;
}

const strip = (d: string): string => d.replace(/^0+(?=\d)/, '');

/** The canonical string form (packaging's str(Version(...))). */
export function normalize(version: string): string {
  const v = parse(version);
  let s = v.epoch !== '0' ? `${v.epoch}!` : '';
  s += v.release.join('.');
  if (v.pre) s += v.pre[0] + v.pre[1];
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
}

const PRE_RANK: Record<string, number> = { a: 0, b: 1, rc: 2 };

function compareValid(x: Pep440Version, y: Pep440Version): Sign {
  let c = compareDigits(x.epoch, y.epoch);
  if (c) return c;
  const rx = trimZeros(x.release);
  const ry = trimZeros(y.release);
  for (let i = 0; i < Math.max(rx.length, ry.length); i++) {
    c = compareDigits(rx[i] ?? '0', ry[i] ?? '0');
    if (c) return c;
  }
  // Pre-release slot: a dev release of a final sorts before its pre-releases; a final after them.
  const preKey = (v: Pep440Version): [number, string] =>
    v.pre
      ? [PRE_RANK[v.pre[0]]!, v.pre[1]]
      : v.post === undefined && v.dev !== undefined
        ? [-1, '0']
        : [9, '0'];
  const px = preKey(x);
  const py = preKey(y);
  if (px[0] !== py[0]) return px[0] < py[0] ? -1 : 1;
  c = compareDigits(px[1], py[1]);
  if (c) return c;
  if (x.post !== y.post) {
    if (x.post === undefined) return -1;
    if (y.post === undefined) return 1;
    c = compareDigits(x.post, y.post);
    if (c) return c;
  }
  if (x.dev !== y.dev) {
    if (x.dev === undefined) return 1;
    if (y.dev === undefined) return -1;
    c = compareDigits(x.dev, y.dev);
    if (c) return c;
  }
  return compareLocal(x.local, y.local);
}

function compareLocal(a: string[] | undefined, b: string[] | undefined): Sign {
  if (!a || !b) return a === b ? 0 : a ? 1 : -1;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const p = a[i];
    const q = b[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    const pn = /^\d+$/.test(p);
    const qn = /^\d+$/.test(q);
    // Numeric segments sort after alphanumeric ones.
    const c = pn && qn ? compareDigits(p, q) : pn ? 1 : qn ? -1 : compareStrings(p, q);
    if (c) return c;
  }
  return 0;
}

function trimZeros(release: string[]): string[] {
  let n = release.length;
  while (n > 1 && release[n - 1] === '0') n--;
  return release.slice(0, n);
}

/** packaging's LegacyVersion key, which ordered every non-PEP 440 string before all valid versions. */
function legacyKey(version: string): string[] {
  const parts: string[] = [];
  const replace: Record<string, string> = { pre: 'c', preview: 'c', '-': 'final-', rc: 'c', dev: '@' };
  for (const raw of version.toLowerCase().split(/(\d+|[a-z]+|\.|-)/)) {
    const part = replace[raw] ?? raw;
    if (part === '' || part === '.') continue;
    const piece = /^\d/.test(part) ? part.padStart(8, '0') : `*${part}`;
    if (piece.startsWith('*')) {
      if (piece < '*final') while (parts.length && parts[parts.length - 1] === '*final-') parts.pop();
      while (parts.length && parts[parts.length - 1] === '00000000') parts.pop();
    }
    parts.push(piece);
  }
  parts.push('*final');
  return parts;
}

function compareLegacy(a: string[], b: string[]): Sign {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const c = compareStrings(a[i]!, b[i]!);
    if (c) return c;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

// undefined (not PEP 440) is kept too: legacy strings recur in old advisories' versions lists.
const tryParse = memoizeParse((v: string): Pep440Version | undefined => {
  try {
    return parse(v);
  } catch {
    return undefined;
  }
});
const cachedLegacyKey = memoizeParse(legacyKey);

export function compare(a: string, b: string): Sign {
  const x = tryParse(a);
  const y = tryParse(b);
  if (x && y) return compareValid(x, y);
  if (x) return 1;
  if (y) return -1;
  return compareLegacy(cachedLegacyKey(a), cachedLegacyKey(b));
}

/** PEP 440 specifiers: comma-separated clauses with ==, !=, <=, >=, <, >, ~= and ===, "==1.2.*" prefix matches. */
export function satisfies(version: string, specifier: string): boolean {
  const v = parse(version);
  const clauses = specifier
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  return clauses.every((clause) => {
    const m = /^(~=|===|==|!=|<=|>=|<|>)\s*(\S+)$/.exec(clause);
    if (!m)
      throw new InvalidConstraintError('pep440', specifier, `cannot read clause ${JSON.stringify(clause)}`);
    const op = m[1]!;
    const bound = m[2]!;
    if (op === '===') return version.trim() === bound;
    if ((op === '==' || op === '!=') && bound.endsWith('.*')) {
      const prefix = parse(bound.slice(0, -2));
      const release = v.release;
      const matches =
        v.epoch === prefix.epoch && prefix.release.every((p, i) => compareDigits(p, release[i] ?? '0') === 0);
      return op === '==' ? matches : !matches;
    }
    const b = parse(bound);
    if (op === '~=') {
      if (b.release.length < 2)
        throw new InvalidConstraintError('pep440', specifier, '~= needs at least two release parts');
      const prefix = b.release.slice(0, -1);
      return compareValid(v, b) >= 0 && prefix.every((p, i) => compareDigits(p, v.release[i] ?? '0') === 0);
    }
    const c = compareValid(v, b);
    // Local versions match a public bound (1.0+abc == 1.0) per PEP 440.
    const cPublic = b.local ? c : compareValid({ ...v, local: undefined } as Pep440Version, b);
    switch (op) {
      case '==':
        return cPublic === 0;
      case '!=':
        return cPublic !== 0;
      case '<=':
        return cPublic <= 0;
      case '>=':
        return cPublic >= 0;
      case '<': {
        // "<V" excludes pre-releases of V itself unless V is a pre-release.
        const preOfBound =
          (v.pre !== undefined || v.dev !== undefined) && !b.pre && b.dev === undefined && sameRelease(v, b);
        return c < 0 && !preOfBound;
      }
      default:
        // ">V" excludes post-releases of V itself unless V is a post-release.
        return cPublic > 0 && !(v.post !== undefined && b.post === undefined && sameRelease(v, b));
    }
  });
}

function sameRelease(x: Pep440Version, y: Pep440Version): boolean {
  const a = trimZeros(x.release);
  const b = trimZeros(y.release);
  return a.length === b.length && a.every((p, i) => p === b[i]);
}

/**
 * A key equal for two versions exactly when compare says they are equal: the release without trailing zeros and
 * every other slot the order reads; strings that are not PEP 440 key as their LegacyVersion key.
 */
export function canonicalKey(version: string): string {
  const v = tryParse(version);
  if (!v) return `legacy:${JSON.stringify(cachedLegacyKey(version))}`;
  let s = `${v.epoch}!${trimZeros(v.release).join('.')}`;
  if (v.pre) s += v.pre[0] + v.pre[1];
  if (v.post !== undefined) s += `.post${v.post}`;
  if (v.dev !== undefined) s += `.dev${v.dev}`;
  if (v.local) s += `+${v.local.join('.')}`;
  return s;
}

export const pep440Scheme: VersionScheme = { id: 'pep440', parse, compare, satisfies };
