// The layer reader: streams each layer once (stored blob → digest → decompress → diff_id → tar entries), keeps
// the bytes of the files `wanted` asks for and metadata for everything else, and applies the layer onto the
// merged tree. Limits are checked while streaming; nothing is buffered but kept files.
//
// A wanted path may only be reachable through a link that streams by after the file (or in a later layer); such
// files are found when the final tree is checked, and the layers are then read a second time keeping them too.
import { createHash } from 'node:crypto';
import type { FileEntry } from '../analyzers/analyzer.js';
import { CompressionError, decompress, tap } from './compression.js';
import { ImageError, type ImageSource, type LayerDescriptor } from './source.js';
import { LinkIndex, SymlinkError, resolvePath } from './symlinks.js';
import { TarFormatError, readTarStream } from './tar.js';
import {
  type DirNode,
  type FileNode,
  PathEscapeError,
  UpperTree,
  entryPath,
  lookupMerged,
  mergeInto,
  newDir,
  walk,
} from './tree.js';

export interface SquashLimits {
  /** Most uncompressed bytes of one layer (default 10 GiB). */
  maxLayerBytes: number;
  /** Most uncompressed bytes of all layers together (default 20 GiB). */
  maxImageBytes: number;
  /** Largest single file kept in memory (default 256 MiB). */
  maxFileBytes: number;
  /** Most bytes of kept files, all versions together (default 1 GiB). */
  maxKeptBytes: number;
  /** Most tar entries of all layers together (default 1,000,000). */
  maxEntries: number;
}

export const defaultSquashLimits: SquashLimits = {
  maxLayerBytes: 10 * 1024 ** 3,
  maxImageBytes: 20 * 1024 ** 3,
  maxFileBytes: 256 * 1024 ** 2,
  maxKeptBytes: 1024 ** 3,
  maxEntries: 1_000_000,
};

export interface SquashOptions {
  /** Which paths' contents to keep (in real use `isWanted` from the analyzer registry). */
  wanted(path: string): boolean;
  /**
   * Asked about each executable regular file `wanted` declined, with its whole content: true keeps it. For files
   * recognised by what they hold rather than where they are (Go binaries). Bytes instead of true: keep those in
   * place of the file (a Go program's build info), so large executables are not held whole.
   */
  wantedContent?(path: string, mode: number, bytes: Uint8Array): boolean | Uint8Array;
  /**
   * Of each file kept for its path, with that path and the links known so far to reach it: the bytes to keep in its
   * place (in real use `keptContentOf` from the analyzer registry: a jar's metadata entries), or undefined to keep it
   * whole. Only what is kept counts against maxKeptBytes.
   */
  keptContent?(paths: readonly string[], bytes: Uint8Array): Uint8Array | undefined;
  limits?: Partial<SquashLimits>;
  /** Apply only the first N layers (the filesystem as it was after layer N-1). */
  layerCount?: number;
}

export interface LayerInfo {
  index: number;
  digest: string;
  diffId: string;
  createdBy?: string;
  /** Uncompressed bytes. */
  size: number;
}

export interface ImageFile extends FileEntry {
  /** The layer that wrote this version. */
  layer: number;
  mode: number;
  size: number;
  /** Where the bytes are, when `path` reaches them through symlinks. */
  realPath: string;
}

export interface SquashedImage {
  layers: LayerInfo[];
  /** Every wanted path the merged filesystem has, including those reached through symlinks. */
  files: ImageFile[];
  /** The kept versions of the file at `path` (following symlinks), lowest layer first, the visible one last. */
  history(path: string): ImageFile[];
  /** The visible kept file at `path`, following symlinks; undefined when it is absent or was not kept. */
  file(path: string): ImageFile | undefined;
  entriesSeen: number;
}

interface PassResult {
  root: DirNode;
  layers: LayerInfo[];
  entries: number;
  /** Real paths some wanted path reaches whose bytes were not kept in this pass. */
  missing: Set<string>;
}

function imageFile(path: string, node: FileNode): ImageFile {
  const data = node.data ?? Buffer.alloc(0);
  return {
    path,
    realPath: node.path,
    layer: node.layer,
    mode: node.mode,
    size: node.size,
    read: async () => data,
  };
}

class Pass {
  readonly root = newDir(0);
  readonly links = new LinkIndex();
  readonly missing = new Set<string>();
  readonly layers: LayerInfo[] = [];
  /** The last directory resolved and its real path (entries come grouped by directory). */
  private lastDir: { dir: string; real: string } | undefined;
  entries = 0;
  imageBytes = 0;
  keptBytes = 0;

  constructor(
    private readonly source: ImageSource,
    private readonly wanted: (path: string) => boolean,
    private readonly needed: Set<string>,
    private readonly limits: SquashLimits,
    private readonly wantedContent?: (path: string, mode: number, bytes: Uint8Array) => boolean | Uint8Array,
    private readonly keptContent?: (paths: readonly string[], bytes: Uint8Array) => Uint8Array | undefined,
  ) {}

  private keep(path: string): boolean {
    if (this.wanted(path) || this.needed.has(path)) return true;
    return this.links.aliases(path).some((a) => this.wanted(a));
  }

