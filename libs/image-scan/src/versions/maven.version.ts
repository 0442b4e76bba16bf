// Maven version order, following Apache Maven 4's ComparableVersion: a version is a tree of lists (a new list at
// each "-" and at each digit/letter transition) of numbers, qualifiers and qualifier+number combinations
// ("alpha1", "x-1"); null items (0, "") are dropped where they do not change the order; qualifiers order
// alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp < others (lexically),
// case-insensitive. Only ASCII digits are numbers.
import {
  InvalidConstraintError,
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  compareDigits,
  compareStrings,
  isDigit,
  memoizeParse,
} from './scheme.js';

type Item =
  | { kind: 'int'; value: string }
  | { kind: 'str'; value: string }
  | { kind: 'combo'; str: StrItem; digits: Item }
  | { kind: 'list'; items: Item[] };
type StrItem = { kind: 'str'; value: string };

const QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const RELEASE_QUALIFIERS = ['ga', 'final', 'release'];
const RELEASE_INDEX = String(QUALIFIERS.indexOf(''));
const ZERO: Item = { kind: 'int', value: '0' };

function stringItem(value: string, followedByDigit: boolean): StrItem {
  let v = value;
  if (followedByDigit && v.length === 1)
    v = v === 'a' ? 'alpha' : v === 'b' ? 'beta' : v === 'm' ? 'milestone' : v;
  return { kind: 'str', value: v === 'cr' ? 'rc' : v };
}

function comparableQualifier(q: string): string {
  if (RELEASE_QUALIFIERS.includes(q)) return RELEASE_INDEX;
  const i = QUALIFIERS.indexOf(q);
  return i === -1 ? `${QUALIFIERS.length}-${q}` : String(i);
}

function numberItem(buf: string): Item {
  return { kind: 'int', value: buf.replace(/^0+/, '') || '0' };
}

/** "alpha1", "x-1": a qualifier glued to a number, ordered by the qualifier and then the number. */
function comboItem(buf: string): Item {
  const value = buf.replace(/-/g, '');
  let index = 0;
  for (let i = 0; i < value.length; i++) {
    if (isDigit(value[i])) {
      index = i;
      break;
    }
  }
  return {
    kind: 'combo',
    str: stringItem(value.slice(0, index), true),
    digits: numberItem(value.slice(index)),
  };
}

function parseItem(combination: boolean, digit: boolean, buf: string): Item {
  if (combination) return comboItem(buf);
  return digit ? numberItem(buf) : stringItem(buf, false);
}

function isNull(item: Item): boolean {
  if (item.kind === 'int') return item.value === '0';
  if (item.kind === 'str') return item.value === '';
  if (item.kind === 'combo') return false;
  return item.items.length === 0;
}

function normalize(list: Item[]): void {
  for (let i = list.length - 1; i >= 0; i--) {
    if (!isNull(list[i]!)) continue;
    const next = list[i + 1];
    if (next === undefined || next.kind === 'str') list.splice(i, 1);
    else if (next.kind === 'list') {
      const first = next.items[0];
      if (first && (first.kind === 'combo' || first.kind === 'str')) list.splice(i, 1);
    }
  }
  // Dropping a zero prefix must not leave an extra level of nesting.
  if (list.length === 1 && list[0]!.kind === 'list') list.splice(0, 1, ...list[0]!.items);
}

export function parse(version: string): Item {
  if (version.trim() === '') throw new InvalidVersionError('maven', version, 'empty version');
  const v = version.trim().toLowerCase();
  const root: Item[] = [];
  let list = root;
  const stack: Item[][] = [root];
  let digit = false;
  let combination = false;
  let start = 0;
  const push = (): void => {
    const next: Item[] = [];
    list.push({ kind: 'list', items: next });
    list = next;
    stack.push(next);
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '.') {
      list.push(i === start ? ZERO : parseItem(combination, digit, v.slice(start, i)));
      combination = false;
      start = i + 1;
    } else if (c === '-') {
      if (i === start) list.push(ZERO);
      else {
        // "x-1" reads as "x1".
        if (!digit && i !== v.length - 1 && isDigit(v[i + 1])) {
          combination = true;
          continue;
        }
        list.push(parseItem(combination, digit, v.slice(start, i)));
      }
      start = i + 1;
      if (list.length > 0) push();
      combination = false;
    } else if (isDigit(c)) {
      if (!digit && i > start) {
        combination = true;
        if (list.length > 0) push();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list.push(parseItem(combination, true, v.slice(start, i)));
        start = i;
        push();
        combination = false;
      }
      digit = false;
    }
  }
  if (v.length > start) {
    // 1.0.0.X1 < 1.0.0-X2: a trailing ".qualifier" is treated as "-qualifier".
    if (!digit && list.length > 0) push();
    list.push(parseItem(combination, digit, v.slice(start)));
  }
  while (stack.length) normalize(stack.pop()!);
  return { kind: 'list', items: root };
}

