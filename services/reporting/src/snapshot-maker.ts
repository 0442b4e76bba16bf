import { create } from '@vigil/contracts';
import { LogPositionSchema, ScopeSchema, type LogPosition, type SnapshotPublished } from '@vigil/contracts';
import {
  buildSnapshot,
  scopeKey,
  type EntityType,
  type FindingOrder,
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
  /** How long the last make() spent building the content and appending it (diagnostics and the bench). */
  lastTimings: { buildMs: number; insertMs: number; contentBytes: number; storedBytes: number } | undefined;

  /**
   * `findingOrder` 'id' makes versions as builds before the asset order made them: only for the tests that check a
   * rebuild still re-derives such versions.
   */
  constructor(
    private readonly catalog: RequirementCatalog,
    private readonly entityType: EntityType,
    private readonly clock: () => Date,
    private readonly findingOrder: FindingOrder = 'asset',
  ) {}

  /**
   * The content hash the fold gives at this position: what a rebuild compares with the stored version. The entity
   * type and finding order are the stored version's (a version may have been made for another entity type than
   * this deployment's now, or before findings were ordered by asset); this maker's when it recorded none.
   */
  contentHash(
    state: ReportState,
    scope: { tenant: string; cluster: string },
    previous: { version: number; contentHash: string } | undefined,
    logPosition: readonly { topic: string; partition: number; offset: string }[],
    recorded: { entityType?: EntityType; findingOrder?: FindingOrder } = {},
  ): string {
    return buildSnapshot({
      state,
      scope,
      catalog: this.catalog,
      entityType: recorded.entityType ?? this.entityType,
      ...(recorded.findingOrder ? { findingOrder: recorded.findingOrder } : {}),
      ...(previous ? { previous: { ...previous, scope } } : {}),
      logPosition,
      // Creation time lives beside the content, never in it.
      createdAt: new Date(0),
    }).contentHash;
  }

  async make(
    tx: ReportingTransaction,
    state: ReportState,
    scope: { tenant: string; cluster: string },
    at: { scanId: string; logPosition: LogPosition[] },
  ): Promise<MadeSnapshot> {
    const key = scopeKey(scope);
    // The chain needs the latest version and hash only; its content would be megabytes read for nothing.
    const latest = await tx.snapshotHead(key);
    const started = performance.now();
    const snapshot = buildSnapshot({
      state,
      scope,
      catalog: this.catalog,
      entityType: this.entityType,
      findingOrder: this.findingOrder,
      ...(latest ? { previous: { version: latest.version, contentHash: latest.contentHash, scope } } : {}),
      logPosition: at.logPosition,
      createdAt: this.clock(),
      scanId: at.scanId,
    });
    const built = performance.now();
    const stored = await tx.insertSnapshot({
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
    this.lastTimings = {
      buildMs: built - started,
      insertMs: performance.now() - built,
      contentBytes: snapshot.content.byteLength,
      storedBytes: stored.newBytes,
    };
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
