import { constants } from 'node:fs';
import { chmod, link, mkdir, open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  EvidenceSnapshotMissingError,
  exportEvidence,
  generateSigningKeyPem,
  parsePublicKey,
  parseSigningKey,
  publicKeyFingerprint,
  publicKeyPem,
  verifyEvidenceBundle,
  ZipFormatError,
  type ExportedEvidence,
  type SigningKey,
  type VerifyResult,
} from '@vigil/report';
import type { ReportingReader } from '@vigil/store';
import type { Output } from '../output.js';
import { VIGIL_VERSION } from '../pipeline.js';
import { UsageError, commandName } from '../usage-error.js';

// `vigil evidence export|key|verify`. The signing key is the deployment's: generated once into the data dir (mode
// 0600) or read from a path (a mounted Kubernetes Secret). Its public key leaves through `vigil evidence key`, so a
// verifier holds a key that did not come with the bundle it checks.

export const SIGNING_KEY_FILE = 'evidence-signing-key.pem';

/** What export reads of the reporting store. */
export type EvidenceStore = Pick<
  ReportingReader,
  'getSnapshot' | 'latestSnapshot' | 'eventsForScope' | 'getBlob'
>;

export interface SigningKeySource {
  /** The deployment's data dir: the key lives in it unless keyPath is given. */
  dataDir: string;
  /** A PEM file given by path (--signing-key): read as is, never created. */
  keyPath?: string | undefined;
  /**
   * The command the key is loaded for, as its messages name it (`vigil report`, `vigil up`); default
   * `vigil evidence`. A user who typed `vigil report` must not read an error from a command they did not run.
   */
  command?: string;
}

/**
 * The deployment's signing key: the file at keyPath, or the data dir's own, created on first use. A data dir key
 * readable by anyone but its owner is refused: it signs what auditors rely on.
 */
export async function loadSigningKey(
  src: SigningKeySource,
): Promise<SigningKey & { path: string; created: boolean }> {
  const command = src.command ?? commandName('evidence');
  if (src.keyPath !== undefined) {
    if (!src.keyPath.trim()) throw new UsageError(`${command}: --signing-key is empty`);
    const path = resolve(src.keyPath);
    const pem = await readFile(path).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`${command}: signing key ${path}: ${fsReason(err)}`);
    });
    return { ...parseKey(pem, path, command), path, created: false };
  }
  const dir = resolve(src.dataDir);
  const path = join(dir, SIGNING_KEY_FILE);
  let created = false;
  try {
    await mkdir(dir, { recursive: true });
    // Written whole to a private temporary file, then linked into place: link fails if the key exists, so two
    // processes starting at once never both install a key (and sign with different ones), and no reader ever
    // sees a half-written file.
    const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    try {
      await handle.writeFile(generateSigningKeyPem());
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await chmod(tmp, 0o600); // the umask may have taken bits the mode asked for; never added any
      await link(tmp, path);
      created = true;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST')
      throw new UsageError(
        `${command}: cannot create the signing key ${path}: ${fsReason(err as NodeJS.ErrnoException)}`,
      );
  }
  const info = await stat(path);
  if ((info.mode & 0o077) !== 0)
    throw new UsageError(
      `${command}: signing key ${path} is readable by others (mode ${(info.mode & 0o777).toString(8)}); chmod 600 it, and consider it exposed`,
    );
  const pem = await readFile(path);
  return { ...parseKey(pem, path, command), path, created };
}

function parseKey(pem: Buffer, path: string, command: string): SigningKey {
  try {
    return parseSigningKey(pem, `signing key ${path}`);
  } catch (err) {
    throw new UsageError(`${command}: ${(err as Error).message}`);
  }
}

export interface EvidenceExportInput {
  store: EvidenceStore;
  cluster: string;
  /** `--snapshot N`; the latest when undefined. */
  version?: number | undefined;
  /** `-o FILE`. */
  output: string;
  signingKey: SigningKey;
  now: Date;
  out: Output;
}

/** `vigil evidence export [--snapshot N] -o bundle.zip`. */
export async function evidenceExport(i: EvidenceExportInput): Promise<number> {
  if (!i.output.trim())
    throw new UsageError('vigil evidence export: -o/--output names the bundle file to write');
  let exported: ExportedEvidence;
  try {
    exported = await exportEvidence({
      source: i.store,
      scope: i.cluster,
      version: i.version,
      signingKey: i.signingKey,
      createdAt: i.now,
      producer: `vigil ${VIGIL_VERSION}`,
    });
  } catch (err) {
    const message = `vigil evidence export: ${(err as Error).message}`;
    throw err instanceof EvidenceSnapshotMissingError
      ? new UsageError(message)
      : new Error(message, { cause: err });
  }
  const { bundle, version, contentHash } = exported;
  const path = resolve(i.output);
  await writeAtomically(path, bundle.zip, commandName('evidence', 'export'));
  i.out.result(
    [
      `wrote ${path}: snapshot ${version} of ${i.cluster} (${contentHash})`,
      `  ${bundle.manifest.files.length} files, ${bundle.manifest.events} events, ${bundle.manifest.sboms.length} SBOM(s)`,
      `  signed by key ${i.signingKey.fingerprint}`,
    ].join('\n'),
  );
  return 0;
}

