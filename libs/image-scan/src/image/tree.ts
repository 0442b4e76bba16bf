// The merged filesystem as a tree of nodes, and one layer's changes ("upper") applied onto it with overlayfs
// semantics: whiteouts delete, opaque directories hide everything below them, later entries replace earlier ones.
// Only kept files carry their bytes; every other node is metadata.

export interface FileNode {
  kind: 'file';
  /** Index of the layer that wrote this version. */
  layer: number;
  mode: number;
  size: number;
  /** The contents, for kept files only. */
  data?: Buffer;
  /** Kept because of what it holds (an executable with Go build info), not because of its path. */
  byContent?: boolean;
  /** Where the file is in the tree (its real path, without symlinks). */
  path: string;
  /** Earlier kept versions of the same path, lowest layer first, since it last came into existence. */
  earlier: FileNode[];
}

export interface SymlinkNode {
  kind: 'symlink';
  layer: number;
  target: string;
}

export interface DirNode {
  kind: 'dir';
  layer: number;
  children: Map<string, Node>;
  /** In an upper tree: hides the lower directory's contents. */
  opaque: boolean;
}

export interface WhiteoutNode {
  kind: 'whiteout';
  layer: number;
}

export type Node = FileNode | SymlinkNode | DirNode | WhiteoutNode;

/** An entry name that climbs out of the root (`../`); the caller says which image and layer. */
export class PathEscapeError extends Error {
  constructor(name: string) {
    super(`entry ${JSON.stringify(name)} points outside the image root`);
    this.name = 'PathEscapeError';
  }
}

/**
 * A tar entry name as a root-relative path. A leading "/" is dropped (docker does the same); ".." is folded, and
 * one that would climb above the root is an error rather than silently clamped.
 */
export function entryPath(name: string): string {
  const out: string[] = [];
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) throw new PathEscapeError(name);
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

export function newDir(layer: number): DirNode {
  return { kind: 'dir', layer, children: new Map(), opaque: false };
}

export function splitPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** The directory at `parts`, creating directories (and replacing non-directories) on the way. */
function ensureDir(root: DirNode, parts: string[], layer: number): DirNode {
  let dir = root;
  for (const part of parts) {
    const child = dir.children.get(part);
    if (child?.kind === 'dir') {
      dir = child;
      continue;
    }
    const fresh = newDir(layer);
    // A directory made where this layer deleted something must not let the lower one show through.
    if (child?.kind === 'whiteout') fresh.opaque = true;
    dir.children.set(part, fresh);
    dir = fresh;
  }
  return dir;
}

/** One layer's changes, built while its tar streams by. */
export class UpperTree {
  readonly root = newDir(0);

  constructor(readonly layer: number) {}

  put(path: string, node: FileNode | SymlinkNode): void {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) return;
    ensureDir(this.root, parts, this.layer).children.set(name, node);
  }

  putDir(path: string): void {
    ensureDir(this.root, splitPath(path), this.layer);
  }

  whiteout(path: string): void {
    const parts = splitPath(path);
    const name = parts.pop();
    if (name === undefined) return;
    ensureDir(this.root, parts, this.layer).children.set(name, { kind: 'whiteout', layer: this.layer });
  }

  opaque(path: string): void {
    ensureDir(this.root, splitPath(path), this.layer).opaque = true;
  }
}

/** The node at `path` in the lower tree seen through the upper one, without following symlinks. */
export function lookupMerged(lower: DirNode, upper: DirNode | undefined, path: string): Node | undefined {
  let l: DirNode | undefined = lower;
  let u: DirNode | undefined = upper;
  const parts = splitPath(path);
  if (parts.length === 0) return lower;
  for (const [i, part] of parts.entries()) {
    const last = i === parts.length - 1;
    const uc: Node | undefined = u?.children.get(part);
    if (uc?.kind === 'whiteout') return undefined;
    if (uc && uc.kind !== 'dir') return last ? uc : undefined;
    const lc: Node | undefined = uc?.opaque ? undefined : l?.children.get(part);
    if (uc?.kind === 'dir') {
      if (last) return uc;
      u = uc;
      l = lc?.kind === 'dir' ? lc : undefined;
      continue;
    }
    if (!lc) return undefined;
    if (lc.kind !== 'dir') return last ? lc : undefined;
    if (last) return lc;
    l = lc;
    u = undefined;
  }
  return undefined;
}

/** Applies a layer's changes onto the merged tree. */
export function mergeInto(lower: DirNode, upper: DirNode): void {
  if (upper.opaque) lower.children.clear();
  for (const [name, u] of upper.children) {
    const l = lower.children.get(name);
    if (u.kind === 'whiteout') {
      lower.children.delete(name);
    } else if (u.kind === 'dir') {
      if (l?.kind === 'dir') mergeInto(l, u);
      else {
        const fresh = newDir(u.layer);
        mergeInto(fresh, { ...u, opaque: false });
        lower.children.set(name, fresh);
      }
    } else {
      if (u.kind === 'file' && u.data && l?.kind === 'file' && l.data) u.earlier = [...l.earlier, l];
      lower.children.set(name, u);
    }
  }
}

/** Every file and symlink of the tree, with its path. */
export function* walk(dir: DirNode, prefix = ''): Generator<[string, FileNode | SymlinkNode]> {
  for (const [name, node] of dir.children) {
    const path = prefix ? `${prefix}/${name}` : name;
    if (node.kind === 'dir') yield* walk(node, path);
    else if (node.kind !== 'whiteout') yield [path, node];
  }
}
