import { Inject, UseGuards } from '@nestjs/common';
import { Args, Context, Mutation, Resolver } from '@nestjs/graphql';
import {
  ScopeSchema,
  create,
  encodeEnvelope,
  newEnvelope,
  topicFor,
  type EnvelopePayloadInit,
} from '@vigil/contracts';
import type { EventLog } from '@vigil/event-log';
import { EVENT_LOG, SERVICE_IDENTITY, type ServiceIdentity } from '@vigil/nest-kit';
import {
  ExceptionInputError,
  attestationRevoked,
  exceptionRecorded,
  exceptionRevoked,
  findingSourceOf,
  requirementAttested,
  scopeKey,
  type ReportState,
} from '@vigil/report';
import { ERROR_CODES, apiError } from './api-errors.js';
import type { ApiContext } from './auth.js';
import {
  AcceptRiskInput,
  AttestRequirementInput,
  ExceptionKindWord,
  FindingSelectorInput,
  RecordedEvent,
  RevokeInput,
} from './exception.models.js';
import { PermissionGuard, Requires } from './permission.guard.js';
import { seesScope } from './permissions.js';
import { API_STATE } from './tokens.js';

function scopeOf(key: string): { tenant: string; cluster: string } {
  const slash = key.indexOf('/');
  return slash >= 0
    ? { tenant: key.slice(0, slash), cluster: key.slice(slash + 1) }
    : { tenant: '', cluster: key };
}

// The mutations that write exceptions and attestations. Each publishes one event on the exceptions topic; the
// projection folds it like any other, so the next snapshot shows it. Nothing is written anywhere else.
@Resolver()
@UseGuards(PermissionGuard)
export class ExceptionResolver {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(API_STATE) private readonly state: () => ReportState,
  ) {}

  @Mutation(() => RecordedEvent, {
    description:
      'Records a risk acceptance or compensating control (ExceptionRecorded). Covered findings stay visible but ' +
      'stop failing their requirements until the hard expiry',
  })
  @Requires('exception:accept')
  async acceptRisk(
    @Context() ctx: ApiContext,
    @Args('input', { type: () => AcceptRiskInput }) input: AcceptRiskInput,
  ): Promise<RecordedEvent> {
    const scope = this.scopeFor(ctx, input.scope);
    const value = checked('input', () =>
      exceptionRecorded({
        ...scope,
        selector: selectorOf(input.selector),
        owner: input.owner,
        justification: input.justification,
        approver: input.approver,
        expiresAt: input.expiresAt,
        expiryLabel: `expiresAt ${input.expiresAt.toISOString()}`,
        expireOnFix: input.expireOnFix ?? false,
        kind:
          input.kind === ExceptionKindWord.compensating_control ? 'compensating_control' : 'risk_acceptance',
        pciRequirements: input.pciRequirements ?? [],
        now: new Date(),
      }),
    );
    return this.publish(input.scope, { case: 'exceptionRecorded', value }, value.exceptionId);
  }

  @Mutation(() => RecordedEvent, {
    description: 'Revokes an exception (ExceptionRevoked); a revoked id stays revoked',
  })
  @Requires('exception:revoke')
  async revokeException(
    @Context() ctx: ApiContext,
    @Args('input', { type: () => RevokeInput }) input: RevokeInput,
  ): Promise<RecordedEvent> {
    const scope = this.scopeFor(ctx, input.scope);
    const s = this.state().scopes.get(scopeKey(scope));
    if (!s?.exceptions.has(input.id))
      throw apiError(ERROR_CODES.notFound, `input.id: no exception "${input.id}" in scope "${input.scope}"`);
    if (s.revocations.has(input.id))
      throw apiError(ERROR_CODES.badInput, `input.id: exception "${input.id}" is already revoked`);
    const value = checked('input', () =>
      exceptionRevoked({
        ...scope,
        exceptionId: input.id,
        by: `api:${ctx.principal.tokenId}`,
        reason: input.reason,
      }),
    );
    return this.publish(input.scope, { case: 'exceptionRevoked', value }, input.id);
  }

  @Mutation(() => RecordedEvent, {
    description:
      'Records manual evidence for a requirement (RequirementAttested), attachments by hash. It makes the ' +
      'requirement manually_attested only where no open finding fails it and automation does not prove it in place',
  })
  @Requires('attestation:record')
  async attestRequirement(
    @Context() ctx: ApiContext,
    @Args('input', { type: () => AttestRequirementInput }) input: AttestRequirementInput,
  ): Promise<RecordedEvent> {
    const scope = this.scopeFor(ctx, input.scope);
    const value = checked('input', () => {
      for (const a of input.attachments)
        if (!/^(0|[1-9][0-9]*)$/.test(a.size))
          throw new ExceptionInputError(`attachment ${a.name}: size "${a.size}" is not a byte count`);
      return requirementAttested({
        ...scope,
        requirementId: input.requirementId,
        by: input.attestedBy?.trim() || `api:${ctx.principal.tokenId}`,
        statement: input.statement,
        attachments: input.attachments.map((a) => ({
          name: a.name,
          sha256: a.sha256,
          size: BigInt(a.size),
          ...(a.mediaType ? { mediaType: a.mediaType } : {}),
        })),
        ...(input.validUntil
          ? { validUntil: input.validUntil, validUntilLabel: `validUntil ${input.validUntil.toISOString()}` }
          : {}),
        now: new Date(),
      });
    });
    return this.publish(input.scope, { case: 'requirementAttested', value }, value.attestationId);
  }

  @Mutation(() => RecordedEvent, { description: 'Revokes an attestation (AttestationRevoked)' })
  @Requires('attestation:revoke')
  async revokeAttestation(
    @Context() ctx: ApiContext,
    @Args('input', { type: () => RevokeInput }) input: RevokeInput,
  ): Promise<RecordedEvent> {
    const scope = this.scopeFor(ctx, input.scope);
    const s = this.state().scopes.get(scopeKey(scope));
    if (!s?.attestations?.has(input.id))
      throw apiError(
        ERROR_CODES.notFound,
        `input.id: no attestation "${input.id}" in scope "${input.scope}"`,
      );
    if (s.attestationRevocations?.has(input.id))
      throw apiError(ERROR_CODES.badInput, `input.id: attestation "${input.id}" is already revoked`);
    const value = checked('input', () =>
      attestationRevoked({
        ...scope,
        attestationId: input.id,
        by: `api:${ctx.principal.tokenId}`,
        reason: input.reason,
      }),
    );
    return this.publish(input.scope, { case: 'attestationRevoked', value }, input.id);
  }

  private scopeFor(ctx: ApiContext, key: string): { tenant: string; cluster: string } {
    if (!seesScope(ctx.principal, key))
      throw apiError(ERROR_CODES.forbidden, `this token may not act on scope "${key}"`);
    const scope = scopeOf(key);
    if (!scope.cluster) throw apiError(ERROR_CODES.badInput, `input.scope: "${key}" names no cluster`);
    return scope;
  }

  private async publish(
    key: string,
    payload: EnvelopePayloadInit,
    subjectKey: string,
  ): Promise<RecordedEvent> {
    const envelope = newEnvelope({
      payload,
      scope: create(ScopeSchema, scopeOf(key)),
      subjectKey,
      producer: {
        service: this.identity.service,
        version: this.identity.version,
        instance: this.identity.instance,
      },
    });
    await this.eventLog.publish([
      { topic: topicFor(envelope), key: subjectKey, value: encodeEnvelope(envelope) },
    ]);
    return { id: subjectKey, scope: key, eventId: envelope.eventId };
  }
}

