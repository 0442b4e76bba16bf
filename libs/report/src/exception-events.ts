import { randomUUID } from 'node:crypto';
import {
  AttestationRevokedSchema,
  ExceptionKind,
  ExceptionRecordedSchema,
  ExceptionRevokedSchema,
  FindingSource,
  RequirementAttestedSchema,
  create,
  type AttestationRevoked,
  type ExceptionRecorded,
  type ExceptionRevoked,
  type FindingSelector,
  type MessageInitShape,
  type RequirementAttested,
  FindingSelectorSchema,
} from '@vigil/contracts';
import { FRAMEWORK_VERSION, canonicalId, isAssessableLevel } from '@vigil/pci';

// The one way exceptions and attestations are written, for the CLI and the GraphQL mutations alike: every check an
// event must pass is here, so no path can record an acceptance without owner, approver or a future expiry.

export class ExceptionInputError extends Error {
  override readonly name = 'ExceptionInputError';
}

export interface AcceptRiskInput {
  readonly cluster: string;
  readonly tenant?: string;
  readonly selector: MessageInitShape<typeof FindingSelectorSchema>;
  readonly owner: string;
  readonly justification: string;
  readonly approver: string;
  readonly expiresAt: Date;
  /** How the caller names the expiry in an error ("--expires 2030-01-01"); "expiry <ISO time>" otherwise. */
  readonly expiryLabel?: string;
  readonly expireOnFix?: boolean;
  readonly kind?: 'risk_acceptance' | 'compensating_control';
  readonly pciRequirements?: readonly string[];
  readonly now: Date;
  readonly newId?: () => string;
}

const SOURCE_WORDS: Record<string, FindingSource> = {
  image: FindingSource.IMAGE,
  config: FindingSource.CONFIG,
  rbac: FindingSource.CONFIG,
  runtime: FindingSource.RUNTIME,
  host: FindingSource.HOST,
  correlated: FindingSource.CORRELATED,
};

// "image", "config", "rbac" (RBAC checks are configuration findings), "runtime", "host", "correlated".
export function findingSourceOf(word: string): FindingSource {
  const s = SOURCE_WORDS[word.trim().toLowerCase()];
  if (s === undefined)
    throw new ExceptionInputError(`source "${word}" is not one of ${Object.keys(SOURCE_WORDS).join(', ')}`);
  return s;
}

export function exceptionRecorded(i: AcceptRiskInput): ExceptionRecorded {
  requireText(i.cluster, 'cluster');
  requireText(i.owner, 'owner');
  requireText(i.justification, 'justification');
  requireText(i.approver, 'approver');
  requireFuture(i.expiresAt, i.now, 'expiry');
  requireWithinReview(
    i.expiresAt,
    i.now,
    i.expiryLabel ?? `expiry ${i.expiresAt.toISOString()}`,
    'PCI DSS 12.3.1 wants an accepted risk reviewed at least once every 12 months',
  );
  const selector = create(FindingSelectorSchema, i.selector);
  if (isEmptySelector(selector))
    throw new ExceptionInputError(
      'the exception selects no findings: give at least one of finding, rule, source, namespace, workload, image digest, image repository, package or path',
    );
  for (const p of selector.paths) if (!p.trim()) throw new ExceptionInputError('a path criterion is empty');
  for (const p of selector.packages)
    if (!p.trim()) throw new ExceptionInputError('a package criterion is empty');
  const pci = (i.pciRequirements ?? []).map((id) => knownRequirement(id));
  return create(ExceptionRecordedSchema, {
    exceptionId: (i.newId ?? (() => `exc-${randomUUID()}`))(),
    scope: { tenant: i.tenant ?? '', cluster: i.cluster },
    selector,
    owner: i.owner.trim(),
    justification: i.justification.trim(),
    approvers: [{ name: i.approver.trim(), approvedAt: timestamp(i.now) }],
    expiresAt: timestamp(i.expiresAt),
    expireOnFix: i.expireOnFix ?? false,
    pciRequirements: pci,
    kind:
      i.kind === 'compensating_control' ? ExceptionKind.COMPENSATING_CONTROL : ExceptionKind.RISK_ACCEPTANCE,
  });
}

