import {
  AttestationStanding,
  AttestationUseSchema,
  ExceptionStanding,
  ExceptionUseSchema,
  RequirementStatus,
  create,
  type AttestationUse,
  type ExceptionUse,
  type Finding,
  type RequirementResult,
} from '@vigil/contracts';
import type { RequirementCatalog } from './catalog.port.js';
import type { AttestationStandingWord, AttestationView } from './attestation.js';
import {
  ExceptionMatcher,
  type ExceptionStanding as StandingWord,
  type ExceptionView,
} from './exception-match.js';
import { compareStrings } from './time.js';

// The report's list of exceptions and attestations: each with its standing and what it did in this snapshot, so an
// assessor (and the owner) sees acceptances that covered findings, matched nothing, expired or were revoked.

const exceptionStandings: Record<StandingWord, ExceptionStanding> = {
  active: ExceptionStanding.ACTIVE,
  expired: ExceptionStanding.EXPIRED,
  revoked: ExceptionStanding.REVOKED,
  lapsed_on_fix: ExceptionStanding.LAPSED_ON_FIX,
  no_expiry: ExceptionStanding.NO_EXPIRY,
};

const attestationStandings: Record<AttestationStandingWord, AttestationStanding> = {
  valid: AttestationStanding.VALID,
  expired: AttestationStanding.EXPIRED,
  revoked: AttestationStanding.REVOKED,
};

// A finding counts for an exception when its selector matches and, for an exception limited to requirements, the
// finding fails one of them (its primary mapping) — the same test requirement-status.ts applies.
export function exceptionUses(
  views: readonly ExceptionView[],
  openFindings: readonly Finding[],
  catalog: RequirementCatalog,
  matcher: ExceptionMatcher = new ExceptionMatcher(views),
): ExceptionUse[] {
  const primary = new Map<Finding, readonly string[]>();
  const primaryOf = (f: Finding) => {
    let p = primary.get(f);
    if (!p) {
      p = catalog.mappingOf(f).primary;
      primary.set(f, p);
    }
    return p;
  };
  // One pass over the findings, each matched once, instead of one pass per exception.
  const matchedBy = new Map<string, string[]>();
  for (const f of openFindings) {
    for (const v of matcher.matching(f)) {
      if (v.requirementIds.length > 0 && !primaryOf(f).some((id) => v.requirementIds.includes(id))) continue;
      const list = matchedBy.get(v.id) ?? [];
      list.push(f.id);
      matchedBy.set(v.id, list);
    }
  }
  return views.map((v) => {
    const x = v.exception.recorded;
    const matched = (matchedBy.get(v.id) ?? []).sort(compareStrings);
    const active = v.standing === 'active';
    return create(ExceptionUseSchema, {
      exceptionId: v.id,
      kind: v.kind,
      standing: exceptionStandings[v.standing],
      coveredFindingIds: active ? matched : [],
      uncoveredFindingIds: active ? [] : matched,
      owner: x.owner,
      justification: x.justification,
      approvers: x.approvers,
      ...(x.expiresAt ? { expiresAt: x.expiresAt } : {}),
      expireOnFix: x.expireOnFix,
      pciRequirements: [...x.pciRequirements].sort(compareStrings),
      revokedBy: v.revocation?.revokedBy ?? '',
      revokeReason: v.revocation?.reason ?? '',
    });
  });
}

export function attestationUses(
  views: readonly AttestationView[],
  requirements: readonly RequirementResult[],
): AttestationUse[] {
  const statusOf = new Map(requirements.map((r) => [r.id, r.status]));
  return views.map((v) => {
    const a = v.attestation.attested;
    return create(AttestationUseSchema, {
      attestationId: v.id,
      requirementId: v.requirementId,
      standing: attestationStandings[v.standing],
      decidedStatus:
        v.standing === 'valid' && statusOf.get(v.requirementId) === RequirementStatus.MANUALLY_ATTESTED,
      attestedBy: a.attestedBy,
      ...(a.attestedAt ? { attestedAt: a.attestedAt } : {}),
      ...(a.validUntil ? { validUntil: a.validUntil } : {}),
      statement: a.statement,
      attachments: a.attachments,
      revokedBy: v.revocation?.revokedBy ?? '',
      revokeReason: v.revocation?.reason ?? '',
    });
  });
}
