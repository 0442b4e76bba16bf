// Alpine package version order as apk-tools 3 implements it: digits{.digits}[letter]{_suffix[N]}[~hash][-rN],
// read token by token. Pre-release suffixes (_alpha, _beta, _pre, _rc) sort before the bare version, post-release
// ones (_cvs, _svn, _git, _hg, _p) after. A component after "." with a leading zero compares as a decimal fraction
// (1.001 < 1.01 < 1.1). Versions apk calls invalid still order: comparison stops where they stop reading, and an
// invalid tail sorts before any valid continuation.
import {
  InvalidVersionError,
  type Sign,
  type VersionScheme,
  compareDigits,
  compareStrings,
  isDigit,
} from './scheme.js';

const enum T {
  DigitOrZero = 0,
  Digit = 1,
  Letter = 2,
  Suffix = 3,
  SuffixNo = 4,
  Hash = 5,
  RevisionNo = 6,
  End = 7,
  Invalid = 8,
}

const PRE = ['alpha', 'beta', 'pre', 'rc'];
const POST = ['cvs', 'svn', 'git', 'hg', 'p'];
const isLower = (c: string | undefined): boolean => c !== undefined && c >= 'a' && c <= 'z';
const isHex = (c: string | undefined): boolean => isDigit(c) || (c !== undefined && c >= 'a' && c <= 'f');

/** A token's sort key: a number (digit string), a small ordinal, or a string compared lexically. */
type Key = { num: string } | { val: number } | { str: string };

class Reader {
  pos = 0;
  type: T = T.Digit;
  constructor(readonly s: string) {}

  private nextType(): void {
    const s = this.s;
    const c = s[this.pos];
    const prev = this.type;
    let n: T = T.Invalid;
    if (c === undefined) n = T.End;
    else if (prev === T.RevisionNo) n = T.Invalid;
    else if ((prev === T.Digit || prev === T.DigitOrZero) && isLower(c)) n = T.Letter;
    else if (prev === T.Suffix && isDigit(c)) n = T.SuffixNo;
    else {
      if (c === '.') n = isDigit(s[this.pos + 1]) ? T.DigitOrZero : T.Invalid;
      else if (c === '_') n = isKnownSuffix(s, this.pos + 1) ? T.Suffix : T.Invalid;
      else if (c === '~') n = isHex(s[this.pos + 1]) ? T.Hash : T.Invalid;
      else if (c === '-') {
        // A bare trailing "-r" reads as revision 0, as apk 2 (and OSV) read it; "-rx" is invalid.
        if (s[this.pos + 1] === 'r' && (isDigit(s[this.pos + 2]) || this.pos + 2 === s.length)) {
          n = T.RevisionNo;
          this.pos++;
        }
      }
      // Stay on the character that could not be read, so the fallback string sort sees it.
      if (n !== T.Invalid) this.pos++;
    }
    if (n < prev) {
      const allowed = (n === T.DigitOrZero && prev === T.Digit) || (n === T.Suffix && prev === T.SuffixNo);
      if (!allowed) n = T.Invalid;
    }
    this.type = n;
  }

  /** Reads the current token, returns its key and moves to the next token's type. */
  token(): Key {
    const s = this.s;
    if (this.pos >= s.length) {
      this.type = T.End;
      return { val: 0 };
    }
    let out: Key;
    switch (this.type) {
      case T.DigitOrZero:
      case T.Digit:
      case T.SuffixNo:
      case T.RevisionNo: {
        let k = this.pos;
        while (isDigit(s[k])) k++;
        const digits = s.slice(this.pos, k);
        // Gentoo/apk rule: a fractional component with a leading zero compares as a string, trailing zeros ignored.
        out =
          this.type === T.DigitOrZero && digits.startsWith('0')
            ? { str: digits.replace(/0+$/, '') }
            : { num: digits };
        this.pos = k;
        break;
      }
      case T.Letter:
        out = { val: s.charCodeAt(this.pos) };
        this.pos++;
        break;
      case T.Suffix: {
        const rest = s.slice(this.pos);
        const pre = PRE.findIndex((p) => rest.startsWith(p));
        const post = pre >= 0 ? -1 : POST.findIndex((p) => rest.startsWith(p));
        if (pre < 0 && post < 0) {
          this.type = T.Invalid;
          return { val: -1 };
        }
        out = { val: pre >= 0 ? pre - PRE.length : post };
        this.pos += pre >= 0 ? PRE[pre]!.length : POST[post]!.length;
        break;
      }
      case T.Hash: {
        let k = this.pos;
        while (isHex(s[k])) k++;
        out = { str: s.slice(this.pos, k) };
        this.pos = k;
        break;
      }
      default:
        this.type = T.Invalid;
        return { val: -1 };
    }
    this.nextType();
    return out;
  }
}

