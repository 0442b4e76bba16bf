import { createHash, sign } from 'node:crypto';
import {
  ComplianceReportSchema,
  SnapshotDiffSchema,
  ScanStatus,
  decodeEnvelope,
  eventTypeOf,
  toReportJson,
  type ComplianceReport,
} from '@vigil/contracts';
import { scopeKey } from '../scope-state.js';
import { diffSnapshots } from '../snapshot-diff.js';
import { findingsCsv, requirementsCsv } from './evidence-csv.js';
import { renderEvidenceHtml } from './evidence-html.renderer.js';
import { versionHistory, type VersionHistory } from './evidence-history.js';
import { toOscalAssessmentResults } from './oscal.renderer.js';
import type { SigningKey } from './signing-key.js';
import { writeZip } from './zip.js';

const SCAN_COMPLETED_TYPE = eventTypeOf('scanCompleted');

// An evidence bundle is a ZIP of files listed, with their SHA-256, in manifest.json, and manifest.sig: an Ed25519
// signature (base64) over the exact bytes of manifest.json. Nothing else is in the archive. The signature vouches
// for the manifest, the manifest for every file, snapshot.canonical.json for the snapshot's content hash, and the
// manifest's chain for the versions before it. verifyEvidenceBundle checks all of it.

export const EVIDENCE_MANIFEST_SCHEMA_VERSION = 1;
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';

export const BUNDLE_FILES = {
  snapshot: 'snapshot.json',
  canonical: 'snapshot.canonical.json',
  diff: 'diff.json',
  requirements: 'requirements.csv',
  findings: 'findings.csv',
  report: 'report.html',
  oscal: 'oscal/assessment-results.json',
  events: 'events.ndjson',
} as const;

export interface ManifestFile {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
  readonly mediaType: string;
}

export interface ChainEntry {
  readonly version: number;
  readonly contentHash: string;
  readonly previousHash: string;
}

export interface EvidenceManifest {
  readonly schemaVersion: number;
  readonly kind: 'vigil.evidence-bundle';
  readonly createdAt: string;
  readonly producer: string;
  readonly scope: { readonly tenant: string; readonly cluster: string };
  readonly snapshot: {
    readonly version: number;
    readonly frameworkVersion: string;
    readonly contentHash: string;
    readonly previousHash: string;
    readonly logPosition: readonly { topic: string; partition: number; offset: string }[];
  };
  /** Every version of the scope up to this one, oldest first: the hash chain the snapshot sits on. */
  readonly chain: readonly ChainEntry[];
  readonly signature: { readonly algorithm: 'Ed25519'; readonly keyFingerprint: string };
  readonly events: number;
  readonly sboms: readonly { path: string; digest: string; targetKey: string; scanId: string }[];
  readonly files: readonly ManifestFile[];
}

/** One recorded event, as the reporting store keeps it (StoredEvent has this shape). */
export interface EvidenceEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly topic: string;
  readonly partition: number;
  readonly logOffset: string;
  readonly scope: string;
  readonly subjectKey: string;
  readonly occurredAt: Date;
  readonly payload: Uint8Array;
}

export interface SbomRef {
  readonly digest: string;
  readonly targetKey: string;
  readonly scanId: string;
}

export interface EvidenceSbom extends SbomRef {
  readonly content: Uint8Array;
}

export interface EvidenceBundleInput {
  /** The exported snapshot, content_hash filled in. */
  readonly report: ComplianceReport;
  /** The canonical bytes its content hash covers (as stored). */
  readonly content: Uint8Array;
  /** The version before it, for the diff; undefined for version 1. */
  readonly previous?: ComplianceReport | undefined;
  /** Every version from 1 to this one (any order): the chain and the charts. */
  readonly versions: readonly ComplianceReport[];
  /** The scope's recorded events; those past the snapshot's log position are left out here. */
  readonly events: readonly EvidenceEvent[];
  readonly sboms: readonly EvidenceSbom[];
  readonly signingKey: SigningKey;
  readonly createdAt: Date;
  /** Who wrote the bundle, e.g. `vigil 0.1.0`. */
  readonly producer: string;
}

export interface EvidenceBundle {
  readonly zip: Uint8Array;
  readonly manifest: EvidenceManifest;
  readonly files: readonly { path: string; data: Uint8Array }[];
}

