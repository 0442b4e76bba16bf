// Content digests ("sha256:<hex>") of what a registry sends: computed over whole small documents (manifests,
// configs) and incrementally over layer streams, so a blob is never trusted before its last byte is checked.
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ImageError } from '../image/source.js';

const ALGORITHMS: Record<string, string> = { sha256: 'sha256', sha512: 'sha512' };

export function digestAlgorithm(digest: string, image: string): string {
  const algorithm = digest.slice(0, digest.indexOf(':'));
  const node = ALGORITHMS[algorithm];
  if (!node || !/^[a-z0-9]+:[a-f0-9]+$/.test(digest))
    throw new ImageError(image, `digest ${JSON.stringify(digest)} is not a sha256 or sha512 digest`);
  return node;
}

export function digestOf(bytes: Uint8Array, algorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

/**
 * A pass-through stream that errors with an ImageError when the bytes through it do not hash to `digest` or
 * are not `size` bytes long: as soon as they exceed the size, else at the end.
 */
export function verifyingStream(
  digest: string,
  size: number | undefined,
  image: string,
  what: string,
): Transform {
  const algorithm = digestAlgorithm(digest, image);
  const hash = createHash(algorithm);
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (size !== undefined && size >= 0 && seen > size) {
        callback(
          new ImageError(image, `${what} ${digest} is longer than the ${size} bytes its manifest says`),
        );
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
    flush(callback: TransformCallback) {
      if (size !== undefined && size >= 0 && seen !== size) {
        callback(
          new ImageError(
            image,
            `${what} ${digest} ended after ${seen} of the ${size} bytes its manifest says`,
          ),
        );
        return;
      }
      const got = `${algorithm}:${hash.digest('hex')}`;
      if (got !== digest) {
        callback(
          new ImageError(image, `digest mismatch: ${what} ${digest} was received with content digest ${got}`),
        );
        return;
      }
      callback();
    },
  });
}
