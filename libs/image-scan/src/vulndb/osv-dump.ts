// Reading the dumps OSV publishes: one zip per ecosystem (<Ecosystem>/all.zip, a flat zip of <ID>.json) or a
// directory tree of JSON records. Nothing is extracted: zip members are inflated one at a time into memory, each
// capped, so a hostile archive (a member that inflates to gigabytes, a lying size header) fails with its name.
import { createReadStream } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import yauzl from 'yauzl';
import { InvalidAdvisoryError, parseOsvRecord, type OsvRecord } from './osv-record.js';

export interface DumpOptions {
  /** Largest record accepted, in bytes (inflated). Default 32 MiB: real OSV records are well under 1 MiB. */
  maxRecordBytes?: number;
  /** Largest total inflated size of one zip. Default 8 GiB. */
  maxTotalBytes?: number;
  /** Most members in one zip. Default 2,000,000. */
  maxEntries?: number;
}

export type DumpEntry = { label: string; record: OsvRecord } | { label: string; error: string };

/** The archive or directory itself cannot be read (not a zip, truncated, over a limit). */
export class DumpError extends Error {
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = 'DumpError';
  }
}

const DEFAULTS = { maxRecordBytes: 32 * 1024 * 1024, maxTotalBytes: 8 * 1024 ** 3, maxEntries: 2_000_000 };

/**
 * Every record of a dump, in archive (or sorted directory) order. A member that is not a valid record yields an
 * `error` entry and reading goes on; a broken archive throws DumpError.
 */
export async function* readOsvDump(path: string, options: DumpOptions = {}): AsyncGenerator<DumpEntry> {
  const o = { ...DEFAULTS, ...options };
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new DumpError(
      path,
      `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  if (info.isDirectory()) {
    yield* readDirectory(path, o);
    return;
  }
  if (await looksLikeZip(path)) {
    yield* readZip(path, o);
    return;
  }
  if (path.endsWith('.json')) {
    if (info.size > o.maxRecordBytes)
      yield {
        label: path,
        error: `${path}: record is ${info.size} bytes, over the ${o.maxRecordBytes}-byte limit`,
      };
    else yield parseEntry(path, await readAll(path));
    return;
  }
  throw new DumpError(path, 'neither a zip archive, a directory nor a .json record');
}

async function looksLikeZip(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    // PK\3\4 (a member), or PK\5\6 (an empty archive's end record).
    return bytesRead === 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5);
  } finally {
    await fh.close();
  }
}

function readAll(path: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    createReadStream(path)
      .on('data', (c) => chunks.push(c as Buffer))
      .on('error', reject)
      .on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function parseEntry(label: string, bytes: Uint8Array): DumpEntry {
  try {
    return { label, record: parseOsvRecord(bytes, label) };
  } catch (err) {
    if (err instanceof InvalidAdvisoryError) return { label, error: err.message };
    throw err;
  }
}

async function* readDirectory(root: string, o: typeof DEFAULTS): AsyncGenerator<DumpEntry> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const p = join(dir, e.name);
      // Symlinks are not followed: a record tree never needs them and a loop would never end.
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && e.name.endsWith('.json')) files.push(p);
    }
  };
  await walk(root);
  files.sort();
  for (const f of files) {
    const label = relative(root, f) || basename(f);
    const size = (await stat(f)).size;
    if (size > o.maxRecordBytes) {
      yield { label: f, error: `${f}: record is ${size} bytes, over the ${o.maxRecordBytes}-byte limit` };
      continue;
    }
    yield parseEntry(join(basename(root), label), await readAll(f));
  }
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    // validateEntrySizes makes yauzl fail a member whose inflated bytes disagree with its header, so the header
    // size checked below is the size that will be read.
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: false },
      (err, zip) =>
        err ? reject(new DumpError(path, `not a readable zip archive: ${err.message}`)) : resolve(zip),
    );
  });
}

function readMember(zip: yauzl.ZipFile, entry: yauzl.Entry, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    zip.openReadStream(entry, (err, stream) => {
      if (err) return reject(err);
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > limit) {
          stream.destroy(new Error(`inflates past the ${limit}-byte limit`));
          return;
        }
        chunks.push(c);
      });
      stream.on('error', reject);
      stream.on('end', () => resolve(Buffer.concat(chunks)));
    });
  });
}

async function* readZip(path: string, o: typeof DEFAULTS): AsyncGenerator<DumpEntry> {
  const zip = await openZip(path);
  const name = basename(path);
  // yauzl emits entries as events; a small queue turns them into a pull-based iteration with one member in memory.
  let pending: { resolve: (e: yauzl.Entry | null) => void; reject: (err: Error) => void } | undefined;
  let failure: Error | undefined;
  let ended = false;
  zip.on('entry', (e: yauzl.Entry) => pending?.resolve(e));
  zip.on('end', () => {
    ended = true;
    pending?.resolve(null);
  });
  zip.on('error', (err: Error) => {
    failure = err;
    pending?.reject(err);
  });
  const next = (): Promise<yauzl.Entry | null> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      if (ended) return resolve(null);
      pending = { resolve, reject };
      zip.readEntry();
    });
  let count = 0;
  let total = 0;
  try {
    for (;;) {
      let entry: yauzl.Entry | null;
      try {
        entry = await next();
      } catch (err) {
        throw new DumpError(path, `broken zip archive: ${(err as Error).message}`);
      }
      if (!entry) break;
      if (entry.fileName.endsWith('/')) continue;
      if (++count > o.maxEntries) throw new DumpError(path, `more than ${o.maxEntries} members`);
      const label = `${name}:${entry.fileName}`;
      if (!entry.fileName.endsWith('.json')) continue;
      if (entry.uncompressedSize > o.maxRecordBytes) {
        yield {
          label,
          error: `${label}: member inflates to ${entry.uncompressedSize} bytes, over the ${o.maxRecordBytes}-byte limit`,
        };
        continue;
      }
      total += entry.uncompressedSize;
      if (total > o.maxTotalBytes)
        throw new DumpError(path, `inflates past the ${o.maxTotalBytes}-byte limit`);
      let bytes: Buffer;
      try {
        bytes = await readMember(zip, entry, o.maxRecordBytes);
      } catch (err) {
        throw new DumpError(path, `member ${entry.fileName}: ${(err as Error).message}`);
      }
      yield parseEntry(label, bytes);
    }
  } finally {
    zip.close();
  }
}

export interface DumpSummary {
  records: number;
  invalid: number;
  /** The first few invalid members with their problem. */
  invalidExamples: string[];
}

/**
 * Reads a dump in batches and hands each batch of valid records to `sink`; invalid records are counted and the
 * first `examples` of them kept for the report.
 */
export async function forEachDumpBatch(
  path: string,
  sink: (records: OsvRecord[]) => Promise<void> | void,
  options: DumpOptions & { batchSize?: number; examples?: number } = {},
): Promise<DumpSummary> {
  const batchSize = options.batchSize ?? 1000;
  const examples = options.examples ?? 5;
  const summary: DumpSummary = { records: 0, invalid: 0, invalidExamples: [] };
  let batch: OsvRecord[] = [];
  for await (const e of readOsvDump(path, options)) {
    if ('error' in e) {
      summary.invalid++;
      if (summary.invalidExamples.length < examples) summary.invalidExamples.push(e.error);
      continue;
    }
    batch.push(e.record);
    summary.records++;
    if (batch.length >= batchSize) {
      await sink(batch);
      batch = [];
    }
  }
  if (batch.length) await sink(batch);
  return summary;
}
