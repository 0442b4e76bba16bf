// A directory as a filesystem for the analyzers: an unpacked root (a mounted node, a build stage) or a source tree.
// Only the files some analyzer wants are offered; symlinks are never followed, so nothing outside the directory is
// read however the tree links.
import { createHash } from 'node:crypto';
import { lstat, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { CONTENT_HEAD_BYTES, type FileEntry } from '../analyzers/analyzer.js';
import { isWanted, isWantedContent } from '../analyzers/registry.js';

export interface DirectoryOptions {
  /** Top-level directories not walked (pseudo filesystems of a live root). */
  skip?: readonly string[];
  /** Directory names skipped wherever they are (".git"). */
  skipNames?: readonly string[];
  maxFiles?: number;
  /** Bigger wanted files are reported and left out rather than read. */
  maxFileBytes?: number;
}

export interface DirectoryFiles {
  files: FileEntry[];
  /** Wanted files left out, with why. */
  skipped: { path: string; reason: string }[];
}

export const ROOTFS_SKIP = ['proc', 'sys', 'dev', 'run', 'tmp', 'var/tmp', 'var/cache', 'var/log'];

export class DirectoryError extends Error {
  constructor(
    readonly directory: string,
    problem: string,
  ) {
    super(`${directory}: ${problem}`);
    this.name = 'DirectoryError';
  }
}

export async function readDirectory(root: string, options: DirectoryOptions = {}): Promise<DirectoryFiles> {
  const stat = await lstat(root).catch((err: NodeJS.ErrnoException) => {
    throw new DirectoryError(root, err.code === 'ENOENT' ? 'no such directory' : err.message);
  });
  if (!stat.isDirectory()) throw new DirectoryError(root, 'not a directory');
  const skip = new Set(options.skip ?? []);
  const skipNames = new Set(options.skipNames ?? []);
  const maxFiles = options.maxFiles ?? 1_000_000;
  const maxBytes = options.maxFileBytes ?? 256 * 1024 * 1024;
  const files: FileEntry[] = [];
  const skipped: DirectoryFiles['skipped'] = [];
  let seen = 0;
  const walk = async (rel: string): Promise<void> => {
    const dir = rel ? join(root, rel) : root;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      skipped.push({ path: rel || '.', reason: (err as Error).message });
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (++seen > maxFiles)
        throw new DirectoryError(root, `more than ${maxFiles} entries; narrow the directory`);
      if (e.isDirectory()) {
        if (!skip.has(path) && !skipNames.has(e.name)) await walk(path);
      } else if (e.isFile()) {
        const full = join(root, path);
        const st = await lstat(full);
        // Executables are offered by content (Go build info); only their first bytes are read to decide.
        if (
          !isWanted(path) &&
          !((st.mode & 0o111) !== 0 && isWantedContent(path, st.mode & 0o7777, await head(full)))
        )
          continue;
        const size = st.size;
        if (size > maxBytes) {
          skipped.push({ path, reason: `${size} bytes, over the ${maxBytes}-byte limit` });
          continue;
        }
        files.push({ path, mode: st.mode & 0o7777, read: async () => new Uint8Array(await readFile(full)) });
      }
    }
  };
  await walk('');
  return { files, skipped };
}

async function head(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buf = new Uint8Array(CONTENT_HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, CONTENT_HEAD_BYTES, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * The content digest of a directory target, used where an image has its manifest digest (asset, inventory, SBOM
 * serial number and bom-ref). A directory has no digest of its own, so this is sha256 over the sorted
 * "<path>\0sha256:<hex of content>\n" lines of the files the analyzers are offered: the scan reads only those, so
 * the same analyzed content gives the same digest wherever the directory sits, and any change the scan could see
 * changes it. An empty list (an empty directory) is the sha256 of nothing, still a valid digest.
 */
export async function directoryDigest(files: readonly FileEntry[]): Promise<string> {
  const lines: string[] = [];
  for (const file of files) {
    const content = await file.read();
    lines.push(`${file.path}\0sha256:${createHash('sha256').update(content).digest('hex')}\n`);
  }
  lines.sort();
  const hash = createHash('sha256');
  for (const line of lines) hash.update(line);
  return `sha256:${hash.digest('hex')}`;
}
