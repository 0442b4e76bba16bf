import { verify, type KeyObject } from 'node:crypto';
import { ComplianceReportSchema, fromReportJson } from '@vigil/contracts';
import { contentHashOf } from '../snapshot.builder.js';
import {
  BUNDLE_FILES,
  EVIDENCE_MANIFEST_SCHEMA_VERSION,
  MANIFEST_FILE,
  SIGNATURE_FILE,
  sha256Hex,
  type EvidenceManifest,
} from './evidence-bundle.js';
import { publicKeyFingerprint } from './signing-key.js';
import { readZip } from './zip.js';

// Offline verification of an evidence bundle against the deployment's public key: the signature over the
// manifest, every file's size and SHA-256, no file missing or added, the snapshot's content hash (of its
// canonical bytes and of its readable JSON), its chain fields against the manifest's chain, and that every raw
// event lies within the snapshot's scope and log position. Every problem found is reported, each naming the file.

export interface VerifyProblem {
  /** The bundle member the problem is in; undefined for the bundle as a whole. */
  readonly file?: string;
  readonly problem: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly problems: readonly VerifyProblem[];
  /** The manifest, when it could be read (even if its signature does not verify: to say what it claims). */
  readonly manifest?: EvidenceManifest;
  readonly keyFingerprint: string;
}

/** Throws ZipFormatError when the bytes are not a ZIP archive at all. */
export function verifyEvidenceBundle(zip: Uint8Array, publicKey: KeyObject): VerifyResult {
  const problems: VerifyProblem[] = [];
  const bad = (file: string | undefined, problem: string) =>
    problems.push(file === undefined ? { problem } : { file, problem });
  const keyFingerprint = publicKeyFingerprint(publicKey);
  const read = readZip(zip);
  for (const p of read.problems) bad(p.name, `damaged in the archive: ${p.problem}`);
  const members = new Map<string, Uint8Array>();
  // `zip -r` of an unpacked bundle adds an entry per folder (`sboms/`, no content). Such an entry carries nothing
  // the manifest could list, so it is left out; one with content is not a folder and stays a member.
  const folders: string[] = [];
  for (const e of read.entries) {
    if (e.name.endsWith('/') && e.data.byteLength === 0) {
      folders.push(e.name);
      continue;
    }
    if (members.has(e.name)) bad(e.name, 'is in the archive twice');
    members.set(e.name, e.data);
  }
  const damaged = new Set(read.problems.map((p) => p.name));
  const result = (manifest?: EvidenceManifest): VerifyResult => ({
    ok: problems.length === 0,
    problems,
    keyFingerprint,
    ...(manifest ? { manifest } : {}),
  });

  const manifestBytes = members.get(MANIFEST_FILE);
  if (!manifestBytes) {
    if (!damaged.has(MANIFEST_FILE)) bad(MANIFEST_FILE, 'is missing');
    return result();
  }
  const sigText = members.get(SIGNATURE_FILE);
  if (!sigText) {
    if (!damaged.has(SIGNATURE_FILE)) bad(SIGNATURE_FILE, 'is missing');
  } else {
    const sig = Buffer.from(Buffer.from(sigText).toString('utf8').trim(), 'base64');
    let valid = false;
    try {
      valid = sig.length === 64 && verify(null, manifestBytes, publicKey, sig);
    } catch {
      valid = false;
    }
    if (!valid)
      bad(MANIFEST_FILE, `its signature (${SIGNATURE_FILE}) does not verify with key ${keyFingerprint}`);
  }

  let manifest: EvidenceManifest;
  try {
    manifest = JSON.parse(Buffer.from(manifestBytes).toString('utf8')) as EvidenceManifest;
    checkManifestShape(manifest);
  } catch (err) {
    bad(MANIFEST_FILE, `is not a readable evidence manifest: ${(err as Error).message}`);
    return result();
  }
  if (manifest.signature.keyFingerprint !== keyFingerprint)
    bad(
      MANIFEST_FILE,
      `was signed with key ${manifest.signature.keyFingerprint}, not with the given key ${keyFingerprint}`,
    );

  // Files: each listed one present with its size and hash; nothing unlisted besides the manifest and signature.
  const listed = new Set<string>();
  for (const f of manifest.files) {
    if (listed.has(f.path)) bad(f.path, 'is listed twice in the manifest');
    listed.add(f.path);
    const data = members.get(f.path);
    if (!data) {
      if (!damaged.has(f.path)) bad(f.path, 'is listed in the manifest but missing from the bundle');
      continue;
    }
    if (data.byteLength !== f.size || sha256Hex(data) !== f.sha256)
      bad(
        f.path,
        `was changed: its SHA-256 is ${sha256Hex(data)} (${data.byteLength} bytes), the manifest says ${f.sha256} (${f.size} bytes)`,
      );
  }
  for (const folder of folders) {
    // `report.json/` where report.json should be: the listed file is gone, and this entry is what replaced it.
    if (listed.has(folder.replace(/\/+$/, '')))
      bad(folder, 'is a folder entry in place of a file the manifest lists');
  }
  for (const name of new Set([...members.keys(), ...damaged])) {
    if (name !== MANIFEST_FILE && name !== SIGNATURE_FILE && !listed.has(name))
      bad(name, 'is in the bundle but not in the manifest (added)');
  }

  checkSnapshot(manifest, members, bad);
  checkChain(manifest, bad);
  checkEvents(manifest, members, bad);
  return result(manifest);
}

