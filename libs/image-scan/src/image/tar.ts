// A tar reader of our own: ustar, GNU long names and links, pax extended headers (path, linkpath, size). Two
// drivers share the header logic: a streaming one for layers (bodies are read or skipped, never buffered unasked)
// and an indexing one over a seekable file for docker/OCI archives (only headers are read).
import type { FileHandle } from 'node:fs/promises';

const BLOCK = 512;
/** Metadata records (pax, GNU long names) are small; anything larger is hostile. */
const MAX_META_BYTES = 1024 * 1024;

export type TarEntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface TarHeader {
  name: string;
  type: TarEntryType;
  mode: number;
  size: number;
  linkName: string;
}

/** A tar stream or file that does not parse; the caller adds which image and layer. */
export class TarFormatError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'TarFormatError';
  }
}

interface RawHeader {
  name: string;
  typeflag: string;
  mode: number;
  size: number;
  linkName: string;
}

function cString(block: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && block[end] !== 0) end++;
  return Buffer.from(block.buffer, block.byteOffset + start, end - start).toString('utf8');
}

function octal(block: Uint8Array, start: number, length: number, field: string): number {
  const first = block[start] ?? 0;
  if (first & 0x80) {
    // GNU base-256: big-endian binary in the remaining bytes (used for sizes of 8 GiB and more).
    if (first !== 0x80) throw new TarFormatError(`negative or oversized base-256 ${field} in a tar header`);
    let value = 0;
    for (let i = start + 1; i < start + length; i++) value = value * 256 + (block[i] ?? 0);
    if (!Number.isSafeInteger(value)) throw new TarFormatError(`${field} in a tar header is too large`);
    return value;
  }
  const text = cString(block, start, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text))
    throw new TarFormatError(`bad ${field} ${JSON.stringify(text)} in a tar header`);
  return parseInt(text, 8);
}

function isZeroBlock(block: Uint8Array): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

function parseRaw(block: Uint8Array): RawHeader {
  let stored: number;
  try {
    stored = octal(block, 148, 8, 'checksum');
  } catch {
    stored = -1;
  }
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (block[i] ?? 0);
  if (sum !== stored) throw new TarFormatError('tar header checksum mismatch (not a tar stream, or corrupt)');
  let name = cString(block, 0, 100);
  const magic = cString(block, 257, 6);
  // ustar (POSIX) splits long names into prefix + name; GNU's "ustar  " magic uses those bytes for other fields.
  if (magic === 'ustar' && block[263] === 0x30) {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  return {
    name,
    typeflag: String.fromCharCode(block[156] ?? 0),
    mode: octal(block, 100, 8, 'mode'),
    size: octal(block, 124, 12, 'size'),
    linkName: cString(block, 157, 100),
  };
}

function parsePax(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  while (pos < buf.length) {
    if (buf[pos] === 0) break;
    const space = buf.indexOf(0x20, pos);
    if (space < 0) throw new TarFormatError('malformed pax header record');
    const length = Number(buf.toString('latin1', pos, space));
    if (!Number.isInteger(length) || length <= space - pos || pos + length > buf.length) {
      throw new TarFormatError('malformed pax header record length');
    }
    const record = buf.toString('utf8', space + 1, pos + length - 1);
    const eq = record.indexOf('=');
    if (eq < 0) throw new TarFormatError('malformed pax header record (no "=")');
    records.set(record.slice(0, eq), record.slice(eq + 1));
    pos += length;
  }
  return records;
}

function entryType(flag: string): TarEntryType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return 'file';
    case '1':
      return 'hardlink';
    case '2':
      return 'symlink';
    case '5':
      return 'dir';
    default:
      return 'other';
  }
}

/** Folds metadata records (pax, GNU long names) into the header they precede. */
class PendingMeta {
  private pax = new Map<string, string>();
  private global = new Map<string, string>();
  private longName?: string;
  private longLink?: string;

  /** True when the header was a metadata record whose body (of `raw.size` bytes) must be given to `absorb`. */
  isMeta(raw: RawHeader): boolean {
    return ['x', 'g', 'L', 'K'].includes(raw.typeflag);
  }

  absorb(raw: RawHeader, body: Uint8Array): void {
    if (raw.typeflag === 'x') for (const [k, v] of parsePax(body)) this.pax.set(k, v);
    else if (raw.typeflag === 'g') for (const [k, v] of parsePax(body)) this.global.set(k, v);
    else if (raw.typeflag === 'L') this.longName = cString(body, 0, body.length);
    else if (raw.typeflag === 'K') this.longLink = cString(body, 0, body.length);
  }

  finish(raw: RawHeader): TarHeader {
    if (raw.typeflag === 'S') throw new TarFormatError(`GNU sparse file ${raw.name} is not supported`);
    const get = (key: string) => this.pax.get(key) ?? this.global.get(key);
    let size = raw.size;
    const paxSize = get('size');
    if (paxSize !== undefined) {
      if (!/^\d+$/.test(paxSize) || !Number.isSafeInteger(Number(paxSize))) {
        throw new TarFormatError(`bad pax size ${JSON.stringify(paxSize)}`);
      }
      size = Number(paxSize);
    }
    const header: TarHeader = {
      name: get('path') ?? this.longName ?? raw.name,
      type: entryType(raw.typeflag),
      mode: raw.mode & 0o7777,
      size,
      linkName: get('linkpath') ?? this.longLink ?? raw.linkName,
    };
    // Entries without data per the format carry no body, whatever the size field says.
    if (header.type === 'dir' || header.type === 'symlink' || header.type === 'hardlink') header.size = 0;
    this.pax = new Map();
    this.longName = undefined;
    this.longLink = undefined;
    return header;
  }
}

