// Composer/Packagist version order: PHP's version_compare after Composer's canonical form (leading "v" dropped,
// "-", "_", "+" as separators, a break at every digit/non-digit boundary). Special forms order
// dev < alpha = a < beta = b < RC = rc < (number) < pl = p; any other word sorts before dev.
import {
  InvalidConstraintError,
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  compareDigits,
} from './scheme.js';

export function parse(version: string): string[] {
  const v = version.trim().replace(/^[vV]/, '');
  if (v === '') throw new InvalidVersionError('packagist', version, 'empty version');
  return v
    .replace(/[-_+]/g, '.')
    .replace(/([^\d.])(\d)/g, '$1.$2')
    .replace(/(\d)([^\d.])/g, '$1.$2')
    .split('.')
    .filter((p) => p !== '');
}

const SPECIAL: [string, number][] = [
  ['dev', 0],
  ['alpha', 1],
  ['a', 1],
  ['beta', 2],
  ['b', 2],
  ['RC', 3],
  ['rc', 3],
  ['#', 4],
  ['pl', 5],
  ['p', 5],
];

function weight(part: string): number {
  for (const [form, w] of SPECIAL) if (part.startsWith(form)) return w;
  return -6;
}

const isNum = (s: string): boolean => /^\d+$/.test(s);

function compareParts(a: string[], b: string[]): Sign {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    let c: number;
    if (isNum(x) && isNum(y)) c = compareDigits(x, y);
    else c = weight(isNum(x) ? '#' : x) - weight(isNum(y) ? '#' : y);
    if (c !== 0) return c < 0 ? -1 : 1;
  }
  if (a.length > b.length) return isNum(a[b.length]!) ? 1 : compareParts(a.slice(b.length), ['#']);
  if (a.length < b.length) return isNum(b[a.length]!) ? -1 : compareParts(['#'], b.slice(a.length));
  return 0;
}

export function compare(a: string, b: string): Sign {
  return compareParts(parse(a), parse(b));
}

/**
 * Composer constraints: "||" alternatives of space- or comma-separated comparators (>=, <, !=, ...), exact versions,
 * wildcards (1.2.*), tilde (~1.2 = >=1.2 <2.0) and caret (^1.2 = >=1.2 <2.0.0), with optional @stability flags
 * (ignored for matching a concrete version).
 */
export function satisfies(version: string, constraint: string): boolean {
  const alternatives = constraint.split('||').map((a) => a.trim());
  return alternatives.some((alt) => {
    const clauses = alt
      .replace(/@\w+/g, '')
      .replace(/\s*-\s+/g, ' - ')
      .split(/[\s,]+/)
      .filter((c) => c !== '');
    if (clauses.length === 3 && clauses[1] === '-')
      return compare(version, clauses[0]!) >= 0 && compare(version, clauses[2]!) <= 0;
    return clauses.every((clause) => clauseMatches(version, clause, constraint));
  });
}

function bump(parts: string[], index: number): string {
  const out = parts.slice(0, index + 1).map((p) => p);
  out[index] = String(Number(out[index]) + 1);
  return out.join('.');
}

function clauseMatches(version: string, clause: string, whole: string): boolean {
  if (clause === '*') return true;
  const m = /^(>=|<=|!=|==|<>|=|>|<|~|\^)?v?(\S+)$/.exec(clause);
  if (!m) throw new InvalidConstraintError('packagist', whole, `cannot read ${JSON.stringify(clause)}`);
  const op = m[1] ?? '';
  const bound = m[2]!;
  if (bound.includes('*') || /\.x$/i.test(bound)) {
    const fixed = bound.split('.').filter((p) => p !== '*' && p.toLowerCase() !== 'x');
    if (fixed.length === 0) return true;
    return (
      compare(version, fixed.join('.')) >= 0 && compare(version, `${bump(fixed, fixed.length - 1)}.0-dev`) < 0
    );
  }
  const nums = bound.split(/[.-]/).filter(isNum);
  if (op === '~') {
    const upper = nums.length > 1 ? bump(nums, nums.length - 2) : bump(nums, 0);
    return compare(version, bound) >= 0 && compare(version, `${upper}-dev`) < 0;
  }
  if (op === '^') {
    const first = nums.findIndex((n) => n !== '0');
    const upper = bump(nums, first < 0 ? nums.length - 1 : first);
    return compare(version, bound) >= 0 && compare(version, `${upper}-dev`) < 0;
  }
  const c = compare(version, bound);
  switch (op) {
    case '':
    case '=':
    case '==':
      return c === 0;
    case '!=':
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    default:
      return c >= 0;
  }
}

export const packagistScheme: VersionScheme = { id: 'packagist', parse, compare, satisfies };
