import { createHash } from 'node:crypto';

/** The content address of bytes: `sha256:<64 lowercase hex>`. */
export function blobDigest(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}
