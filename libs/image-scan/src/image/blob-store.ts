// Where an image's files are: a directory (OCI layout, unpacked docker save) or a tar archive read by offset.
// A compressed archive is inflated once into a temp dir that close() removes: layers are then read by offset
// instead of re-inflating the whole archive for each one.
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompressionError, decompress, sniffCompression, tap } from './compression.js';
import { ImageError } from './source.js';
import { type IndexedEntry, TarFormatError, indexTarFile } from './tar.js';

/** Metadata files (manifests, configs, indexes) larger than this are refused. */
export const MAX_METADATA_BYTES = 16 * 1024 * 1024;

const READ_CHUNK = 1024 * 1024;

export interface BlobStore {
  /** The image name errors start with. */
  readonly image: string;
  has(path: string): Promise<boolean>;
  size(path: string): Promise<number>;
  /** A whole (small) file; fails over `limit`. */
  read(path: string, limit?: number): Promise<Buffer>;
  stream(path: string): Promise<Readable>;
  close(): Promise<void>;
}

/** A member path as written in a manifest: relative, "/"-separated, never climbing out. */
export function memberPath(image: string, path: string): string {
  const normal = posix.normalize(path.replace(/^\.?\/+/, ''));
  if (normal === '..' || normal.startsWith('../') || posix.isAbsolute(normal)) {
    throw new ImageError(image, `member path ${JSON.stringify(path)} points outside the image`);
  }
  return normal.replace(/^\.\/+/, '');
}

export class DirectoryStore implements BlobStore {
  constructor(
    readonly image: string,
    private readonly root: string,
  ) {}

  private full(path: string): string {
    return join(this.root, memberPath(this.image, path));
  }

  async has(path: string): Promise<boolean> {
    try {
      return (await lstat(this.full(path))).isFile() || (await stat(this.full(path))).isFile();
    } catch {
      return false;
    }
  }

  async size(path: string): Promise<number> {
    return (await this.statOrFail(path)).size;
  }

  private async statOrFail(path: string) {
    try {
      const s = await stat(this.full(path));
      if (s.isFile()) return s;
    } catch {
      // reported below
    }
    throw new ImageError(this.image, `missing ${path}`);
  }

  async read(path: string, limit = MAX_METADATA_BYTES): Promise<Buffer> {
    const s = await this.statOrFail(path);
    if (s.size > limit)
      throw new ImageError(this.image, `${path} is ${s.size} bytes, over the limit of ${limit}`);
    return readFile(this.full(path));
  }

  async stream(path: string): Promise<Readable> {
    await this.statOrFail(path);
    return createReadStream(this.full(path), { highWaterMark: READ_CHUNK });
  }

  async close(): Promise<void> {}
}

export interface ArchiveOptions {
  /** Parent of the temp dir a compressed archive is inflated into (default: the OS temp dir). */
  tempDir?: string;
  /** Most bytes a compressed archive may inflate to. */
  maxArchiveBytes?: number;
}

export const DEFAULT_MAX_ARCHIVE_BYTES = 24 * 1024 ** 3;

export class TarStore implements BlobStore {
  private constructor(
    readonly image: string,
    private readonly file: string,
    private readonly entries: Map<string, IndexedEntry>,
    private readonly temp: string | undefined,
  ) {}

  /** Indexes the archive at `path` (inflating it first when it is compressed). */
  static async open(image: string, path: string, options: ArchiveOptions = {}): Promise<TarStore> {
    let file = path;
    let temp: string | undefined;
    try {
      const head = Buffer.alloc(6);
      const fh = await open(path, 'r');
      try {
        await fh.read(head, 0, 6, 0);
      } finally {
        await fh.close();
      }
      const kind = sniffCompression(head);
      if (kind === 'bzip2' || kind === 'xz')
        throw new ImageError(image, `${kind}-compressed archives are not supported`);
      if (kind !== 'none') {
        temp = await mkdtemp(join(options.tempDir ?? tmpdir(), 'vigil-image-'));
        file = join(temp, 'archive.tar');
        await inflateTo(image, path, file, options.maxArchiveBytes ?? DEFAULT_MAX_ARCHIVE_BYTES);
      }
      const handle = await open(file, 'r');
      let indexed: IndexedEntry[];
      try {
        indexed = await indexTarFile(handle, (await handle.stat()).size);
      } finally {
        await handle.close();
      }
      const members = new Map<string, IndexedEntry>();
      for (const e of indexed) {
        // A later member of the same name replaces an earlier one, as tar extraction would.
        members.set(e.name.replace(/^(\.\/|\/)+/, '').replace(/\/+$/, ''), e);
      }
      const entries = new Map<string, IndexedEntry>();
      for (const name of members.keys()) {
        const e = followMember(members, name);
        if (e) entries.set(name, e);
      }
      return new TarStore(image, file, entries, temp);
    } catch (err) {
      if (temp) await rm(temp, { recursive: true, force: true });
      if (err instanceof TarFormatError)
        throw new ImageError(image, `not a readable tar archive: ${err.message}`);
      throw err;
    }
  }

  private entry(path: string): IndexedEntry {
    const e = this.entries.get(memberPath(this.image, path));
    if (!e) throw new ImageError(this.image, `missing ${path} in the archive`);
    return e;
  }

  async has(path: string): Promise<boolean> {
    return this.entries.has(memberPath(this.image, path));
  }

  async size(path: string): Promise<number> {
    return this.entry(path).size;
  }

  async read(path: string, limit = MAX_METADATA_BYTES): Promise<Buffer> {
    const e = this.entry(path);
    if (e.size > limit)
      throw new ImageError(this.image, `${path} is ${e.size} bytes, over the limit of ${limit}`);
    const out = Buffer.alloc(e.size);
    const fh = await open(this.file, 'r');
    try {
      await fh.read(out, 0, e.size, e.offset);
    } finally {
      await fh.close();
    }
    return out;
  }

  async stream(path: string): Promise<Readable> {
    const e = this.entry(path);
    if (e.size === 0) return Readable.from([]);
    return createReadStream(this.file, {
      start: e.offset,
      end: e.offset + e.size - 1,
      highWaterMark: READ_CHUNK,
    });
  }

  async close(): Promise<void> {
    if (this.temp) await rm(this.temp, { recursive: true, force: true });
  }
}

/**
 * The file a member name stands for. `docker save` writes a layer shared by two images once and links the other
 * `<id>/layer.tar` to it (a symlink or a hardlink); links are followed inside the archive only, a few hops deep.
 */
function followMember(members: Map<string, IndexedEntry>, name: string): IndexedEntry | undefined {
  let at = name;
  for (let hop = 0; hop < 8; hop++) {
    const e = members.get(at);
    if (!e) return undefined;
    if (e.type === 'file') return e;
    if (e.type !== 'symlink' && e.type !== 'hardlink') return undefined;
    const target = e.type === 'symlink' ? posix.join(posix.dirname(at), e.linkName) : e.linkName;
    at = posix.normalize(target).replace(/^(\.\/|\/)+/, '');
    if (at.startsWith('../')) return undefined;
  }
  return undefined;
}

async function inflateTo(image: string, from: string, to: string, limit: number): Promise<void> {
  let written = 0;
  const counted = tap(decompress(createReadStream(from)), (chunk) => {
    written += chunk.length;
    if (written > limit) throw new ImageError(image, `archive inflates past the limit of ${limit} bytes`);
  });
  try {
    await pipeline(counted, createWriteStream(to));
  } catch (err) {
    if (err instanceof CompressionError) throw new ImageError(image, `archive: ${err.message}`);
    throw err;
  }
}
