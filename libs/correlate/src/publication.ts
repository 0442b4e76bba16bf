import { createHash } from 'node:crypto';
import { type CorrelatedFinding } from './rules.js';
import { renderPriority } from './priority.js';

/** The target key of the correlator's completions: one target per scope, the whole correlation. */
export const CORRELATION_TARGET_KEY = 'correlation';

/**
 * A UUID (version 5 layout, SHA-256 instead of SHA-1) derived from text: the same state published twice gets the
 * same event id, so a replayed or restarted correlator republishes nothing the consumers have not already seen.
 */
export function deterministicEventId(text: string): string {
  const h = createHash('sha256').update(text, 'utf8').digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** Identifies one published state of a correlated finding: its id and what it says about priority. */
export function correlatedEventId(cluster: string, c: CorrelatedFinding): string {
  return deterministicEventId(
    JSON.stringify([
      'correlated-finding',
      cluster,
      c.finding.id,
      c.priority.score,
      renderPriority(c.priority),
    ]),
  );
}

/** Identifies a set of correlated finding ids (order-free): the completion that lists exactly them. */
export function correlationSetId(cluster: string, ids: Iterable<string>): string {
  return deterministicEventId(JSON.stringify(['correlation-set', cluster, [...new Set(ids)].sort()]));
}