export function exceptionRevoked(i: {
  cluster: string;
  tenant?: string;
  exceptionId: string;
  by: string;
  reason: string;
}): ExceptionRevoked {
  requireText(i.cluster, 'cluster');
  requireText(i.exceptionId, 'exception id');
  requireText(i.by, 'revoked-by');
  requireText(i.reason, 'reason');
  return create(ExceptionRevokedSchema, {
    exceptionId: i.exceptionId,
    scope: { tenant: i.tenant ?? '', cluster: i.cluster },
    revokedBy: i.by.trim(),
    reason: i.reason.trim(),
  });
}

export interface AttestInput {
  readonly cluster: string;
  readonly tenant?: string;
  readonly requirementId: string;
  readonly by: string;
  readonly statement: string;
  readonly attachments: readonly {
    name: string;
    sha256: string;
    size: number | bigint;
    mediaType?: string;
  }[];
  readonly validUntil?: Date;
  /** How the caller names the date in an error ("--valid-until 2030-01-01"). */
  readonly validUntilLabel?: string;
  readonly now: Date;
  readonly newId?: () => string;
}

export function requirementAttested(i: AttestInput): RequirementAttested {
  requireText(i.cluster, 'cluster');
  requireText(i.by, 'attested-by');
  requireText(i.statement, 'statement');
  const requirementId = knownRequirement(i.requirementId);
  if (i.validUntil !== undefined) {
    requireFuture(i.validUntil, i.now, 'valid-until date');
    // Manual evidence is looked at again within the same year as an accepted risk.
    requireWithinReview(
      i.validUntil,
      i.now,
      i.validUntilLabel ?? `valid-until date ${i.validUntil.toISOString()}`,
      'an annual assessment relies on manual evidence from the last 12 months',
    );
  }
  for (const f of i.attachments) {
    requireText(f.name, 'attachment name');
    if (!/^sha256:[0-9a-f]{64}$/.test(f.sha256))
      throw new ExceptionInputError(`attachment ${f.name}: hash "${f.sha256}" is not "sha256:<64 hex>"`);
  }
  return create(RequirementAttestedSchema, {
    attestationId: (i.newId ?? (() => `att-${randomUUID()}`))(),
    scope: { tenant: i.tenant ?? '', cluster: i.cluster },
    requirementId,
    attestedBy: i.by.trim(),
    statement: i.statement.trim(),
    attachments: i.attachments.map((f) => ({
      name: f.name,
      sha256: f.sha256,
      size: String(f.size),
      mediaType: f.mediaType ?? '',
    })),
    attestedAt: timestamp(i.now),
    ...(i.validUntil ? { validUntil: timestamp(i.validUntil) } : {}),
  });
}

export function attestationRevoked(i: {
  cluster: string;
  tenant?: string;
  attestationId: string;
  by: string;
  reason: string;
}): AttestationRevoked {
  requireText(i.cluster, 'cluster');
  requireText(i.attestationId, 'attestation id');
  requireText(i.by, 'revoked-by');
  requireText(i.reason, 'reason');
  return create(AttestationRevokedSchema, {
    attestationId: i.attestationId,
    scope: { tenant: i.tenant ?? '', cluster: i.cluster },
    revokedBy: i.by.trim(),
    reason: i.reason.trim(),
  });
}

// An attestation or a requirement-limited exception must name a requirement a status is reported for: a requirement
// or sub-requirement of v4.0.1 (an alias is accepted and stored as its canonical id).
export function knownRequirement(id: string): string {
  const canonical = canonicalId(id.trim());
  if (canonical === undefined || !isAssessableLevel(canonical))
    throw new ExceptionInputError(
      `requirement "${id}" is not a PCI DSS v${FRAMEWORK_VERSION} requirement or sub-requirement id (e.g. 12.10.1)`,
    );
  return canonical;
}

