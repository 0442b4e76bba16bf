import { ExceptionKind, type AttestationUse, type ExceptionUse } from '@vigil/contracts';
import type { ExceptionListing } from './compliance-report.js';
import { toNanos, type TimestampLike } from './time.js';

// The exception and attestation sections of a compliance report in plain text, for `vigil report` to print under
// the requirement table: each exception with its standing, owner, approver, expiry and the findings it covers (or
// fails to cover any more), then the attestations. Empty sections are left out.

export function renderExceptionListing(l: ExceptionListing): string {
  const sections: [string, readonly ExceptionUse[], (x: ExceptionUse) => string][] = [
    ['Exceptions in use', l.used, (x) => `covers ${list(x.coveredFindingIds)}`],
    ['Exceptions that matched nothing', l.matchedNothing, () => 'covers no open finding: check its scope'],
    ['Expired exceptions', l.expired, (x) => again(x)],
    ['Exceptions lapsed on fix', l.lapsedOnFix, (x) => again(x)],
    ['Revoked exceptions', l.revoked, (x) => `revoked by ${x.revokedBy}: ${x.revokeReason}; ${again(x)}`],
    ['Exceptions without an expiry (never applied)', l.noExpiry, (x) => again(x)],
  ];
  const out: string[] = [];
  for (const [title, items, use] of sections) {
    if (items.length === 0) continue;
    out.push(`${title} (${items.length})`);
    for (const x of items) {
      const kind = x.kind === ExceptionKind.COMPENSATING_CONTROL ? 'compensating control' : 'risk acceptance';
      const approvers = x.approvers.map((a) => a.name).join(', ') || 'nobody';
      out.push(
        `  ${x.exceptionId}  ${kind}, owner ${x.owner}, approved by ${approvers}, expires ${day(x.expiresAt)}${x.expireOnFix ? ' or on fix' : ''}`,
      );
      out.push(`    ${use(x)}`);
    }
  }
  const attestations: [string, readonly AttestationUse[]][] = [
    ['Attestations', l.attestations.valid],
    ['Attestations no longer valid', l.attestations.invalid],
  ];
  for (const [title, items] of attestations) {
    if (items.length === 0) continue;
    out.push(`${title} (${items.length})`);
    for (const a of items) {
      const until = a.validUntil ? `, valid until ${day(a.validUntil)}` : '';
      out.push(`  ${a.attestationId}  ${a.requirementId} by ${a.attestedBy} on ${day(a.attestedAt)}${until}`);
      out.push(`    ${a.statement}${a.decidedStatus ? '' : ' (did not decide the status)'}`);
      for (const f of a.attachments) out.push(`    ${f.sha256}  ${f.name}`);
    }
  }
  return out.join('\n');
}

function again(x: ExceptionUse): string {
  return x.uncoveredFindingIds.length > 0
    ? `no longer covers ${list(x.uncoveredFindingIds)}`
    : 'no open finding matches it';
}

function list(ids: readonly string[]): string {
  const shown = ids.slice(0, 5).join(', ');
  return ids.length > 5 ? `${shown} and ${ids.length - 5} more` : shown;
}

function day(ts: TimestampLike | undefined): string {
  const n = toNanos(ts);
  return n === undefined ? 'never' : new Date(Number(n / 1_000_000n)).toISOString().slice(0, 10);
}
