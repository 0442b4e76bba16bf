// npm: SemVer order plus node-semver's range grammar ("||" sets of comparators, hyphen ranges, x-ranges, ~ and ^).
// A pre-release version only satisfies a set that names a pre-release of the same MAJOR.MINOR.PATCH, as in npm,
// unless includePrerelease is asked for.
import { InvalidConstraintError, type VersionScheme, memoizeParse } from './scheme.js';
import { type SemVer, compareParsed, parse } from './semver.version.js';

interface Comparator {
  op: '<' | '<=' | '>' | '>=' | '=';
  v: SemVer;
}

const ANY: Comparator[] = [];
const semver = (
  major: number | string,
  minor: number | string,
  patch: number | string,
  pre: string[] = [],
): SemVer => ({
  core: [String(major), String(minor), String(patch)],
  prerelease: pre,
  build: '',
});
const isX = (p: string | undefined): boolean =>
  p === undefined || p === '' || p === 'x' || p === 'X' || p === '*';

interface Partial {
  parts: (string | undefined)[];
  pre: string[];
}

function partial(text: string, range: string): Partial {
  const m =
    /^v?(\d+|[xX*])?(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-?([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/.exec(
      text,
    );
  if (!m) throw new InvalidConstraintError('npm', range, `cannot read version ${JSON.stringify(text)}`);
  const parts = [m[1], m[2], m[3]].map((p) => (isX(p) ? undefined : String(Number(p))));
  // Once a part is a wildcard, everything after it is too (1.x.3 means 1.x).
  for (let i = 0; i < 3; i++) if (parts[i] === undefined) parts.fill(undefined, i);
  return { parts, pre: m[4] && parts[2] !== undefined ? m[4].split('.') : [] };
}

function expand(op: string, text: string, range: string): Comparator[] {
  const { parts, pre } = partial(text, range);
  const [M, m, p] = parts;
  const n = (s: string | undefined): number => Number(s ?? 0);
  if (op === '~') {
    if (M === undefined) return ANY;
    const upper = m === undefined ? semver(n(M) + 1, 0, 0, ['0']) : semver(M, n(m) + 1, 0, ['0']);
    return [
      { op: '>=', v: semver(M, m ?? 0, p ?? 0, pre) },
      { op: '<', v: upper },
    ];
  }
  if (op === '^') {
    if (M === undefined) return ANY;
    let upper: SemVer;
    if (M !== '0' || m === undefined) upper = semver(n(M) + 1, 0, 0, ['0']);
    else if (m !== '0' || p === undefined) upper = semver(0, n(m) + 1, 0, ['0']);
    else upper = semver(0, 0, n(p) + 1, ['0']);
    return [
      { op: '>=', v: semver(M, m ?? 0, p ?? 0, pre) },
      { op: '<', v: upper },
    ];
  }
  if (M === undefined) return op === '<' || op === '>' ? [{ op: '<', v: semver(0, 0, 0, ['0']) }] : ANY;
  if (m === undefined || p === undefined) {
    const low = semver(M, m ?? 0, 0);
    const high = m === undefined ? semver(n(M) + 1, 0, 0, ['0']) : semver(M, n(m) + 1, 0, ['0']);
    switch (op) {
      case '>':
        return [{ op: '>=', v: { ...high, prerelease: [] } }];
      case '>=':
        return [{ op: '>=', v: low }];
      case '<':
        return [{ op: '<', v: { ...low, prerelease: ['0'] } }];
      case '<=':
        return [{ op: '<', v: high }];
      default:
        return [
          { op: '>=', v: low },
          { op: '<', v: high },
        ];
    }
  }
  const v = semver(M, m, p, pre);
  return [{ op: (op === '' ? '=' : op) as Comparator['op'], v }];
}

function parseSet(set: string, range: string): Comparator[] {
  const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(set);
  if (hyphen) {
    const lo = partial(hyphen[1]!, range);
    const hi = hyphen[2]!;
    return [
      ...(lo.parts[0] === undefined ? [] : expand('>=', hyphen[1]!, range)),
      ...expand('<=', hi, range),
    ];
  }
  const tokens = set
    .replace(/(<=|>=|<|>|=|~>?|\^)\s+/g, '$1')
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '');
  return tokens.flatMap((t) => {
    const m = /^(<=|>=|<|>|=|~>?|\^)?(.*)$/.exec(t)!;
    const op = m[1] === '~>' ? '~' : (m[1] ?? '');
    return expand(op, m[2]!, range);
  });
}

function test(c: Comparator, v: SemVer): boolean {
  const x = compareParsed(v, c.v);
  switch (c.op) {
    case '<':
      return x < 0;
    case '<=':
      return x <= 0;
    case '>':
      return x > 0;
    case '>=':
      return x >= 0;
    default:
      return x === 0;
  }
}

export function satisfies(
  version: string,
  range: string,
  options: { includePrerelease?: boolean } = {},
): boolean {
  const v = parse(version, 'npm');
  return range.split('||').some((set) => {
    const comparators = parseSet(set, range);
    if (!comparators.every((c) => test(c, v))) return false;
    if (v.prerelease.length === 0 || options.includePrerelease) return true;
    return comparators.some(
      (c) => c.v.prerelease.length > 0 && c.v.core.every((part, i) => part === v.core[i]),
    );
  });
}

const parseNpm = memoizeParse((v: string) => parse(v, 'npm'));

export const npmScheme: VersionScheme = {
  id: 'npm',
  parse: (v) => parse(v, 'npm'),
  compare: (a, b) => compareParsed(parseNpm(a), parseNpm(b)),
  satisfies: (v, r) => satisfies(v, r),
};
