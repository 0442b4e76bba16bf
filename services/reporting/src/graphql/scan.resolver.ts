import { randomUUID } from 'node:crypto';
import { Inject, Optional, UseGuards } from '@nestjs/common';
import { Args, Context, Mutation, Resolver } from '@nestjs/graphql';
import {
  ImageTargetSchema,
  LiveClusterTargetSchema,
  ScanRequestedSchema,
  ScannerKind,
  ScopeSchema,
  TargetKind,
  TargetSchema,
  create,
  encodeEnvelope,
  newEnvelope,
  scanRequestTopic,
  type Target,
} from '@vigil/contracts';
import type { EventLog } from '@vigil/event-log';
import { EVENT_LOG, SERVICE_IDENTITY, type ServiceIdentity } from '@vigil/nest-kit';
import { ERROR_CODES, apiError } from './api-errors.js';
import type { ApiContext } from './auth.js';
import { canonicalImageRef } from '@vigil/contracts';
import { CreatedSnapshot, RequestedScan, ScanKindWord, ScanRequestInput } from './models.js';
import { PermissionGuard, Requires } from './permission.guard.js';
import { seesScope } from './permissions.js';
import { SNAPSHOT_ON_REQUEST } from './tokens.js';

/** Makes the scope's next snapshot version now, from everything projected so far. */
export interface SnapshotOnRequest {
  create(
    scope: { tenant: string; cluster: string },
    requestedBy: string,
  ): Promise<{ version: number; contentHash: string }>;
}

function scopeOf(key: string): { tenant: string; cluster: string } {
  const slash = key.indexOf('/');
  return slash >= 0
    ? { tenant: key.slice(0, slash), cluster: key.slice(slash + 1) }
    : { tenant: '', cluster: key };
}

@Resolver()
@UseGuards(PermissionGuard)
export class ScanResolver {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Optional() @Inject(SNAPSHOT_ON_REQUEST) private readonly snapshots?: SnapshotOnRequest,
  ) {}

  @Mutation(() => RequestedScan, {
    description:
      'Asks a scanner for a scan (published as ScanRequested on the log, as `vigil scan` does). Only targets the ' +
      'scanners reach themselves: a registry image, or the live cluster through the auditor’s own credentials',
  })
  @Requires('scan:request')
  async requestScan(
    @Context() ctx: ApiContext,
    @Args('input', { type: () => ScanRequestInput }) input: ScanRequestInput,
  ): Promise<RequestedScan> {
    if (!seesScope(ctx.principal, input.scope))
      throw apiError(ERROR_CODES.forbidden, `this token may not act on scope "${input.scope}"`);
    const { scanner, target } = this.target(input);
    const scanId = randomUUID();
    const scope = create(ScopeSchema, scopeOf(input.scope));
    const envelope = newEnvelope({
      payload: {
        case: 'scanRequested',
        value: create(ScanRequestedSchema, {
          scanId,
          scanner,
          scope,
          target,
          requestedBy: `api:${ctx.principal.tokenId}`,
        }),
      },
      scope,
      subjectKey: target.key,
      producer: {
        service: this.identity.service,
        version: this.identity.version,
        instance: this.identity.instance,
      },
    });
    await this.eventLog.publish([
      { topic: scanRequestTopic(scanner), key: target.key, value: encodeEnvelope(envelope) },
    ]);
    return { scanId, targetKey: target.key };
  }

  @Mutation(() => CreatedSnapshot, {
    description: 'Cuts the scope’s next snapshot version from everything projected so far',
  })
  @Requires('snapshot:create')
  async createSnapshot(@Context() ctx: ApiContext, @Args('scope') scope: string): Promise<CreatedSnapshot> {
    if (!seesScope(ctx.principal, scope))
      throw apiError(ERROR_CODES.forbidden, `this token may not act on scope "${scope}"`);
    if (!this.snapshots)
      throw apiError(
        ERROR_CODES.unavailable,
        'snapshots on request are not available in this deployment yet; a completed scan makes one',
      );
    const made = await this.snapshots.create(scopeOf(scope), `api:${ctx.principal.tokenId}`);
    return { scope, version: made.version, contentHash: made.contentHash };
  }

  private target(input: ScanRequestInput): { scanner: ScannerKind; target: Target } {
    switch (input.kind) {
      case ScanKindWord.image: {
        if (!input.imageRef?.trim())
          throw apiError(
            ERROR_CODES.badInput,
            'input.imageRef: a scan of kind image needs an image reference',
          );
        const ref = canonicalImageRef(input.imageRef);
        if (typeof ref === 'string') throw apiError(ERROR_CODES.badInput, `input.imageRef: ${ref}`);
        return {
          scanner: ScannerKind.IMAGE,
          target: create(TargetSchema, {
            kind: TargetKind.IMAGE,
            key: ref.key,
            ref: { case: 'image', value: create(ImageTargetSchema, { ref: ref.ref, digest: ref.digest }) },
          }),
        };
      }
      case ScanKindWord.live_cluster:
        if (input.imageRef)
          throw apiError(ERROR_CODES.badInput, 'input.imageRef: only a scan of kind image takes an image');
        return {
          scanner: ScannerKind.CONFIG,
          target: create(TargetSchema, {
            kind: TargetKind.LIVE_CLUSTER,
            key: 'live',
            ref: { case: 'liveCluster', value: create(LiveClusterTargetSchema, {}) },
          }),
        };
      default:
        throw apiError(ERROR_CODES.badInput, `input.kind: "${String(input.kind)}" is not a scan kind`);
    }
  }
}
