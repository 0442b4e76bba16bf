// RubyGems version order (Gem::Version): numeric and alphabetic segments, a letter segment starts a pre-release
// (1.0.a < 1.0), trailing zeros of the release and the pre-release parts are ignored.
import {
  InvalidConstraintError,
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  compareDigits,
  compareStrings,
  satisfiesComparator,
} from './scheme.js';

type Segment = string;
const isNum = (s: Segment): boolean => /^\d+$/.test(s);

export function parse(version: string): Segment[] {
  const v = version.trim();
  // Gem::Version wants a dot before letters ("1.0.a"); advisories also carry "1beta", which orders the same way.
  if (!/^([0-9][0-9A-Za-z.-]*)?$/.test(v))
    throw new InvalidVersionError('rubygems', version, 'malformed version number string');
  const segments = v.replace(/-/g, '.pre.').match(/[0-9]+|[a-z]+/gi) ?? ['0'];
  const firstString = segments.findIndex((s) => !isNum(s));
  const parts = firstString < 0 ? [segments] : [segments.slice(0, firstString), segments.slice(firstString)];
  return parts.flatMap((p) => {
    let n = p.length;
    while (n > 0 && isNum(p[n - 1]!) && /^0+$/.test(p[n - 1]!)) n--;
    return p.slice(0, n);
  });
}

export function compare(a: string, b: string): Sign {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const l = x[i] ?? '0';
    const r = y[i] ?? '0';
    if (l === r) continue;
    const ln = isNum(l);
    const rn = isNum(r);
    if (!ln && rn) return -1;
    if (ln && !rn) return 1;
    const c = ln ? compareDigits(l, r) : compareStrings(l, r);
    if (c) return c;
  }
  return 0;
}

/** Gem requirements: comma-separated "op version" with =, !=, >, <, >=, <=, and the pessimistic "~>". */
export function satisfies(version: string, requirement: string): boolean {
  return requirement
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '')
    .every((clause) => {
      const m = /^(~>|>=|<=|!=|=|>|<)?\s*(\S+)$/.exec(clause);
      if (!m)
        throw new InvalidConstraintError('rubygems', requirement, `cannot read ${JSON.stringify(clause)}`);
      const op = m[1] ?? '=';
      const bound = m[2]!;
      if (op === '~>') {
        // ~> 2.2.3 means >= 2.2.3 and < 2.3; the upper bound drops the last segment and bumps the one before.
        const segs = bound.split('.').filter((s) => /^\d+$/.test(s));
        const upperSegs = segs.length > 1 ? segs.slice(0, -1) : segs;
        upperSegs[upperSegs.length - 1] = String(Number(upperSegs[upperSegs.length - 1]) + 1);
        return compare(version, bound) >= 0 && compare(version, `${upperSegs.join('.')}.a`) < 0;
      }
      return satisfiesComparator(rubygemsScheme, version, op, bound);
    });
}

export const rubygemsScheme: VersionScheme = { id: 'rubygems', parse, compare, satisfies };
