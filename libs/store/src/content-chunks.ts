import { createHash } from 'node:crypto';

/**
 * Content-defined chunking (a gear rolling hash, as in FastCDC): a boundary falls where the hash of the last 32
 * bytes has its top bits clear, so it depends on the bytes around it and not on their offset. Two snapshot
 * versions that differ in a few findings cut the same chunks everywhere else, and those are stored once.
 *
 * The parameters only decide how well versions share chunks, never what a reader gets back: changing them later
 * is safe (old chunks stay readable; new versions just share less with old ones).
 */
const MIN_CHUNK = 16 * 1024;
const MAX_CHUNK = 256 * 1024;
// 15 bits: a boundary every 32 KiB on average after the minimum, so chunks average about 48 KiB.
const BOUNDARY_MASK = 0xfffe0000 | 0;
// The hash of a position depends on its last 32 bytes only (each step shifts one bit out), so hashing may start
// this far before the first allowed boundary and still cut where hashing from the chunk's start would.
const WINDOW = 32;

const GEAR = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++)
    table[i] = createHash('sha256').update(`vigil snapshot chunk gear ${i}`).digest().readInt32BE(0);
  return table;
})();

export interface ContentChunk {
  /** SHA-256 of the chunk's bytes (32 bytes). */
  readonly digest: Buffer;
  readonly bytes: Uint8Array;
}

/** Cuts bytes into content-defined chunks (views into the input, not copies), each with its SHA-256. */
export function chunkContent(content: Uint8Array): ContentChunk[] {
  const chunks: ContentChunk[] = [];
  const n = content.length;
  let start = 0;
  while (start < n) {
    let end = Math.min(n, start + MAX_CHUNK);
    if (n - start > MIN_CHUNK) {
      const limit = end;
      let h = 0;
      let i = start + MIN_CHUNK - WINDOW;
      for (; i < start + MIN_CHUNK; i++) h = ((h << 1) + GEAR[content[i]!]!) | 0;
      for (; i < limit; i++) {
        h = ((h << 1) + GEAR[content[i]!]!) | 0;
        if ((h & BOUNDARY_MASK) === 0) {
          end = i + 1;
          break;
        }
      }
    } else {
      end = n;
    }
    const bytes = content.subarray(start, end);
    chunks.push({ digest: createHash('sha256').update(bytes).digest(), bytes });
    start = end;
  }
  return chunks;
}

/** The concatenated digests a snapshot row keeps, split back into digests. */
export function chunkDigests(list: Uint8Array): Buffer[] {
  if (list.length === 0 || list.length % 32 !== 0)
    throw new Error(`a chunk list must be a non-empty multiple of 32 bytes, got ${list.length}`);
  const out: Buffer[] = [];
  for (let i = 0; i < list.length; i += 32) out.push(Buffer.from(list.subarray(i, i + 32)));
  return out;
}