// The input checks are @vigil/report's; their messages become BAD_USER_INPUT naming the field.
function checked<T>(field: string, make: () => T): T {
  try {
    return make();
  } catch (err) {
    if (err instanceof ExceptionInputError) throw apiError(ERROR_CODES.badInput, `${field}: ${err.message}`);
    throw err;
  }
}

function selectorOf(s: FindingSelectorInput) {
  const asset: { namespace?: string; name?: string; resourceKind?: string; imageDigest?: string } = {};
  if (s.namespace) asset.namespace = s.namespace;
  if (s.workload) {
    const m = /^([A-Za-z][A-Za-z0-9]*)\/([^/]+)$/.exec(s.workload);
    if (!m)
      throw new ExceptionInputError(
        `selector.workload "${s.workload}" is not KIND/NAME (e.g. Deployment/payment-api)`,
      );
    asset.resourceKind = m[1] as string;
    asset.name = m[2] as string;
  }
  if (s.imageDigest) {
    if (!/^sha256:[0-9a-f]{64}$/.test(s.imageDigest))
      throw new ExceptionInputError(`selector.imageDigest "${s.imageDigest}" is not "sha256:<64 hex>"`);
    asset.imageDigest = s.imageDigest;
  }
  return {
    findingIds: s.findingIds ?? [],
    ruleIds: s.ruleIds ?? [],
    sources: (s.sources ?? []).map(findingSourceOf),
    ...(Object.keys(asset).length > 0 ? { asset } : {}),
    ...(s.imageRepository ? { imageRepository: s.imageRepository } : {}),
    packages: s.packages ?? [],
    paths: s.paths ?? [],
  };
}
