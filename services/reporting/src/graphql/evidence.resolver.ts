import { Inject, UseGuards } from '@nestjs/common';
import { Args, Context, Field, Int, Mutation, ObjectType, Resolver } from '@nestjs/graphql';
import { SERVICE_IDENTITY, type ServiceIdentity } from '@vigil/nest-kit';
import { EvidenceSnapshotMissingError, exportEvidence, type SigningKey } from '@vigil/report';
import type { ReportingStore } from '@vigil/store';
import { ERROR_CODES, apiError } from './api-errors.js';
import type { ApiContext } from './auth.js';
import {
  EVIDENCE_SIGNING_KEY,
  SIGNING_KEY_OPTION,
  downloadPath,
  evidenceMediaType,
} from './evidence-bundles.js';
import { PermissionGuard, Requires } from './permission.guard.js';
import { seesScope } from './permissions.js';
import { API_STORE } from './tokens.js';

@ObjectType({ description: 'A signed evidence bundle, stored and ready to download' })
export class EvidenceBundle {
  @Field({ description: 'The bundle’s blob id: sha256:<hex> of the zip' }) id!: string;
  @Field({ description: 'SHA-256 of the zip, hex' }) sha256!: string;
  @Field(() => Int, { description: 'Size of the zip in bytes' }) size!: number;
  @Field() scope!: string;
  @Field(() => Int) snapshotVersion!: number;
  @Field({ description: 'Content hash of the exported snapshot' }) contentHash!: string;
  @Field({ description: 'Fingerprint of the key the manifest is signed with (sha256:<hex>)' })
  keyFingerprint!: string;
  @Field({ description: 'GET this path with the same bearer token to download the zip' })
  downloadPath!: string;
}

// exportEvidence builds the same bundle `vigil evidence export` writes (one code path in @vigil/report), signed
// with the deployment's key, and keeps it in the blob store for GET /v1/evidence/<id>.zip.
@Resolver()
@UseGuards(PermissionGuard)
export class EvidenceResolver {
  constructor(
    @Inject(API_STORE) private readonly store: ReportingStore,
    @Inject(EVIDENCE_SIGNING_KEY) private readonly signingKey: SigningKey | null,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
  ) {}

  @Mutation(() => EvidenceBundle, {
    description:
      'Builds the signed evidence bundle of one snapshot (the latest when no version is given): manifest, ' +
      'snapshot, diff, CSVs, HTML report, OSCAL, SBOMs and the raw events it folded; verify it offline with ' +
      '`vigil evidence verify --key` and the deployment’s public key',
  })
  @Requires('evidence:export')
  async exportEvidence(
    @Context() ctx: ApiContext,
    @Args('scope') scope: string,
    @Args('snapshot', { type: () => Int, nullable: true }) snapshot?: number | null,
  ): Promise<EvidenceBundle> {
    if (snapshot !== undefined && snapshot !== null && snapshot < 1)
      throw apiError(
        ERROR_CODES.badInput,
        `snapshot: ${snapshot} is not a snapshot version (versions start at 1)`,
      );
    const version = snapshot ?? undefined;
    // A scope the token may not see answers as a scope without that snapshot does: it does not exist for it.
    if (!seesScope(ctx.principal, scope)) throw apiError(ERROR_CODES.notFound, missing(scope, version));
    if (!this.signingKey)
      throw apiError(
        ERROR_CODES.unavailable,
        `evidence export needs the deployment's signing key: set ${SIGNING_KEY_OPTION} to the path of its ` +
          'Ed25519 PKCS#8 PEM file (e.g. a mounted Secret; `vigil evidence key` exports its public half)',
        { option: 'VIGIL_SIGNING_KEY' },
      );
    let exported;
    try {
      exported = await exportEvidence({
        source: this.store,
        scope,
        version,
        signingKey: this.signingKey,
        createdAt: new Date(),
        producer: `vigil ${this.identity.service} ${this.identity.version}`,
      });
    } catch (err) {
      if (err instanceof EvidenceSnapshotMissingError) throw apiError(ERROR_CODES.notFound, err.message);
      throw err;
    }
    const { bundle } = exported;
    const id = await this.store.putBlob(bundle.zip, evidenceMediaType(scope, exported.version));
    return {
      id,
      sha256: id.slice('sha256:'.length),
      size: bundle.zip.byteLength,
      scope,
      snapshotVersion: exported.version,
      contentHash: exported.contentHash,
      keyFingerprint: this.signingKey.fingerprint,
      downloadPath: downloadPath(id),
    };
  }
}

// The words EvidenceSnapshotMissingError uses, so an unseen scope and an empty one read the same.
function missing(scope: string, version: number | undefined): string {
  return version !== undefined
    ? `scope ${scope} has no snapshot version ${version}`
    : `scope ${scope} has no snapshot yet; run a scan first`;
}