function padded(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK;
}

/** Pulls exact byte counts from an async sequence of chunks. */
class ChunkReader {
  private chunk: Buffer = Buffer.alloc(0);
  private pos = 0;
  private done = false;

  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  private async fill(): Promise<boolean> {
    while (this.pos >= this.chunk.length) {
      if (this.done) return false;
      const next = await this.source.next();
      if (next.done) {
        this.done = true;
        return false;
      }
      const value = next.value;
      this.chunk = Buffer.isBuffer(value)
        ? value
        : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
      this.pos = 0;
    }
    return true;
  }

  /** Exactly n bytes, or null at a clean end of input before the first byte. */
  async exact(n: number): Promise<Buffer | null> {
    if (!(await this.fill())) return null;
    if (this.chunk.length - this.pos >= n) {
      const out = this.chunk.subarray(this.pos, this.pos + n);
      this.pos += n;
      return out;
    }
    const out = Buffer.alloc(n);
    let got = 0;
    while (got < n) {
      if (!(await this.fill())) throw new TarFormatError('tar stream is truncated');
      const take = Math.min(n - got, this.chunk.length - this.pos);
      this.chunk.copy(out, got, this.pos, this.pos + take);
      this.pos += take;
      got += take;
    }
    return out;
  }

  /** Calls `sink` with the next n bytes in slices; fails when the input ends first. */
  async each(n: number, sink: (slice: Buffer) => void): Promise<void> {
    let left = n;
    while (left > 0) {
      if (!(await this.fill())) throw new TarFormatError('tar stream is truncated');
      const take = Math.min(left, this.chunk.length - this.pos);
      sink(this.chunk.subarray(this.pos, this.pos + take));
      this.pos += take;
      left -= take;
    }
  }

  /** Reads and discards whatever is left, so digests over the whole stream complete. */
  async drain(): Promise<void> {
    while (await this.fill()) this.pos = this.chunk.length;
  }
}

export interface StreamEntry extends TarHeader {
  /** The body as one buffer; fails when it is larger than `limit`. Call at most once, before the next entry. */
  read(limit: number): Promise<Buffer>;
}

/**
 * Entries of a tar stream, in order. A body not read is skipped. After the end-of-archive blocks the rest of the
 * input is drained, so a hash computed over the stream covers all of it.
 */
export async function* readTarStream(source: AsyncIterable<Uint8Array>): AsyncGenerator<StreamEntry> {
  const reader = new ChunkReader(source[Symbol.asyncIterator]());
  const meta = new PendingMeta();
  for (;;) {
    const block = await reader.exact(BLOCK);
    if (!block) return; // no end-of-archive marker: accepted, as GNU tar does; digests catch real truncation
    if (isZeroBlock(block)) {
      await reader.drain();
      return;
    }
    const raw = parseRaw(block);
    if (meta.isMeta(raw)) {
      if (raw.size > MAX_META_BYTES)
        throw new TarFormatError(`tar metadata record of ${raw.size} bytes is too large`);
      const body = raw.size ? await reader.exact(padded(raw.size)) : Buffer.alloc(0);
      if (!body) throw new TarFormatError('tar stream is truncated');
      meta.absorb(raw, body.subarray(0, raw.size));
      continue;
    }
    const header = meta.finish(raw);
    let consumed = false;
    const entry: StreamEntry = {
      ...header,
      read: async (limit: number) => {
        if (consumed) throw new Error(`tar entry ${header.name} was already read`);
        if (header.size > limit)
          throw new TarFormatError(`${header.name} is ${header.size} bytes, over the limit of ${limit}`);
        consumed = true;
        const out = Buffer.alloc(header.size);
        let at = 0;
        await reader.each(header.size, (slice) => {
          slice.copy(out, at);
          at += slice.length;
        });
        await reader.each(padded(header.size) - header.size, () => undefined);
        return out;
      },
    };
    yield entry;
    if (!consumed) {
      consumed = true;
      await reader.each(padded(header.size), () => undefined);
    }
  }
}

export interface IndexedEntry extends TarHeader {
  /** Offset of the body in the file. */
  offset: number;
}

/** Every entry of a tar file, by reading only its headers (bodies are skipped by offset). */
export async function indexTarFile(file: FileHandle, fileSize: number): Promise<IndexedEntry[]> {
  const entries: IndexedEntry[] = [];
  const meta = new PendingMeta();
  const block = Buffer.alloc(BLOCK);
  let pos = 0;
  for (;;) {
    if (pos + BLOCK > fileSize) {
      if (pos === fileSize) return entries;
      throw new TarFormatError('archive is truncated');
    }
    await file.read(block, 0, BLOCK, pos);
    if (isZeroBlock(block)) return entries;
    const raw = parseRaw(block);
    const bodyAt = pos + BLOCK;
    if (meta.isMeta(raw)) {
      if (raw.size > MAX_META_BYTES)
        throw new TarFormatError(`tar metadata record of ${raw.size} bytes is too large`);
      if (bodyAt + raw.size > fileSize) throw new TarFormatError('archive is truncated');
      const body = Buffer.alloc(raw.size);
      await file.read(body, 0, raw.size, bodyAt);
      meta.absorb(raw, body);
    } else {
      const header = meta.finish(raw);
      if (bodyAt + header.size > fileSize)
        throw new TarFormatError(`archive is truncated inside ${header.name}`);
      entries.push({ ...header, offset: bodyAt });
      pos = bodyAt + padded(header.size);
      continue;
    }
    pos = bodyAt + padded(raw.size);
  }
}
