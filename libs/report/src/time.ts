// Timestamps are compared as integer nanoseconds so that two events a few nanoseconds apart never tie by rounding.
export interface TimestampLike {
  readonly seconds: bigint;
  readonly nanos: number;
}

export function toNanos(ts: TimestampLike | undefined): bigint | undefined {
  if (ts === undefined) return undefined;
  return ts.seconds * 1_000_000_000n + BigInt(ts.nanos);
}

export function laterOf<T extends TimestampLike>(a: T | undefined, b: T | undefined): T | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (toNanos(b) as bigint) > (toNanos(a) as bigint) ? b : a;
}

export function earlierOf<T extends TimestampLike>(a: T | undefined, b: T | undefined): T | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return (toNanos(b) as bigint) < (toNanos(a) as bigint) ? b : a;
}

export function compareNanos(a: bigint | undefined, b: bigint | undefined): number {
  // An unknown time sorts before every known one: a scan whose start was never recorded cannot outrank one that was.
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return a < b ? -1 : 1;
}

export function compareStrings(a: string, b: string): number {
  // Code-unit order, not locale order: the canonical form must not depend on the machine's ICU data.
  return a < b ? -1 : a > b ? 1 : 0;
}
