// Parsing the JSON documents every image format shares (image config, descriptors) into checked shapes.
import { createHash } from 'node:crypto';
import { type ImageConfig, ImageError } from './source.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

export function parseJson(image: string, what: string, bytes: Uint8Array): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch (err) {
    throw new ImageError(image, `bad JSON in ${what}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fails unless the bytes hash to the digest their reference names. */
export function verifyDigest(image: string, what: string, bytes: Uint8Array, expected: string): string {
  const actual = sha256(bytes);
  if (actual !== expected) {
    throw new ImageError(image, `digest mismatch for ${what}: expected ${expected}, got ${actual}`);
  }
  return actual;
}

/** The image config, with the fields the readers rely on checked. */
export function parseConfig(image: string, bytes: Uint8Array, what = 'the image config'): ImageConfig {
  const doc = parseJson(image, what, bytes);
  if (!isObject(doc)) throw new ImageError(image, `${what} is not a JSON object`);
  const rootfs = doc.rootfs;
  if (!isObject(rootfs) || !Array.isArray(rootfs.diff_ids)) {
    throw new ImageError(image, `${what} has no rootfs.diff_ids`);
  }
  for (const id of rootfs.diff_ids) {
    if (!isDigest(id)) throw new ImageError(image, `${what} has a bad diff_id ${JSON.stringify(id)}`);
  }
  if (doc.history !== undefined && !Array.isArray(doc.history)) {
    throw new ImageError(image, `${what} has a history that is not a list`);
  }
  return doc as ImageConfig;
}

/** The Dockerfile instruction of each layer: history entries that made a layer, in order, when they line up. */
export function layerCreatedBy(config: ImageConfig, layerCount: number): (string | undefined)[] {
  const made = (config.history ?? []).filter((h) => isObject(h) && h.empty_layer !== true);
  if (made.length !== layerCount) return new Array<string | undefined>(layerCount).fill(undefined);
  // Classic builders record non-RUN instructions as `/bin/sh -c #(nop) ADD …`; the instruction is what follows.
  return made.map((h) =>
    typeof h.created_by === 'string' ? h.created_by.replace(/^\/bin\/sh -c #\(nop\)\s*/, '') : undefined,
  );
}
