import { create } from '@vigil/contracts';
import { LogPositionSchema, ScopeSchema, type LogPosition, type SnapshotPublished } from '@vigil/contracts';
import {
  buildSnapshot,
  scopeKey,
  type EntityType,
  type ReportState,
  type RequirementCatalog,
} from '@vigil/report';
import type { ReportingTransaction } from '@vigil/store';

export interface MadeSnapshot {
  published: Omit<SnapshotPublished, '$typeName' | '$unknown'>;
  subjectKey: string;
}

/** Builds the scope's next snapshot from the fold and appends it to the store, inside the caller's transaction. */
export class SnapshotMaker {
  constructor(
    private readonly catalog: RequirementCatalog,
    private readonly entityType: EntityType,
    private readonly clock: () => Date,
  ) {}

  async make(
    tx: ReportingTransaction,
    state: ReportState,
    scope: { tenant: string; cluster: string },
    at: { scanId: string; logPosition: LogPosition[] },
  ): Promise<MadeSnapshot> {
    const key = scopeKey(scope);
    const latest = await tx.latestSnapshot(key);
    const snapshot = buildSnapshot({
      state,
      scope,
      catalog: this.catalog,
      entityType: this.entityType,
      ...(latest ? { previous: { version: latest.version, contentHash: latest.contentHash, scope } } : {}),
      logPosition: at.logPosition,
      createdAt: this.clock(),
      scanId: at.scanId,
    });
    await tx.insertSnapshot({
      scope: key,
      version: snapshot.version,
      frameworkVersion: snapshot.frameworkVersion,
      contentHash: snapshot.contentHash,
      previousHash: snapshot.previousHash || null,
      logPosition: snapshot.report.logPosition.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: p.offset,
      })),
      content: snapshot.content,
      scanId: at.scanId,
    });
    return {
      subjectKey: key,
      published: {
        scope: create(ScopeSchema, scope),
        frameworkVersion: snapshot.frameworkVersion,
        version: snapshot.version,
        contentHash: snapshot.contentHash,
        previousHash: snapshot.previousHash,
        logPosition: snapshot.report.logPosition.map((p) => create(LogPositionSchema, p)),
        summary: snapshot.report.summary,
        findingCounts: snapshot.report.findingCounts,
        scanId: at.scanId,
      },
    };
  }
}
