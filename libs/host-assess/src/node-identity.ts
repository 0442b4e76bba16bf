import { type RootFs } from './root-fs.js';

/**
 * Numeric owners resolved to names from the node's own /etc/passwd and /etc/group, as `ls -l` on the node would
 * show them. An id with no entry stays numeric, so "root:root" is never claimed for a file the node cannot name.
 */
export class NodeIdentity {
  private constructor(
    private readonly users: Map<number, string>,
    private readonly groups: Map<number, string>,
  ) {}

  static load(fs: RootFs): NodeIdentity {
    return new NodeIdentity(parseIdFile(fs, '/etc/passwd'), parseIdFile(fs, '/etc/group'));
  }

  user(uid: number): string {
    return this.users.get(uid) ?? String(uid);
  }

  group(gid: number): string {
    return this.groups.get(gid) ?? String(gid);
  }

  owner(uid: number, gid: number): string {
    return `${this.user(uid)}:${this.group(gid)}`;
  }
}

function parseIdFile(fs: RootFs, path: string): Map<number, string> {
  const out = new Map<number, string>();
  const read = fs.read(path);
  if (read.kind !== 'ok') return out;
  for (const line of read.text.split('\n')) {
    const fields = line.split(':');
    if (fields.length < 3 || line.startsWith('#')) continue;
    const id = Number(fields[2]);
    // The first entry for an id is the one getpwuid returns.
    if (Number.isInteger(id) && !out.has(id)) out.set(id, fields[0] as string);
  }
  return out;
}