export function buildEvidenceBundle(i: EvidenceBundleInput): EvidenceBundle {
  const r = i.report;
  const scope = { tenant: r.scope?.tenant ?? '', cluster: r.scope?.cluster ?? '' };
  if (!scope.cluster) throw new Error('buildEvidenceBundle: the snapshot has no scope');
  const actual = sha256Prefixed(i.content);
  if (actual !== r.contentHash)
    throw new Error(
      `buildEvidenceBundle: snapshot ${r.snapshotVersion} content hashes to ${actual}, the report says ${r.contentHash}`,
    );
  const history = chainOf(i.versions, r);
  if (r.snapshotVersion > 1 && i.previous?.snapshotVersion !== r.snapshotVersion - 1)
    throw new Error(
      `buildEvidenceBundle: the previous version (${r.snapshotVersion - 1}) is needed for the diff`,
    );
  const folded = eventsWithin(i.events, r);
  const utf8 = (s: string) => new Uint8Array(Buffer.from(s, 'utf8'));

  const files: { path: string; data: Uint8Array; mediaType: string }[] = [];
  const add = (path: string, data: Uint8Array, mediaType: string) => files.push({ path, data, mediaType });
  add(
    BUNDLE_FILES.snapshot,
    utf8(JSON.stringify(toReportJson(ComplianceReportSchema, r), null, 2) + '\n'),
    'application/json',
  );
  add(BUNDLE_FILES.canonical, i.content, 'application/json');
  const diff = i.previous ? diffSnapshots(i.previous, r) : undefined;
  if (diff)
    add(
      BUNDLE_FILES.diff,
      utf8(JSON.stringify(toReportJson(SnapshotDiffSchema, diff), null, 2) + '\n'),
      'application/json',
    );
  add(BUNDLE_FILES.requirements, utf8(requirementsCsv(r)), 'text/csv');
  add(BUNDLE_FILES.findings, utf8(findingsCsv(r)), 'text/csv');
  add(
    BUNDLE_FILES.report,
    utf8(
      renderEvidenceHtml({
        report: r,
        diff,
        history,
        keyFingerprint: i.signingKey.fingerprint,
        bundleCreatedAt: i.createdAt,
        producer: i.producer,
      }),
    ),
    'text/html',
  );
  add(
    BUNDLE_FILES.oscal,
    utf8(
      JSON.stringify(
        toOscalAssessmentResults({
          report: r,
          bundleCreatedAt: i.createdAt,
          producer: i.producer,
          keyFingerprint: i.signingKey.fingerprint,
        }),
        null,
        2,
      ) + '\n',
    ),
    'application/json',
  );
  add(BUNDLE_FILES.events, utf8(folded.map(eventLine).join('')), 'application/x-ndjson');
  const sboms: { path: string; digest: string; targetKey: string; scanId: string }[] = [];
  const sbomPaths = new Set<string>();
  for (const s of [...i.sboms].sort((a, b) => cmp(a.targetKey, b.targetKey) || cmp(a.digest, b.digest))) {
    const got = sha256Prefixed(s.content);
    if (got !== s.digest)
      throw new Error(`buildEvidenceBundle: SBOM ${s.digest} of ${s.targetKey} hashes to ${got}`);
    const path = `sboms/${safeName(s.targetKey)}@${s.digest.slice(7, 19)}.cdx.json`;
    if (sbomPaths.has(path)) continue;
    sbomPaths.add(path);
    add(path, s.content, 'application/vnd.cyclonedx+json');
    sboms.push({ path, digest: s.digest, targetKey: s.targetKey, scanId: s.scanId });
  }

  const manifest: EvidenceManifest = {
    schemaVersion: EVIDENCE_MANIFEST_SCHEMA_VERSION,
    kind: 'vigil.evidence-bundle',
    createdAt: i.createdAt.toISOString(),
    producer: i.producer,
    scope,
    snapshot: {
      version: r.snapshotVersion,
      frameworkVersion: r.frameworkVersion,
      contentHash: r.contentHash,
      previousHash: r.previousHash,
      logPosition: r.logPosition.map((p) => ({
        topic: p.topic,
        partition: p.partition,
        offset: String(p.offset),
      })),
    },
    chain: history.map((h) => ({
      version: h.version,
      contentHash: h.contentHash,
      previousHash: h.previousHash,
    })),
    signature: { algorithm: 'Ed25519', keyFingerprint: i.signingKey.fingerprint },
    events: folded.length,
    sboms,
    files: files.map((f) => ({
      path: f.path,
      sha256: sha256Hex(f.data),
      size: f.data.byteLength,
      mediaType: f.mediaType,
    })),
  };
  const manifestBytes = utf8(JSON.stringify(manifest, null, 2) + '\n');
  const signature = sign(null, manifestBytes, i.signingKey.privateKey);
  const entries = [
    { name: MANIFEST_FILE, data: manifestBytes },
    { name: SIGNATURE_FILE, data: utf8(signature.toString('base64') + '\n') },
    ...files.map((f) => ({ name: f.path, data: f.data })),
  ];
  return {
    zip: writeZip(entries, i.createdAt),
    manifest,
    files: entries.map((e) => ({ path: e.name, data: e.data })),
  };
}

