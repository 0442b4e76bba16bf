// The clock engines and envelopes take is `() => Date`; tests pin it so timestamps in outputs are exact.

export interface FixedClock {
  (): Date;
  /** The current instant as an ISO-8601 string. */
  readonly iso: string;
  /** Moves the clock forward (or back, with a negative value) by `ms` milliseconds. */
  advance(ms: number): void;
  /** Sets the clock to another instant. */
  set(iso: string): void;
}

function parseInstant(iso: string, what: string): number {
  // Date.parse accepts many loose forms; a test clock wants an unambiguous instant with its offset.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(iso)) {
    throw new Error(`${what}: "${iso}" is not an ISO-8601 instant with an offset, e.g. 2025-01-31T12:00:00Z`);
  }
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`${what}: "${iso}" is not a valid date`);
  return t;
}

/** A clock that stands still at `iso` until the test moves it. Each call returns a new Date. */
export function fixedClock(iso: string): FixedClock {
  let now = parseInstant(iso, 'fixedClock');
  const clock = (() => new Date(now)) as FixedClock;
  Object.defineProperty(clock, 'iso', { get: () => new Date(now).toISOString() });
  clock.advance = (ms: number) => {
    if (!Number.isFinite(ms))
      throw new Error(`fixedClock.advance: ${ms} is not a finite number of milliseconds`);
    now += ms;
  };
  clock.set = (next: string) => {
    now = parseInstant(next, 'fixedClock.set');
  };
  return clock;
}