function compareKeys(a: Key, b: Key): Sign {
  if ('str' in a || 'str' in b) {
    const x = 'str' in a ? a.str : 'num' in a ? a.num : String(a.val);
    const y = 'str' in b ? b.str : 'num' in b ? b.num : String(b.val);
    return compareStrings(x, y);
  }
  if ('num' in a && 'num' in b) return compareDigits(a.num, b.num);
  const x = 'num' in a ? Number(a.num) : a.val;
  const y = 'num' in b ? Number(b.num) : b.val;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** apk's validity check: the whole string reads as a version. */
export function isValid(version: string): boolean {
  if (!isDigit(version[0]) || version.endsWith('-r')) return false;
  const r = new Reader(version);
  while (r.type !== T.End && r.type !== T.Invalid) r.token();
  return r.type === T.End;
}

export function parse(version: string): string {
  if (!isValid(version))
    throw new InvalidVersionError(
      'apk',
      version,
      'does not read as digits{.digits}[letter]{_suffix[N]}[~hash][-rN]',
    );
  return version;
}

export function compare(a: string, b: string): Sign {
  const ra = new Reader(a);
  const rb = new Reader(b);
  let c: Sign = 0;
  while (ra.type === rb.type && ra.type !== T.End && ra.type !== T.Invalid && c === 0) {
    c = compareKeys(ra.token(), rb.token());
  }
  if (c !== 0) return c;
  // Both stop reading at the same point: apk cannot order the rest, so fall back to a plain string sort of it.
  // A broken revision tail ("-r0-1", "-ruff") carries no order at all (OSV's apk comparator ignores it).
  if (ra.type === T.Invalid && rb.type === T.Invalid) {
    if (a[ra.pos] === '-' && b[rb.pos] === '-') return 0;
    return compareStrings(a.slice(ra.pos), b.slice(rb.pos));
  }
  if (ra.type === rb.type) return 0;
  // Equal so far: the longer one is newer unless what follows is a pre-release suffix.
  if (ra.type === T.Suffix && isPreSuffix(a, ra.pos)) return -1;
  if (rb.type === T.Suffix && isPreSuffix(b, rb.pos)) return 1;
  return ra.type > rb.type ? -1 : 1;
}

function isKnownSuffix(s: string, pos: number): boolean {
  const rest = s.slice(pos);
  return PRE.some((p) => rest.startsWith(p)) || POST.some((p) => rest.startsWith(p));
}

function isPreSuffix(s: string, pos: number): boolean {
  const rest = s.slice(pos);
  return PRE.some((p) => rest.startsWith(p));
}

/** apk's fuzzy match "~": a's tokens start with b's (3.6.9 ~ 3.6). */
export function fuzzyMatches(a: string, b: string): boolean {
  const ra = new Reader(a);
  const rb = new Reader(b);
  while (ra.type === rb.type && ra.type !== T.End && ra.type !== T.Invalid) {
    if (compareKeys(ra.token(), rb.token()) !== 0) return false;
  }
  return rb.type === T.End;
}

export const apkScheme: VersionScheme = { id: 'apk', parse, compare };
