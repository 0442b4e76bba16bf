// Symlink resolution inside the image root, never onto the host: absolute targets start at the image root, a
// target that climbs above the root is an error (a hostile or broken image, not something to clamp silently),
// and a chain longer than the limit stops with an error (loops).
import { posix } from 'node:path';
import { type Node, splitPath } from './tree.js';

export const MAX_SYMLINKS = 40;

export class SymlinkError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'SymlinkError';
  }
}

export interface Resolved {
  /** The real path reached, without symlinks. */
  path: string;
  /** What is there; undefined when the path (or the target of a dangling link) does not exist. */
  node: Node | undefined;
}

interface Part {
  name: string;
  /** The link whose target this component came from, for error messages. */
  link?: string;
}

/** Follows every symlink along `path` (and the last component too, unless `followLast` is false). */
export function resolvePath(
  path: string,
  lookup: (path: string) => Node | undefined,
  options: { followLast?: boolean; maxLinks?: number } = {},
): Resolved {
  const maxLinks = options.maxLinks ?? MAX_SYMLINKS;
  const followLast = options.followLast ?? true;
  const queue: Part[] = splitPath(path).map((name) => ({ name }));
  const resolved: string[] = [];
  let followed = 0;
  let node: Node | undefined;
  while (queue.length) {
    const part = queue.shift()!;
    if (part.name === '..') {
      if (resolved.length === 0) {
        if (part.link) throw new SymlinkError(`symlink ${part.link} points outside the image root`);
        continue; // "/.." is "/" for a path the caller wrote
      }
      resolved.pop();
      continue;
    }
    const here = [...resolved, part.name].join('/');
    node = lookup(here);
    if (node?.kind === 'symlink' && (queue.length > 0 || followLast)) {
      if (++followed > maxLinks) {
        throw new SymlinkError(
          `more than ${maxLinks} symlinks resolving ${path} (a symlink loop at ${here}?)`,
        );
      }
      if (node.target.startsWith('/')) resolved.length = 0;
      const via = `${here} -> ${node.target}`;
      queue.unshift(...splitPath(node.target).map((name) => ({ name, link: via })));
      node = lookup(resolved.join('/'));
      continue;
    }
    resolved.push(part.name);
    if (queue.length > 0 && node?.kind !== 'dir')
      return { path: [...resolved, ...queue.map((q) => q.name)].join('/'), node: undefined };
  }
  const at = resolved.join('/');
  return { path: at, node: lookup(at) };
}

/** Where a link's target is, lexically (without following other links), clamped at the root. */
export function lexicalTarget(linkPath: string, target: string): string {
  const base = target.startsWith('/') ? '/' : posix.join('/', posix.dirname(linkPath));
  return posix.join(base, target).replace(/^\/+/, '');
}

/**
 * Reverse index of symlinks: for a real path, the other paths that reach it through links (`lib -> usr/lib`
 * makes `lib/apk/db/installed` an alias of `usr/lib/apk/db/installed`). Lexical, so an over-approximation that the
 * caller confirms by resolving.
 */
export class LinkIndex {
  private readonly byTarget = new Map<string, Set<string>>();

  get size(): number {
    return this.byTarget.size;
  }

  add(linkPath: string, target: string): void {
    const to = lexicalTarget(linkPath, target);
    if (to === linkPath) return;
    let set = this.byTarget.get(to);
    if (!set) this.byTarget.set(to, (set = new Set()));
    set.add(linkPath);
  }

  /** Paths other than `path` that may reach it, at most `limit` of them. */
  aliases(path: string, limit = 32): string[] {
    if (this.byTarget.size === 0) return [];
    const seen = new Set([path]);
    const out: string[] = [];
    const queue = [path];
    while (queue.length && out.length < limit) {
      const p = queue.shift()!;
      let cut = p.length;
      for (;;) {
        const prefix = p.slice(0, cut);
        for (const link of this.byTarget.get(prefix) ?? []) {
          const alias = link + p.slice(cut);
          if (!seen.has(alias) && out.length < limit) {
            seen.add(alias);
            out.push(alias);
            queue.push(alias);
          }
        }
        cut = prefix.lastIndexOf('/');
        if (cut <= 0) break;
      }
    }
    return out;
  }
}