function checkSnapshot(
  m: EvidenceManifest,
  members: Map<string, Uint8Array>,
  bad: (file: string | undefined, problem: string) => void,
): void {
  const canonical = members.get(BUNDLE_FILES.canonical);
  if (canonical) {
    const h = 'sha256:' + sha256Hex(canonical);
    if (h !== m.snapshot.contentHash)
      bad(
        BUNDLE_FILES.canonical,
        `hashes to ${h}, not to the snapshot's content hash ${m.snapshot.contentHash}`,
      );
  }
  const json = members.get(BUNDLE_FILES.snapshot);
  if (!json) return;
  let report;
  try {
    report = fromReportJson(ComplianceReportSchema, JSON.parse(Buffer.from(json).toString('utf8')));
  } catch (err) {
    bad(BUNDLE_FILES.snapshot, `is not a readable snapshot: ${(err as Error).message}`);
    return;
  }
  const recomputed = contentHashOf(report);
  if (recomputed !== m.snapshot.contentHash)
    bad(BUNDLE_FILES.snapshot, `its content hashes to ${recomputed}, not to ${m.snapshot.contentHash}`);
  if (report.contentHash !== m.snapshot.contentHash)
    bad(
      BUNDLE_FILES.snapshot,
      `says content hash ${report.contentHash}, the manifest ${m.snapshot.contentHash}`,
    );
  if (report.previousHash !== m.snapshot.previousHash)
    bad(
      BUNDLE_FILES.snapshot,
      `says previous hash "${report.previousHash}", the manifest "${m.snapshot.previousHash}"`,
    );
  if (report.snapshotVersion !== m.snapshot.version)
    bad(
      BUNDLE_FILES.snapshot,
      `is version ${report.snapshotVersion}, the manifest says ${m.snapshot.version}`,
    );
  if ((report.scope?.cluster ?? '') !== m.scope.cluster || (report.scope?.tenant ?? '') !== m.scope.tenant)
    bad(
      BUNDLE_FILES.snapshot,
      `belongs to scope ${report.scope?.cluster ?? ''}, the manifest says ${m.scope.cluster}`,
    );
  const pos = (ps: readonly { topic: string; partition: number; offset: string | bigint }[]) =>
    ps.map((p) => `${p.topic}[${p.partition}]@${String(p.offset)}`).join(',');
  if (pos(report.logPosition) !== pos(m.snapshot.logPosition))
    bad(
      BUNDLE_FILES.snapshot,
      `covers log position ${pos(report.logPosition)}, the manifest ${pos(m.snapshot.logPosition)}`,
    );
}