/** Parses an expiry given as YYYY-MM-DD (the end of that day, UTC) or a full ISO-8601 time. */
export function parseDeadline(text: string, what: string): Date {
  const t = text.trim();
  const day = /^\d{4}-\d{2}-\d{2}$/.test(t);
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(t);
  // A time without its zone would be read in the local zone of whoever ran the command: another instant on
  // another machine, for a deadline someone signed off.
  if (!day && !time && /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/i.test(t))
    throw new ExceptionInputError(
      `${what} "${text}" has no time zone: add Z (UTC) or an offset such as +01:00, or give a day (YYYY-MM-DD)`,
    );
  const d = new Date(day ? `${t}T23:59:59.999Z` : t);
  if ((!day && !time) || Number.isNaN(d.getTime()))
    throw new ExceptionInputError(
      `${what} "${text}" is not a date (YYYY-MM-DD, or an ISO-8601 time with its zone such as 2027-01-31T17:00:00Z)`,
    );
  // Date rolls 2027-02-30 over into March; a signed-off expiry must be the day that was written.
  const [y, m, dd] = t.slice(0, 10).split('-').map(Number) as [number, number, number];
  const check = new Date(Date.UTC(y, m - 1, dd));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== dd)
    throw new ExceptionInputError(
      `${what} "${text}" is not a calendar date (${t.slice(0, 10)} does not exist)`,
    );
  return d;
}

function isEmptySelector(s: FindingSelector): boolean {
  const a = s.asset;
  const assetEmpty =
    !a ||
    (a.kind === 0 &&
      !a.cluster &&
      !a.namespace &&
      !a.name &&
      !a.container &&
      !a.imageRef &&
      !a.imageDigest &&
      !a.node &&
      !a.resourceKind);
  return (
    assetEmpty &&
    s.findingIds.length === 0 &&
    s.ruleIds.length === 0 &&
    s.sources.length === 0 &&
    !s.imageRepository &&
    s.packages.length === 0 &&
    s.paths.length === 0
  );
}

/** The longest an acceptance or an attestation may run before it must be reviewed again, in calendar months. */
export const MAX_REVIEW_MONTHS = 12;

/**
 * An acceptance comes back for review within 12 months (PCI DSS 12.3.1: each targeted risk analysis is reviewed
 * at least once every 12 months; compensating controls are re-validated annually), so a deadline further out is
 * refused, whichever path records it. The limit is the whole day 12 calendar months from now (UTC), the day a
 * deadline given as YYYY-MM-DD may name at most.
 */
function requireWithinReview(deadline: Date, now: Date, what: string, why: string): void {
  const last = addMonths(now, MAX_REVIEW_MONTHS);
  const endOfLastDay = Date.UTC(last.getUTCFullYear(), last.getUTCMonth(), last.getUTCDate() + 1) - 1;
  if (deadline.getTime() > endOfLastDay)
    throw new ExceptionInputError(
      `${what} is more than ${MAX_REVIEW_MONTHS} months ahead (at most ${last.toISOString().slice(0, 10)}; ${why})`,
    );
}

// Calendar months in UTC; a day the target month lacks is its last (2028-02-29 + 12 months is 2029-02-28).
function addMonths(d: Date, months: number): Date {
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target;
}

function requireText(value: string | undefined, what: string): void {
  if (!value?.trim()) throw new ExceptionInputError(`${what} is required`);
}

// A hard expiry: PCI DSS wants every accepted risk back for review, so none, or one already past, is refused.
function requireFuture(d: Date, now: Date, what: string): void {
  if (Number.isNaN(d.getTime())) throw new ExceptionInputError(`${what} is not a valid date`);
  if (d.getTime() <= now.getTime())
    throw new ExceptionInputError(
      `${what} ${d.toISOString()} is not in the future (now ${now.toISOString()})`,
    );
}

function timestamp(d: Date): { seconds: bigint; nanos: number } {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}
