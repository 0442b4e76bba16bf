import {
  AttestationStanding,
  ExceptionStanding,
  SCHEMA_VERSIONS,
  ScopeSchema,
  SnapshotListSchema,
  SnapshotSummarySchema,
  create,
  type AttestationUse,
  type ComplianceReport,
  type ExceptionUse,
  type FindingCounts,
  type RequirementSummary,
  type SnapshotList,
} from '@vigil/contracts';
import type { Snapshot } from './snapshot.builder.js';
import { scopeKey } from './scope-state.js';

// The published report shapes of snapshots; print them with toReportJson from @vigil/contracts.

export function complianceReport(snapshot: Snapshot): ComplianceReport {
  return snapshot.report;
}

// The exceptions of a snapshot sorted the way the issue asks for them: those used (with the findings they cover),
// those that matched nothing while active, and those no longer applying (expired, lapsed on fix, revoked, or never
// valid for want of an expiry), plus the attestations that hold and those that do not.
export interface ExceptionListing {
  readonly used: readonly ExceptionUse[];
  readonly matchedNothing: readonly ExceptionUse[];
  readonly expired: readonly ExceptionUse[];
  readonly lapsedOnFix: readonly ExceptionUse[];
  readonly revoked: readonly ExceptionUse[];
  readonly noExpiry: readonly ExceptionUse[];
  readonly attestations: {
    readonly valid: readonly AttestationUse[];
    readonly invalid: readonly AttestationUse[];
  };
}

export function exceptionListing(
  snapshot: Pick<Snapshot, 'exceptionUses' | 'attestationUses'>,
): ExceptionListing {
  const by = (s: ExceptionStanding) => snapshot.exceptionUses.filter((x) => x.standing === s);
  const active = by(ExceptionStanding.ACTIVE);
  return {
    used: active.filter((x) => x.coveredFindingIds.length > 0),
    matchedNothing: active.filter((x) => x.coveredFindingIds.length === 0),
    expired: by(ExceptionStanding.EXPIRED),
    lapsedOnFix: by(ExceptionStanding.LAPSED_ON_FIX),
    revoked: by(ExceptionStanding.REVOKED),
    noExpiry: by(ExceptionStanding.NO_EXPIRY),
    attestations: {
      valid: snapshot.attestationUses.filter((a) => a.standing === AttestationStanding.VALID),
      invalid: snapshot.attestationUses.filter((a) => a.standing !== AttestationStanding.VALID),
    },
  };
}

// What a snapshot list needs of each version: a Snapshot has it all; the reporting service can also list the rows
// it stored without decoding every content blob.
export interface SnapshotMeta {
  readonly scope: { readonly tenant?: string; readonly cluster: string };
  readonly version: number;
  readonly frameworkVersion: string;
  readonly contentHash: string;
  readonly previousHash: string;
  readonly createdAt: Date;
  readonly scanId: string;
  readonly summary: RequirementSummary | undefined;
  readonly findingCounts: FindingCounts | undefined;
}

export function snapshotMeta(s: Snapshot): SnapshotMeta {
  return { ...s, summary: s.report.summary, findingCounts: s.report.findingCounts };
}

export function snapshotList(
  scope: { readonly tenant?: string; readonly cluster: string },
  snapshots: readonly (Snapshot | SnapshotMeta)[],
): SnapshotList {
  const key = scopeKey(scope);
  const metas = snapshots.map((s) => ('report' in s ? snapshotMeta(s) : s));
  for (const s of metas) {
    if (scopeKey(s.scope) !== key) {
      throw new Error(
        `snapshotList: snapshot version ${s.version} belongs to scope "${scopeKey(s.scope)}", not "${key}"`,
      );
    }
  }
  const sorted = [...metas].sort((a, b) => a.version - b.version);
  for (let i = 1; i < sorted.length; i++) {
    if ((sorted[i] as SnapshotMeta).version === (sorted[i - 1] as SnapshotMeta).version) {
      throw new Error(
        `snapshotList: scope "${key}" lists version ${(sorted[i] as SnapshotMeta).version} twice`,
      );
    }
  }
  return create(SnapshotListSchema, {
    schemaVersion: SCHEMA_VERSIONS['vigil.v1.SnapshotList'],
    scope: create(ScopeSchema, { tenant: scope.tenant ?? '', cluster: scope.cluster }),
    snapshots: sorted.map((s) =>
      create(SnapshotSummarySchema, {
        version: s.version,
        frameworkVersion: s.frameworkVersion,
        contentHash: s.contentHash,
        previousHash: s.previousHash,
        createdAt: timestampOf(s.createdAt),
        summary: s.summary,
        findingCounts: s.findingCounts,
        scanId: s.scanId,
      }),
    ),
  });
}

function timestampOf(d: Date): { seconds: bigint; nanos: number } {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}