const neg = (s: Sign): Sign => (s === 0 ? 0 : s === 1 ? -1 : 1);

function compareItem(a: Item, b: Item | undefined): Sign {
  switch (a.kind) {
    case 'int':
      if (b === undefined) return a.value === '0' ? 0 : 1;
      return b.kind === 'int' ? compareDigits(a.value, b.value) : 1;
    case 'str':
      if (b === undefined) return compareStrings(comparableQualifier(a.value), RELEASE_INDEX);
      switch (b.kind) {
        case 'int':
          return -1;
        case 'str':
          return compareStrings(comparableQualifier(a.value), comparableQualifier(b.value));
        case 'combo': {
          const r = compareItem(a, b.str);
          if (r !== 0) return r;
          return compareItem(a, undefined) === 0 ? neg(compareItem(b.digits, undefined)) : -1;
        }
        default:
          return neg(compareItem(b, a));
      }
    case 'combo':
      if (b === undefined) {
        const r = compareItem(a.str, undefined);
        return r !== 0 ? r : compareItem(a.digits, undefined);
      }
      switch (b.kind) {
        case 'int':
          return -1;
        case 'str': {
          const r = compareItem(a.str, b);
          if (r !== 0) return r;
          return compareItem(a.str, undefined) === 0 ? compareItem(a.digits, undefined) : 1;
        }
        case 'combo': {
          const r = compareItem(a.str, b.str);
          return r !== 0 ? r : compareItem(a.digits, b.digits);
        }
        default:
          return neg(compareItem(b, a));
      }
    case 'list': {
      if (b === undefined) {
        for (const item of a.items) {
          const r = compareItem(item, undefined);
          if (r !== 0) return r;
        }
        return 0;
      }
      if (b.kind === 'int') return -1;
      if (b.kind === 'str' || b.kind === 'combo') {
        let r = a.items.length === 0 ? neg(compareItem(b, undefined)) : compareItem(a.items[0]!, b);
        for (let i = 1; r === 0 && i < a.items.length; i++) r = compareItem(a.items[i]!, undefined);
        return r;
      }
      const n = Math.max(a.items.length, b.items.length);
      for (let i = 0; i < n; i++) {
        const l = a.items[i];
        const r = b.items[i];
        const c =
          l === undefined ? (r === undefined ? 0 : neg(compareItem(r, undefined))) : compareItem(l, r);
        if (c !== 0) return c;
      }
      return 0;
    }
  }
}

const cachedParse = memoizeParse(parse);

export function compare(a: string, b: string): Sign {
  return compareItem(cachedParse(a), cachedParse(b));
}

/** Maven version ranges: "[1.0,2.0)", "(,1.0],[1.2,)", or a soft requirement "1.0" (matches that version only). */
export function satisfies(version: string, range: string): boolean {
  const r = range.replace(/\s+/g, '');
  if (!/^[[(]/.test(r)) return compare(version, r) === 0;
  const sets = r.match(/[[(][^\])]*[\])]/g);
  if (!sets || sets.join(',') !== r)
    throw new InvalidConstraintError('maven', range, 'expected [a,b), (,b], [a,) sets separated by ","');
  return sets.some((set) => {
    const lowerInclusive = set.startsWith('[');
    const upperInclusive = set.endsWith(']');
    const body = set.slice(1, -1);
    if (!body.includes(',')) {
      if (!lowerInclusive || !upperInclusive)
        throw new InvalidConstraintError('maven', range, `single version ${set} must be [v]`);
      return compare(version, body) === 0;
    }
    const [lo, hi] = body.split(',') as [string, string];
    if (lo !== '') {
      const c = compare(version, lo);
      if (lowerInclusive ? c < 0 : c <= 0) return false;
    }
    if (hi !== '') {
      const c = compare(version, hi);
      if (upperInclusive ? c > 0 : c >= 0) return false;
    }
    return true;
  });
}

export const mavenScheme: VersionScheme = { id: 'maven', parse, compare, satisfies };
