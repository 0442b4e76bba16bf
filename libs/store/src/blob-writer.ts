import type { SqlQueryable } from './sql.port.js';
import { blobDigest } from './blob-digest.js';

/**
 * Stores bytes in the content-addressed blob table over the plain SQL port, for a service that has a database
 * but not the reporting store (the image scanner's SBOMs). The same bytes stored twice are one row.
 */
export async function putBlob(sql: SqlQueryable, content: Uint8Array, mediaType: string): Promise<string> {
  if (!mediaType) throw new Error('putBlob: the blob media type is empty');
  const digest = blobDigest(content);
  await sql.query(
    `INSERT INTO blobs (digest, media_type, size, content) VALUES ($1, $2, $3, $4) ON CONFLICT (digest) DO NOTHING`,
    [
      digest,
      mediaType,
      content.byteLength,
      Buffer.from(content.buffer, content.byteOffset, content.byteLength),
    ],
  );
  return digest;
}