function checkChain(m: EvidenceManifest, bad: (file: string | undefined, problem: string) => void): void {
  const chain = m.chain;
  chain.forEach((c, k) => {
    if (c.version !== k + 1) bad(MANIFEST_FILE, `chain entry ${k + 1} is version ${c.version}`);
    const expected = k === 0 ? '' : (chain[k - 1]?.contentHash ?? '');
    if (c.previousHash !== expected)
      bad(
        MANIFEST_FILE,
        `chain: version ${c.version} names previous hash "${c.previousHash}", version ${c.version - 1} is "${expected}"`,
      );
  });
  const last = chain[chain.length - 1];
  if (
    !last ||
    last.version !== m.snapshot.version ||
    last.contentHash !== m.snapshot.contentHash ||
    last.previousHash !== m.snapshot.previousHash
  )
    bad(MANIFEST_FILE, `chain does not end at snapshot ${m.snapshot.version} (${m.snapshot.contentHash})`);
}

function checkEvents(
  m: EvidenceManifest,
  members: Map<string, Uint8Array>,
  bad: (file: string | undefined, problem: string) => void,
): void {
  const data = members.get(BUNDLE_FILES.events);
  if (!data) return;
  const scope = m.scope.tenant ? `${m.scope.tenant}/${m.scope.cluster}` : m.scope.cluster;
  const limit = new Map(
    m.snapshot.logPosition.map((p) => [`${p.topic}\u0000${p.partition}`, BigInt(p.offset)]),
  );
  const lines = Buffer.from(data).toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let outside = 0;
  let first = '';
  lines.forEach((line, k) => {
    let e: { topic?: unknown; partition?: unknown; offset?: unknown; scope?: unknown; envelope?: unknown };
    try {
      e = JSON.parse(line) as typeof e;
    } catch {
      bad(BUNDLE_FILES.events, `line ${k + 1} is not JSON`);
      return;
    }
    const end = limit.get(`${String(e.topic)}\u0000${String(e.partition)}`);
    const offset = typeof e.offset === 'string' && /^\d+$/.test(e.offset) ? BigInt(e.offset) : undefined;
    if (
      e.scope !== scope ||
      end === undefined ||
      offset === undefined ||
      offset > end ||
      typeof e.envelope !== 'string'
    ) {
      outside++;
      if (!first)
        first = `line ${k + 1} (${String(e.topic)}[${String(e.partition)}]@${String(e.offset)}, scope ${String(e.scope)})`;
    }
  });
  if (outside > 0)
    bad(
      BUNDLE_FILES.events,
      `${outside} event(s) lie outside the snapshot's scope or log position, first ${first}`,
    );
  if (lines.length !== m.events)
    bad(BUNDLE_FILES.events, `holds ${lines.length} event(s), the manifest says ${m.events}`);
}

function checkManifestShape(m: EvidenceManifest): void {
  if (typeof m !== 'object' || m === null) throw new Error('not a JSON object');
  if (m.kind !== 'vigil.evidence-bundle')
    throw new Error(`kind is "${String(m.kind)}", not "vigil.evidence-bundle"`);
  if (m.schemaVersion !== EVIDENCE_MANIFEST_SCHEMA_VERSION)
    throw new Error(
      `schemaVersion ${String(m.schemaVersion)} is not one this build reads (${EVIDENCE_MANIFEST_SCHEMA_VERSION})`,
    );
  if (!Array.isArray(m.files) || !Array.isArray(m.chain) || !m.snapshot || !m.scope || !m.signature)
    throw new Error('files, chain, snapshot, scope or signature is missing');
  for (const f of m.files)
    if (typeof f?.path !== 'string' || typeof f.sha256 !== 'string' || typeof f.size !== 'number')
      throw new Error('a files entry lacks path, sha256 or size');
  if (!Array.isArray(m.snapshot.logPosition)) throw new Error('snapshot.logPosition is missing');
}
