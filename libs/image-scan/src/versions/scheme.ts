// The shared shape of every version scheme, so OSV range evaluation and the matchers can stay scheme-agnostic.

export type Sign = -1 | 0 | 1;

export interface VersionScheme {
  /** Stable kebab-case id of the scheme (`dpkg`, `apk`, `rpm`, `semver`, `pep440`, ...). */
  readonly id: string;
  /** Throws InvalidVersionError naming the version when the scheme cannot read it. */
  parse(version: string): unknown;
  /** Total order of the scheme: -1 when a sorts before b, 0 when equal, 1 when after. */
  compare(a: string, b: string): Sign;
  /** The ecosystem's own constraint syntax (npm ranges, PEP 440 specifiers, ...), where it has one. */
  satisfies?(version: string, constraint: string): boolean;
}

export class InvalidVersionError extends Error {
  constructor(
    readonly scheme: string,
    readonly version: string,
    readonly problem: string,
  ) {
    super(`invalid ${scheme} version ${JSON.stringify(version)}: ${problem}`);
    this.name = 'InvalidVersionError';
  }
}

export class InvalidConstraintError extends Error {
  constructor(
    readonly scheme: string,
    readonly constraint: string,
    readonly problem: string,
  ) {
    super(`invalid ${scheme} constraint ${JSON.stringify(constraint)}: ${problem}`);
    this.name = 'InvalidConstraintError';
  }
}

export function sign(n: number): Sign {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

/** Compares two runs of ASCII digits numerically whatever their length (versions overflow 64 bits in the wild). */
export function compareDigits(a: string, b: string): Sign {
  const x = a.replace(/^0+/, '');
  const y = b.replace(/^0+/, '');
  if (x.length !== y.length) return x.length < y.length ? -1 : 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Plain code-unit order, as C's strcmp and Java's String.compareTo give on ASCII. */
export function compareStrings(a: string, b: string): Sign {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
export const isAsciiLetter = (c: string | undefined): boolean =>
  c !== undefined && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));

/**
 * Evaluates a list of `op version` comparators joined by AND with a scheme's compare: the common core of the
 * ecosystems whose constraints are plain comparator sets (RubyGems, PEP 440 minus its special operators, ...).
 */
export function satisfiesComparator(
  scheme: VersionScheme,
  version: string,
  op: string,
  bound: string,
): boolean {
  const c = scheme.compare(version, bound);
  switch (op) {
    case '=':
    case '==':
      return c === 0;
    case '!=':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
    default:
      throw new InvalidConstraintError(scheme.id, `${op}${bound}`, `unknown operator ${JSON.stringify(op)}`);
  }
}

/**
 * A bounded memo of a pure parse: matching compares one installed version with every bound of every candidate
 * record, and the same bound strings recur across records, so each string is read once per batch instead of once
 * per comparison. Thrown errors are not kept (bad versions are rare and their errors carry the input). The cache
 * is dropped whole when full, so a long-running scanner stays bounded whatever the database holds. The parsed
 * values are shared: callers must not change them.
 */
export function memoizeParse<T>(parse: (version: string) => T, limit = 50_000): (version: string) => T {
  let cache = new Map<string, T>();
  return (version) => {
    const hit = cache.get(version);
    if (hit !== undefined || cache.has(version)) return hit as T;
    const value = parse(version);
    if (cache.size >= limit) cache = new Map();
    cache.set(version, value);
    return value;
  };
}
