// Reading a snapshot's evidence out of the reporting store and building its bundle: one code path for the CLI
// (`vigil evidence export`) and the API (the exportEvidence mutation), so both sign the same bytes for the same
// snapshot. The store is structural here: libs/report does not depend on libs/store.
import type { ComplianceReport } from '@vigil/contracts';
import { reportFromContent } from '../snapshot.builder.js';
import {
  buildEvidenceBundle,
  eventsWithin,
  sbomRefsOf,
  type EvidenceBundle,
  type EvidenceEvent,
  type EvidenceSbom,
} from './evidence-bundle.js';
import type { SigningKey } from './signing-key.js';

interface StoredSnapshotLike {
  readonly version: number;
  readonly contentHash: string;
  readonly content: Uint8Array;
}

/** What an export reads of the reporting store (ReportingReader has it). */
export interface EvidenceSource {
  getSnapshot(scope: string, version: number): Promise<StoredSnapshotLike | undefined>;
  latestSnapshot(scope: string): Promise<StoredSnapshotLike | undefined>;
  eventsForScope(scope: string, page: { offset: number; limit: number }): Promise<EvidenceEvent[]>;
  getBlob(digest: string): Promise<{ readonly content: Uint8Array } | undefined>;
}

/** The snapshot asked for does not exist: the caller's input, not a broken store. */
export class EvidenceSnapshotMissingError extends Error {
  override readonly name = 'EvidenceSnapshotMissingError';
}

export interface EvidenceExportInput {
  source: EvidenceSource;
  scope: string;
  /** The latest version when undefined. */
  version?: number | undefined;
  signingKey: SigningKey;
  createdAt: Date;
  /** Who built the bundle, e.g. "vigil 0.1.0". */
  producer: string;
}

export interface ExportedEvidence {
  bundle: EvidenceBundle;
  version: number;
  contentHash: string;
}

/** Reads the snapshot, its chain, the events it folded and their SBOMs, and builds the signed bundle. */
export async function exportEvidence(i: EvidenceExportInput): Promise<ExportedEvidence> {
  const stored =
    i.version !== undefined
      ? await i.source.getSnapshot(i.scope, i.version)
      : await i.source.latestSnapshot(i.scope);
  if (!stored)
    throw new EvidenceSnapshotMissingError(
      i.version !== undefined
        ? `scope ${i.scope} has no snapshot version ${i.version}`
        : `scope ${i.scope} has no snapshot yet; run a scan first`,
    );
  const report = reportFromContent(stored.content, stored.contentHash);
  const versions: ComplianceReport[] = [report];
  for (let v = 1; v < stored.version; v++) {
    const s = await i.source.getSnapshot(i.scope, v);
    if (!s) throw new Error(`scope ${i.scope} lacks snapshot version ${v} (the chain needs every version)`);
    versions.push(reportFromContent(s.content, s.contentHash));
  }
  const previous = versions.find((r) => r.snapshotVersion === stored.version - 1);

  // Paged, keeping only what the snapshot folded: a scope's log may run far past an old snapshot.
  const events: EvidenceEvent[] = [];
  for (let offset = 0; ;) {
    const page = await i.source.eventsForScope(i.scope, { offset, limit: 5000 });
    if (page.length === 0) break;
    events.push(...eventsWithin(page, report));
    offset += page.length;
  }
  const sboms: EvidenceSbom[] = [];
  for (const ref of sbomRefsOf(events)) {
    const blob = await i.source.getBlob(ref.digest);
    if (!blob)
      throw new Error(
        `the SBOM ${ref.digest} of scan ${ref.scanId} (${ref.targetKey}) is not in the blob store`,
      );
    sboms.push({ ...ref, content: blob.content });
  }
  const bundle = buildEvidenceBundle({
    report,
    content: stored.content,
    previous,
    versions,
    events,
    sboms,
    signingKey: i.signingKey,
    createdAt: i.createdAt,
    producer: i.producer,
  });
  return { bundle, version: stored.version, contentHash: stored.contentHash };
}
