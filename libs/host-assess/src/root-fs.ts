import { lstatSync, readFileSync, readdirSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { join, posix } from 'node:path';

/** What reading one path of the node gave: its text, absent, or an error naming the file. */
export type ReadResult =
  { kind: 'ok'; text: string } | { kind: 'absent' } | { kind: 'error'; message: string };

export interface FileMeta {
  /** Permission and special bits (mode & 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  isDirectory: boolean;
}

export type StatResult =
  { kind: 'ok'; meta: FileMeta } | { kind: 'absent' } | { kind: 'error'; message: string };

const MAX_LINK_HOPS = 40;

/**
 * The node's root filesystem seen from the assessor: every path is a node path ("/etc/ssh/sshd_config") resolved
 * under `root`. Symbolic links are followed inside the root (an absolute target is re-rooted), so a `/host` mount
 * in a DaemonSet never reads the assessor container's own /etc by accident.
 */
export class RootFs {
  constructor(readonly root: string) {}

  /** The host path of a node path, symlinks resolved inside the root; undefined when a component is missing. */
  resolve(nodePath: string): string | undefined {
    const parts = posix
      .normalize(nodePath)
      .split('/')
      .filter((p) => p !== '');
    const done: string[] = [];
    let hops = 0;
    while (parts.length > 0) {
      const part = parts.shift() as string;
      if (part === '..') {
        done.pop();
        continue;
      }
      const candidate = join(this.root, ...done, part);
      let st;
      try {
        st = lstatSync(candidate);
      } catch (err) {
        if (isMissing(err)) return undefined;
        throw err;
      }
      if (st.isSymbolicLink()) {
        if (++hops > MAX_LINK_HOPS) throw new Error(`${nodePath}: too many levels of symbolic links`);
        const target = readlinkSync(candidate);
        const targetParts = target.split('/').filter((p) => p !== '');
        if (target.startsWith('/')) done.length = 0;
        parts.unshift(...targetParts);
        continue;
      }
      done.push(part);
    }
    return join(this.root, ...done);
  }

  read(nodePath: string): ReadResult {
    try {
      const real = this.resolve(nodePath);
      if (real === undefined) return { kind: 'absent' };
      // Opening a FIFO or a device would block or read without end: only regular files are read.
      const st = statSync(real);
      if (!st.isFile())
        return { kind: 'error', message: `cannot read ${nodePath}: ${fileKind(st)}, not a regular file` };
      return { kind: 'ok', text: readFileSync(real, 'utf8') };
    } catch (err) {
      if (isMissing(err)) return { kind: 'absent' };
      return { kind: 'error', message: `cannot read ${nodePath}: ${(err as Error).message}` };
    }
  }

  stat(nodePath: string): StatResult {
    try {
      const real = this.resolve(nodePath);
      if (real === undefined) return { kind: 'absent' };
      const st = statSync(real);
      return {
        kind: 'ok',
        meta: { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, isDirectory: st.isDirectory() },
      };
    } catch (err) {
      if (isMissing(err)) return { kind: 'absent' };
      return { kind: 'error', message: `cannot stat ${nodePath}: ${(err as Error).message}` };
    }
  }

  /** Entry names of a directory, sorted bytewise (the order augenrules, sysctl and sshd globs use). */
  list(
    nodeDir: string,
  ): { kind: 'ok'; names: string[] } | { kind: 'absent' } | { kind: 'error'; message: string } {
    try {
      const real = this.resolve(nodeDir);
      if (real === undefined) return { kind: 'absent' };
      if (!statSync(real).isDirectory()) return { kind: 'absent' };
      const names = readdirSync(real).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return { kind: 'ok', names };
    } catch (err) {
      if (isMissing(err)) return { kind: 'absent' };
      return { kind: 'error', message: `cannot list ${nodeDir}: ${(err as Error).message}` };
    }
  }

  /**
   * Every entry under a directory without following symbolic links (a symlink is 0777 by nature and may loop), up
   * to `limit` entries; `truncated` says the walk stopped there.
   */
  walk(
    nodeDir: string,
    limit: number,
  ):
    | { kind: 'ok'; entries: { path: string; mode: number; isDirectory: boolean }[]; truncated: boolean }
    | { kind: 'absent' }
    | { kind: 'error'; message: string } {
    let real: string | undefined;
    try {
      real = this.resolve(nodeDir);
    } catch (err) {
      return { kind: 'error', message: `cannot resolve ${nodeDir}: ${(err as Error).message}` };
    }
    if (real === undefined) return { kind: 'absent' };
    const entries: { path: string; mode: number; isDirectory: boolean }[] = [];
    const stack: [string, string][] = [[real, nodeDir]];
    while (stack.length > 0) {
      const [dir, nodePath] = stack.pop() as [string, string];
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch (err) {
        if (isMissing(err)) continue;
        return { kind: 'error', message: `cannot list ${nodePath}: ${(err as Error).message}` };
      }
      for (const name of names) {
        if (entries.length >= limit) return { kind: 'ok', entries, truncated: true };
        const full = join(dir, name);
        const np = posix.join(nodePath, name);
        let st;
        try {
          st = lstatSync(full);
        } catch (err) {
          if (isMissing(err)) continue;
          return { kind: 'error', message: `cannot stat ${np}: ${(err as Error).message}` };
        }
        if (st.isSymbolicLink()) continue;
        entries.push({ path: np, mode: st.mode & 0o7777, isDirectory: st.isDirectory() });
        if (st.isDirectory()) stack.push([full, np]);
      }
    }
    return { kind: 'ok', entries, truncated: false };
  }

  /** Node paths matching a glob whose `*` and `?` wildcards sit in the last component only (Include, sysctl.d). */
  glob(pattern: string): { kind: 'ok'; paths: string[] } | { kind: 'error'; message: string } {
    const dir = posix.dirname(pattern);
    const base = posix.basename(pattern);
    if (!/[*?[]/.test(base)) {
      return this.stat(pattern).kind === 'absent'
        ? { kind: 'ok', paths: [] }
        : { kind: 'ok', paths: [pattern] };
    }
    const listed = this.list(dir);
    if (listed.kind === 'absent') return { kind: 'ok', paths: [] };
    if (listed.kind === 'error') return listed;
    const re = globToRegExp(base);
    return { kind: 'ok', paths: listed.names.filter((n) => re.test(n)).map((n) => posix.join(dir, n)) };
  }
}

export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (const ch of glob) {
    if (ch === '*') re += '[^/]*';
    else if (ch === '?') re += '[^/]';
    else re += ch.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function fileKind(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a file';
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
