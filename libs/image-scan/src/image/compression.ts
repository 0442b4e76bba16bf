// Layer and archive compression, told by magic bytes (media types lie: docker-archive layers say nothing, and
// registries serve gzip under "tar" types). Everything is a stream of chunks: nothing is inflated in one piece.
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export type Compression = 'gzip' | 'zstd' | 'none';

export class CompressionError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'CompressionError';
  }
}

export function sniffCompression(head: Uint8Array): Compression | 'bzip2' | 'xz' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  if (head[0] === 0x42 && head[1] === 0x5a && head[2] === 0x68) return 'bzip2';
  if (head[0] === 0xfd && head[1] === 0x37 && head[2] === 0x7a && head[3] === 0x58) return 'xz';
  return 'none';
}

/** Yields the source's chunks after calling `onChunk` with each (hashing, counting). */
export async function* tap(
  source: AsyncIterable<Uint8Array>,
  onChunk: (chunk: Uint8Array) => void,
): AsyncGenerator<Uint8Array> {
  for await (const chunk of source) {
    onChunk(chunk);
    yield chunk;
  }
}

async function* prepend(head: Uint8Array[], rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  yield* head;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

type InflateFactory = (options: { chunkSize: number }) => NodeJS.ReadWriteStream & Readable;

/** Node 22.15+ inflates zstd natively (several times faster than fzstd); Node 20 has only fzstd. */
const nativeZstd = (zlib as unknown as { createZstdDecompress?: InflateFactory }).createZstdDecompress;

async function* inflateWith(
  source: AsyncIterable<Uint8Array>,
  make: InflateFactory,
  kind: string,
): AsyncGenerator<Uint8Array> {
  const input = Readable.from(source, { objectMode: false });
  // Large output chunks keep zlib's thread busy while this one parses; 16 KiB default chunks leave it idle.
  const inflate = make({ chunkSize: 256 * 1024 });
  input.on('error', (err) => inflate.destroy(err));
  input.pipe(inflate);
  try {
    for await (const chunk of inflate) yield chunk as Buffer;
  } catch (err) {
    if (err instanceof Error && 'code' in err && /^(Z_|ZSTD_|ERR_ZSTD|ERR__ZSTD)/.test(String(err.code))) {
      throw new CompressionError(`corrupt or truncated ${kind} data (${err.message})`);
    }
    throw err;
  } finally {
    input.destroy();
    inflate.destroy();
  }
}

async function* unzstd(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let out: Uint8Array[] = [];
  let ended = false;
  const stream = new Decompress((data, final) => {
    out.push(data);
    if (final) ended = true;
  });
  const push = (chunk: Uint8Array, final: boolean) => {
    try {
      stream.push(chunk, final);
    } catch (err) {
      throw new CompressionError(
        `corrupt or truncated zstd data (${err instanceof Error ? err.message : String(err)})`,
      );
    }
  };
  for await (const chunk of source) {
    push(chunk, false);
    const ready = out;
    out = [];
    yield* ready;
  }
  push(new Uint8Array(0), true);
  yield* out;
  if (!ended) throw new CompressionError('truncated zstd data');
}

/**
 * The decompressed bytes of a stream, whatever its compression; `onKind` learns which it was before the first
 * chunk is yielded.
 */
export async function* decompress(
  source: AsyncIterable<Uint8Array>,
  onKind?: (kind: Compression) => void,
): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let have = 0;
  while (have < 4) {
    const next = await it.next();
    if (next.done) break;
    head.push(next.value);
    have += next.value.length;
  }
  const kind = sniffCompression(Buffer.concat(head));
  if (kind === 'bzip2' || kind === 'xz') throw new CompressionError(`${kind} compression is not supported`);
  onKind?.(kind);
  const all = prepend(head, it);
  if (kind === 'gzip') yield* inflateWith(all, (o) => createGunzip(o), 'gzip');
  else if (kind === 'zstd') yield* nativeZstd ? inflateWith(all, nativeZstd, 'zstd') : unzstd(all);
  else yield* all;
}