export interface EvidenceKeyInput {
  signingKey: SigningKey & { path: string; created: boolean };
  /** `-o FILE`; stdout when undefined. */
  output?: string | undefined;
  out: Output;
}

/** `vigil evidence key [-o vigil.pub]`: the public key (SPKI PEM); its fingerprint on stderr. */
export async function evidenceKey(i: EvidenceKeyInput): Promise<number> {
  const pem = publicKeyPem(i.signingKey.publicKey);
  if (i.signingKey.created) i.out.warn(`created the deployment's evidence signing key ${i.signingKey.path}`);
  if (i.output !== undefined) {
    if (!i.output.trim()) throw new UsageError('vigil evidence key: -o/--output is empty');
    const path = resolve(i.output);
    await writeAtomically(path, Buffer.from(pem), commandName('evidence', 'key'));
    i.out.result(`wrote ${path}\nfingerprint ${i.signingKey.fingerprint}`);
  } else {
    i.out.result(pem.trimEnd());
    i.out.warn(`fingerprint ${i.signingKey.fingerprint}`);
  }
  return 0;
}

export interface EvidenceVerifyInput {
  bundlePath: string;
  /** `--key vigil.pub`. */
  keyPath: string | undefined;
  format: 'table' | 'json';
  out: Output;
}

/** `vigil evidence verify bundle.zip --key vigil.pub`: 0 verified, 1 verification failed (each problem named). */
export async function evidenceVerify(i: EvidenceVerifyInput): Promise<number> {
  if (!i.bundlePath)
    throw new UsageError(
      'vigil evidence verify: give the bundle file (vigil evidence verify bundle.zip --key vigil.pub)',
    );
  if (!i.keyPath)
    throw new UsageError(
      "vigil evidence verify: --key names the deployment's public key file (from vigil evidence key); a key taken from the bundle would prove nothing",
    );
  const bundlePath = resolve(i.bundlePath);
  const keyPath = resolve(i.keyPath);
  const zip = await readFile(bundlePath).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`vigil evidence verify: ${bundlePath}: ${fsReason(err)}`);
  });
  const keyText = await readFile(keyPath).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`vigil evidence verify: --key ${keyPath}: ${fsReason(err)}`);
  });
  let key;
  try {
    key = parsePublicKey(keyText, `--key ${keyPath}`);
  } catch (err) {
    throw new UsageError(`vigil evidence verify: ${(err as Error).message}`);
  }
  let result: VerifyResult;
  let unreadable = false;
  try {
    result = verifyEvidenceBundle(zip, key);
  } catch (err) {
    if (!(err instanceof ZipFormatError)) throw err;
    // The file is there but is no readable bundle (truncated, not a ZIP, a damaged directory): nothing in it can
    // be verified, which is a failed verification (exit 1), not a usage error.
    result = { ok: false, problems: [{ problem: err.message }], keyFingerprint: publicKeyFingerprint(key) };
    unreadable = true;
  }
  const m = result.manifest;
  if (i.format === 'json') {
    i.out.result(
      JSON.stringify(
        {
          bundle: bundlePath,
          ok: result.ok,
          keyFingerprint: result.keyFingerprint,
          ...(m
            ? {
                scope: m.scope,
                snapshot: { version: m.snapshot.version, contentHash: m.snapshot.contentHash },
                files: m.files.length,
              }
            : {}),
          problems: result.problems,
        },
        null,
        2,
      ),
    );
  } else if (result.ok && m) {
    i.out.result(
      `verified ${bundlePath}: snapshot ${m.snapshot.version} of ${m.scope.cluster} (${m.snapshot.contentHash}), ${m.files.length} files, ${m.events} events, signed by ${result.keyFingerprint}`,
    );
  } else if (unreadable) {
    // Not a bundle at all: one line, naming the file and why.
    i.out.result(`NOT verified ${bundlePath}: ${result.problems[0]?.problem ?? ''}`);
  } else {
    i.out.result(
      [
        `NOT verified ${bundlePath} with key ${result.keyFingerprint}: ${result.problems.length} problem(s)`,
        ...result.problems.map((p) => `  ${p.file ?? '(bundle)'}: ${p.problem}`),
      ].join('\n'),
    );
  }
  return result.ok ? 0 : 1;
}

/**
 * Refuses an output path whose folder does not exist (or is not a folder), before anything is exported: a typo
 * in the path must not leave a bundle in a folder tree nobody asked for.
 */
export async function checkOutputFolder(output: string, command: string): Promise<void> {
  const folder = dirname(resolve(output));
  const info = await stat(folder).catch((err: NodeJS.ErrnoException) => err);
  if (info instanceof Error)
    throw new UsageError(
      `${command}: cannot write ${output}: folder ${folder} ${fsReason(info).replace(/^no such file or directory$/, 'does not exist')}`,
    );
  if (!info.isDirectory())
    throw new UsageError(`${command}: cannot write ${output}: ${folder} is not a folder`);
}

async function writeAtomically(path: string, data: Uint8Array, command: string): Promise<void> {
  await checkOutputFolder(path, command);
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw new UsageError(`${command}: cannot write ${path}: ${fsReason(err as NodeJS.ErrnoException)}`);
  }
}

function fsReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    default:
      return err.message;
  }
}