  private checkKept(index: number, layer: LayerDescriptor, bytes: number): void {
    this.keptBytes += bytes;
    if (this.keptBytes > this.limits.maxKeptBytes) {
      this.fail(index, layer, `kept files pass the limit of ${this.limits.maxKeptBytes} bytes`);
    }
  }

  private fail(index: number, layer: LayerDescriptor, problem: string): never {
    throw new ImageError(this.source.name, `layer ${index + 1} (${layer.digest}): ${problem}`);
  }

  async layer(index: number, layer: LayerDescriptor): Promise<void> {
    const upper = new UpperTree(index);
    this.lastDir = undefined;
    const blobHash = createHash('sha256');
    const diffHash = createHash('sha256');
    let stored = 0;
    let bytes = 0;
    const stream = await layer.open();
    try {
      const blob = tap(stream, (chunk) => {
        blobHash.update(chunk);
        stored += chunk.length;
      });
      const tar = tap(decompress(blob), (chunk) => {
        diffHash.update(chunk);
        bytes += chunk.length;
        this.imageBytes += chunk.length;
        if (bytes > this.limits.maxLayerBytes) {
          this.fail(index, layer, `inflates past the layer limit of ${this.limits.maxLayerBytes} bytes`);
        }
        if (this.imageBytes > this.limits.maxImageBytes) {
          this.fail(index, layer, `the image inflates past the limit of ${this.limits.maxImageBytes} bytes`);
        }
      });
      for await (const entry of readTarStream(tar)) {
        if (++this.entries > this.limits.maxEntries) {
          this.fail(index, layer, `more than ${this.limits.maxEntries} tar entries in the image`);
        }
        let path = entryPath(entry.name);
        if (path === '') continue;
        const slash = path.lastIndexOf('/');
        const dir = slash < 0 ? '' : path.slice(0, slash);
        const base = path.slice(slash + 1);
        if (base.startsWith('.wh.')) {
          this.lastDir = undefined;
          if (base === '.wh..wh..opq') upper.opaque(dir);
          else if (!base.startsWith('.wh..wh.'))
            upper.whiteout(dir ? `${dir}/${base.slice(4)}` : base.slice(4));
          continue;
        }
        path = this.throughLinkedParents(path, dir, base, upper.root);
        if (entry.type === 'dir') {
          this.forget(path);
          upper.putDir(path);
        } else if (entry.type === 'symlink') {
          this.forget(path);
          upper.put(path, { kind: 'symlink', layer: index, target: entry.linkName });
          this.links.add(path, entry.linkName);
        } else if (entry.type === 'hardlink') {
          this.hardlink(index, path, entryPath(entry.linkName), upper);
        } else {
          const keep = entry.type === 'file' && this.keep(path);
          let data: Buffer | undefined;
          let byContent = false;
          if (
            !keep &&
            entry.type === 'file' &&
            this.wantedContent &&
            (entry.mode & 0o111) !== 0 &&
            entry.size <= this.limits.maxFileBytes
          ) {
            // Executables are judged by their bytes (Go build info); one is held at a time while deciding.
            const bytes = await entry.read(this.limits.maxFileBytes);
            const wanted = this.wantedContent(path, entry.mode & 0o7777, bytes);
            if (wanted !== false) {
              // A copy of the part: a view would pin the whole executable's buffer.
              const kept = wanted === true ? bytes : Buffer.from(wanted);
              this.keptBytes += kept.length;
              if (this.keptBytes > this.limits.maxKeptBytes) {
                this.fail(index, layer, `kept files pass the limit of ${this.limits.maxKeptBytes} bytes`);
              }
              data = kept;
              byContent = true;
            }
          } else if (keep) {
            if (entry.size > this.limits.maxFileBytes) {
              this.fail(
                index,
                layer,
                `${path} is ${entry.size} bytes, over the kept-file limit of ${this.limits.maxFileBytes}`,
              );
            }
            if (!this.keptContent) this.checkKept(index, layer, entry.size);
            data = await entry.read(this.limits.maxFileBytes);
            if (this.keptContent) {
              // One whole file is held at a time while its analyzer picks the part it reads (a jar's metadata).
              const part = this.keptContent([path, ...this.links.aliases(path)], data);
              // A copy: a view would pin the whole file's buffer.
              if (part) data = Buffer.from(part);
              this.checkKept(index, layer, data.length);
            }
          }
          upper.put(path, {
            kind: 'file',
            layer: index,
            mode: entry.mode,
            size: entry.size,
            path,
            earlier: [],
            ...(data ? { data } : {}),
            ...(byContent ? { byContent } : {}),
          });
        }
      }
    } catch (err) {
      if (err instanceof ImageError) throw err;
      if (
        err instanceof TarFormatError ||
        err instanceof CompressionError ||
        err instanceof PathEscapeError ||
        err instanceof SymlinkError
      ) {
        this.fail(index, layer, err.message);
      }
      this.fail(index, layer, `cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      stream.destroy();
    }
    const blobDigest = `sha256:${blobHash.digest('hex')}`;
    if (blobDigest !== layer.digest) {
      this.fail(index, layer, `blob digest mismatch: expected ${layer.digest}, got ${blobDigest}`);
    }
    if (stored !== layer.size)
      this.fail(index, layer, `blob is ${stored} bytes, the manifest says ${layer.size}`);
    const diffId = `sha256:${diffHash.digest('hex')}`;
    if (diffId !== layer.diffId) {
      this.fail(index, layer, `diff_id mismatch: expected ${layer.diffId}, got ${diffId}`);
    }
    mergeInto(this.root, upper.root);
    this.layers.push({
      index,
      digest: layer.digest,
      diffId: layer.diffId,
      size: bytes,
      ...(layer.createdBy !== undefined ? { createdBy: layer.createdBy } : {}),
    });
  }

  /** Docker writes an entry under a symlinked directory (`lib/x` with `lib -> usr/lib`) into the link's target. */
  private throughLinkedParents(path: string, dir: string, base: string, upper: DirNode): string {
    if (!dir || this.links.size === 0) return path;
    let real = this.lastDir?.dir === dir ? this.lastDir.real : undefined;
    if (real === undefined) {
      real = resolvePath(dir, (p) => lookupMerged(this.root, upper, p)).path;
      this.lastDir = { dir, real };
    }
    return real === dir ? path : real ? `${real}/${base}` : base;
  }

  /** A link or directory made at `path` changes how the directories below it resolve. */
  private forget(path: string): void {
    if (!this.lastDir) return;
    const under = (p: string) => p === path || p.startsWith(`${path}/`);
    if (under(this.lastDir.dir) || under(this.lastDir.real)) this.lastDir = undefined;
  }

  private hardlink(index: number, path: string, target: string, upper: UpperTree): void {
    const node = lookupMerged(this.root, upper.root, target);
    if (node?.kind !== 'file') return; // a link to nothing: there is nothing to read through it
    if (!node.data && this.keep(path)) this.missing.add(target);
    upper.put(path, { ...node, layer: index, path, earlier: [] });
  }
}

async function runPass(
  source: ImageSource,
  options: SquashOptions,
  limits: SquashLimits,
  needed: Set<string>,
) {
  const pass = new Pass(source, options.wanted, needed, limits, options.wantedContent, options.keptContent);
  const count = Math.min(options.layerCount ?? source.layers.length, source.layers.length);
  for (let i = 0; i < count; i++) await pass.layer(i, source.layers[i]!);
  return pass;
}

function resolveIn(image: string, root: DirNode, path: string) {
  try {
    return resolvePath(path, (p) => lookupMerged(root, undefined, p));
  } catch (err) {
    if (err instanceof SymlinkError) throw new ImageError(image, err.message);
    throw err;
  }
}

/** The wanted paths of the final tree, and the real paths they reach whose bytes were not kept. */
function collectFiles(image: string, pass: PassResult, wanted: (path: string) => boolean) {
  const links = new LinkIndex();
  const entries = [...walk(pass.root)];
  for (const [path, node] of entries) if (node.kind === 'symlink') links.add(path, node.target);
  const files = new Map<string, ImageFile>();
  const missing = new Set(pass.missing);
  for (const [path, node] of entries) {
    if (node.kind === 'symlink') {
      // A wanted link that loops or escapes is reported, not skipped: it is how a hostile image hides a file.
      if (wanted(path)) resolveIn(image, pass.root, path);
      continue;
    }
    // A file kept for its content (an executable) is offered under its own path.
    if (node.data && node.byContent && !files.has(path)) files.set(path, imageFile(path, node));
    for (const candidate of [path, ...links.aliases(path)]) {
      if (!wanted(candidate) || files.has(candidate)) continue;
      if (candidate !== path && resolveIn(image, pass.root, candidate).node !== node) continue;
      if (node.data) files.set(candidate, imageFile(candidate, node));
      else missing.add(path);
    }
  }
  return { files, missing };
}

export async function squashImage(source: ImageSource, options: SquashOptions): Promise<SquashedImage> {
  const limits = { ...defaultSquashLimits, ...options.limits };
  let pass: PassResult = await runPass(source, options, limits, new Set());
  let collected = collectFiles(source.name, pass, options.wanted);
  if (collected.missing.size > 0) {
    pass = await runPass(source, options, limits, collected.missing);
    collected = collectFiles(source.name, pass, options.wanted);
  }
  const root = pass.root;
  const visible = (path: string): FileNode | undefined => {
    const node = resolveIn(source.name, root, path).node;
    return node?.kind === 'file' && node.data ? node : undefined;
  };
  const clean = (path: string) => path.replace(/^\/+/, '');
  return {
    layers: pass.layers,
    files: [...collected.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    entriesSeen: pass.entries,
    file(path) {
      const node = visible(clean(path));
      return node ? imageFile(clean(path), node) : undefined;
    },
    history(path) {
      const node = visible(clean(path));
      if (!node) return [];
      return [...node.earlier, node].filter((n) => n.data).map((n) => imageFile(clean(path), n));
    },
  };
}