/**
 * The events a snapshot folded: the scope's events on the partitions its log position names, up to and including
 * the offset it records for each. Sorted in log order (topic, partition, offset).
 */
export function eventsWithin(events: readonly EvidenceEvent[], report: ComplianceReport): EvidenceEvent[] {
  const key = scopeKey({ tenant: report.scope?.tenant ?? '', cluster: report.scope?.cluster ?? '' });
  const limit = new Map(report.logPosition.map((p) => [`${p.topic}\u0000${p.partition}`, BigInt(p.offset)]));
  return events
    .filter((e) => {
      if (e.scope !== key) return false;
      const end = limit.get(`${e.topic}\u0000${e.partition}`);
      return end !== undefined && BigInt(e.logOffset) <= end;
    })
    .sort(
      (a, b) =>
        cmp(a.topic, b.topic) ||
        a.partition - b.partition ||
        cmpBig(BigInt(a.logOffset), BigInt(b.logOffset)),
    );
}

/**
 * The SBOMs of the images the snapshot's scans looked at: for each scanner and target, the latest successful
 * completed scan among the events (by log order on its partition, which the target key fixes) and its `sbom` blob.
 */
export function sbomRefsOf(events: readonly EvidenceEvent[]): SbomRef[] {
  const latest = new Map<string, { at: bigint; ref: SbomRef }>();
  for (const e of events) {
    // Only completed scans carry blob references; decoding every finding event would be wasted work.
    if (e.eventType !== SCAN_COMPLETED_TYPE) continue;
    let env;
    try {
      env = decodeEnvelope(e.payload);
    } catch (err) {
      throw new Error(
        `event ${e.eventId} (${e.topic}[${e.partition}]@${e.logOffset}): ${(err as Error).message}`,
      );
    }
    if (env.payload.case !== 'scanCompleted') continue;
    const c = env.payload.value;
    if (c.status !== ScanStatus.OK) continue;
    const sbom = c.blobs.find((b) => b.role === 'sbom');
    if (!sbom) continue;
    const key = `${c.scanner}\u0000${c.targetKey}`;
    const at = BigInt(e.logOffset);
    const prior = latest.get(key);
    if (!prior || at > prior.at)
      latest.set(key, { at, ref: { digest: sbom.digest, targetKey: c.targetKey, scanId: c.scanId } });
  }
  return [...latest.values()].map((x) => x.ref).sort((a, b) => cmp(a.targetKey, b.targetKey));
}

function chainOf(versions: readonly ComplianceReport[], r: ComplianceReport): VersionHistory[] {
  const byVersion = new Map(versions.map((v) => [v.snapshotVersion, v]));
  byVersion.set(r.snapshotVersion, r);
  const out: VersionHistory[] = [];
  for (let v = 1; v <= r.snapshotVersion; v++) {
    const report = byVersion.get(v);
    if (!report)
      throw new Error(
        `buildEvidenceBundle: version ${v} of the scope is missing (the chart and chain need every version)`,
      );
    const h = versionHistory(report);
    const prev = out[out.length - 1];
    if ((prev?.contentHash ?? '') !== h.previousHash)
      throw new Error(
        `buildEvidenceBundle: the hash chain is broken at version ${v}: its previous hash is "${h.previousHash}", version ${v - 1} has ${prev?.contentHash ?? '(none)'}`,
      );
    out.push(h);
  }
  return out;
}

function eventLine(e: EvidenceEvent): string {
  return (
    JSON.stringify({
      topic: e.topic,
      partition: e.partition,
      offset: e.logOffset,
      eventId: e.eventId,
      eventType: e.eventType,
      scope: e.scope,
      subjectKey: e.subjectKey,
      occurredAt: e.occurredAt.toISOString(),
      envelope: Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength).toString('base64'),
    }) + '\n'
  );
}

function safeName(s: string): string {
  return (
    s
      .replace(/[^A-Za-z0-9._-]+/g, '_')
      .replace(/^[._]+/, '')
      .slice(0, 120) || 'target'
  );
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function sha256Prefixed(data: Uint8Array): string {
  return 'sha256:' + sha256Hex(data);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
