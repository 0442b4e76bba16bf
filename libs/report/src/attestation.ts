import type { AttestationRevoked } from '@vigil/contracts';
import type { AttestationState, ScopeState } from './scope-state.js';
import { compareNanos, compareStrings, toNanos, type TimestampLike } from './time.js';

// Manual attestations (RequirementAttested) as they stand at a snapshot's as-of time. Which one decides a
// requirement's status is requirement-status.ts's business; this only says whether each still holds.

export type AttestationStandingWord = 'valid' | 'expired' | 'revoked';

export interface AttestationView {
  readonly id: string;
  readonly requirementId: string;
  readonly standing: AttestationStandingWord;
  readonly attestation: AttestationState;
  readonly revocation: AttestationRevoked | undefined;
}

export function attestationViews(scope: ScopeState, asOf: TimestampLike | undefined): AttestationView[] {
  const views: AttestationView[] = [];
  for (const a of scope.attestations?.values() ?? []) {
    const revocation = scope.attestationRevocations?.get(a.id);
    views.push({
      id: a.id,
      requirementId: a.attested.requirementId,
      standing: revocation ? 'revoked' : isPast(a.attested.validUntil, asOf) ? 'expired' : 'valid',
      attestation: a,
      revocation,
    });
  }
  return views.sort((a, b) => compareStrings(a.id, b.id));
}

// At valid_until the attestation no longer holds, as an exception no longer applies at its expires_at; unset means
// until revoked. The as-of time is the log's, so a rebuild judges expiry the same way.
function isPast(validUntil: TimestampLike | undefined, asOf: TimestampLike | undefined): boolean {
  const until = toNanos(validUntil);
  if (until === undefined) return false;
  const now = toNanos(asOf);
  return now !== undefined && compareNanos(now, until) >= 0;
}
