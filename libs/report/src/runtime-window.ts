import { DetectionCloseReason } from '@vigil/contracts';
import { type FindingRecord } from './scope-state.js';
import { compareNanos, compareStrings, laterOf, toNanos, type TimestampLike } from './time.js';

// Runtime detections are not resolved by a later scan's absence (a sensor reports what happened, not what is): each
// has a window from its first to its last occurrence, and the window closes when it is acknowledged, when an
// acceptance covers it (both DetectionClosed events), or when it has been quiet for the quiet period. Quiet is
// measured against the scope's as-of time, which is the latest occurred-at folded, never the wall clock, so a
// rebuild from the same log closes the same detections.

export const DEFAULT_RUNTIME_QUIET_PERIOD_MS = 7 * 24 * 60 * 60 * 1000;

export type RuntimeCloseReason = 'acknowledged' | 'excepted' | 'quiet';

// One DetectionClosed as folded.
export interface DetectionClosure {
  readonly findingId: string;
  readonly reason: RuntimeCloseReason;
  // The payload's closed_at, else the envelope's occurred-at.
  readonly closedAt: TimestampLike | undefined;
  readonly closedBy: string;
  readonly note: string;
  readonly exceptionId: string;
  readonly eventId: string;
}

export interface RuntimeWindow {
  readonly open: boolean;
  // The latest occurrence any report of the finding carries.
  readonly lastSeen: TimestampLike | undefined;
  // Set when closed: why, when and by whom (`vigil` for a quiet close derived here).
  readonly closed?: {
    readonly reason: RuntimeCloseReason;
    readonly at: TimestampLike | undefined;
    readonly by: string;
  };
}

const NS_PER_MS = 1_000_000n;

export function closeReasonOf(reason: DetectionCloseReason): RuntimeCloseReason | undefined {
  switch (reason) {
    case DetectionCloseReason.ACKNOWLEDGED:
      return 'acknowledged';
    case DetectionCloseReason.EXCEPTED:
      return 'excepted';
    case DetectionCloseReason.QUIET:
      return 'quiet';
    default:
      return undefined;
  }
}

// The last occurrence of a runtime finding: the sensor's own last-seen (or window end) over every report, the
// report's occurred-at only when the finding carries neither.
export function lastSeenOf(record: FindingRecord): TimestampLike | undefined {
  let last: TimestampLike | undefined;
  for (const r of record.reports.values())
    last = laterOf(last, r.finding.lastSeen ?? r.finding.window?.end ?? r.occurredAt);
  return last;
}

export function runtimeWindowOf(
  record: FindingRecord,
  closures: readonly DetectionClosure[] | undefined,
  asOf: TimestampLike | undefined,
  quietPeriodMs: number = DEFAULT_RUNTIME_QUIET_PERIOD_MS,
): RuntimeWindow {
  if (!Number.isFinite(quietPeriodMs) || quietPeriodMs <= 0)
    throw new Error(`runtime quiet period ${quietPeriodMs} ms is not a positive number of milliseconds`);
  const lastSeen = lastSeenOf(record);
  const last = toNanos(lastSeen);
  // The latest explicit close; ties on time go to the event id so the pick does not depend on arrival order.
  let latest: DetectionClosure | undefined;
  for (const c of closures ?? []) {
    if (!latest) {
      latest = c;
      continue;
    }
    const byTime = compareNanos(toNanos(c.closedAt), toNanos(latest.closedAt));
    if (byTime > 0 || (byTime === 0 && compareStrings(c.eventId, latest.eventId) > 0)) latest = c;
  }
  // A close covers the occurrences up to it; one seen after it reopens the detection.
  if (latest && compareNanos(toNanos(latest.closedAt), last) >= 0)
    return {
      open: false,
      lastSeen,
      closed: { reason: latest.reason, at: latest.closedAt, by: latest.closedBy },
    };
  const now = toNanos(asOf);
  if (last !== undefined && now !== undefined) {
    const quietEnds = last + BigInt(Math.round(quietPeriodMs)) * NS_PER_MS;
    if (now >= quietEnds)
      return {
        open: false,
        lastSeen,
        closed: { reason: 'quiet', at: nanosToTimestamp(quietEnds), by: 'vigil' },
      };
  }
  return { open: true, lastSeen };
}

function nanosToTimestamp(ns: bigint): TimestampLike {
  return { seconds: ns / 1_000_000_000n, nanos: Number(ns % 1_000_000_000n) };
}
