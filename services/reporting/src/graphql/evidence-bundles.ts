import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseSigningKey, type SigningKey } from '@vigil/report';

// Evidence bundles the API builds are stored as content-addressed blobs (id = digest). The blob's media type is
// what ties a bundle to its scope and version:
//
//   application/vnd.vigil.evidence-bundle+zip; scope="payments-prod"; version=3
//
// so the download decides who may read a blob from one indexed row, without a table of its own and without
// unpacking the zip to read its manifest. The association cannot be confused by deduplication: the manifest in
// the bundle names the scope (and its creation time), so two scopes never produce the same bytes, and a blob
// stored by anything else (an SBOM) has another media type and is not a bundle to this API.

export const EVIDENCE_MEDIA_TYPE = 'application/vnd.vigil.evidence-bundle+zip';
export const EVIDENCE_PATH = '/v1/evidence';

/** Injection token of the deployment's signing key (a SigningKey, or null when none is configured). */
export const EVIDENCE_SIGNING_KEY = 'vigil:evidence-signing-key';

/** The option that configures the key, named in every error about it. */
export const SIGNING_KEY_OPTION = 'VIGIL_SIGNING_KEY (reporting.signingKey)';

export interface EvidenceBlobInfo {
  readonly scope: string;
  readonly version: number;
}

export function evidenceMediaType(scope: string, version: number): string {
  if (!Number.isSafeInteger(version) || version < 1)
    throw new Error(`evidence bundle version ${version} is not a positive integer`);
  return `${EVIDENCE_MEDIA_TYPE}; scope="${scope.replace(/["\\]/g, (c) => `\\${c}`)}"; version=${version}`;
}

const MEDIA_TYPE =
  /^application\/vnd\.vigil\.evidence-bundle\+zip; scope="((?:[^"\\]|\\.)*)"; version=([1-9][0-9]*)$/;

/** The scope and version of an evidence bundle blob; undefined for a blob that is not one. */
export function parseEvidenceMediaType(mediaType: string): EvidenceBlobInfo | undefined {
  const m = MEDIA_TYPE.exec(mediaType);
  if (!m) return undefined;
  const version = Number(m[2]);
  if (!Number.isSafeInteger(version)) return undefined;
  return { scope: (m[1] as string).replace(/\\(.)/g, '$1'), version };
}

export function downloadPath(digest: string): string {
  return `${EVIDENCE_PATH}/${digest}.zip`;
}

/** `vigil-evidence-<scope>-v<N>.zip`, with anything a file name or the header should not carry replaced. */
export function bundleFileName(info: EvidenceBlobInfo): string {
  const scope = info.scope.replace(/[^A-Za-z0-9._-]+/g, '_');
  return `vigil-evidence-${scope}-v${info.version}.zip`;
}

/**
 * Reads the signing key at `path` (a mounted Secret). Unlike the CLI's data dir key there is no mode check: a
 * Secret volume's files are 0644 unless its defaultMode says otherwise, and who reads the mount is the pod's.
 */
export async function readSigningKeyFile(path: string): Promise<SigningKey> {
  if (!path.trim()) throw new Error(`${SIGNING_KEY_OPTION} is set but empty`);
  const file = resolve(path);
  const pem = await readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new Error(
      `${SIGNING_KEY_OPTION}: cannot read the evidence signing key ${file}: ${err.code ?? err.message}`,
    );
  });
  return parseSigningKey(pem, `${SIGNING_KEY_OPTION}: evidence signing key ${file}`);
}
