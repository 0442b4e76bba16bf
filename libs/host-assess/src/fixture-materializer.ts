import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { splitCommandLine } from './processes.js';

/** The metadata git cannot keep for a node fixture (../shared/corpus/host/fixtures/<case>/node.json). */
export interface NodeFixture {
  hostname: string;
  role?: string;
  processes: { name: string; cmdline: string }[];
  files: Record<
    string,
    { mode: string; owner: string; group: string; content: string | null; provenance?: string }
  >;
}

export interface MaterializedNode {
  root: string;
  fixture: NodeFixture;
}

/** Ids given to owners and groups node.json names that the root's passwd/group lack (root is always 0). */
const FIRST_FREE_ID = 900;

/**
 * Turns a node fixture (`files/` + `node.json`) into a real root directory under a temp dir: files copied to their
 * absolute paths, modes and owners applied with chmod/chown (needs root for foreign owners), owners and groups the
 * fixture names added to the root's etc/passwd and etc/group when missing, and each process written to
 * proc/<N>/cmdline NUL-separated. Metadata-only entries (content null) become empty files, or directories when the
 * mode has an owner execute bit and the name no extension (e.g. /var/lib/etcd 0700).
 */
export function materializeFixture(fixtureDir: string, into?: string): MaterializedNode {
  const nodeJsonPath = join(fixtureDir, 'node.json');
  let fixture: NodeFixture;
  try {
    fixture = JSON.parse(readFileSync(nodeJsonPath, 'utf8')) as NodeFixture;
  } catch (err) {
    throw new Error(`materializeFixture: cannot read ${nodeJsonPath}: ${(err as Error).message}`);
  }
  if (!fixture.files || typeof fixture.files !== 'object')
    throw new Error(`materializeFixture: ${nodeJsonPath} has no "files" map`);
  const root = into ?? mkdtempSync(join(tmpdir(), `vigil-node-${fixture.hostname ?? 'fixture'}-`));
  const under = (nodePath: string) => {
    const full = resolve(root, `.${posix.normalize(nodePath)}`);
    if (!full.startsWith(resolve(root) + '/'))
      throw new Error(`materializeFixture: ${nodePath} escapes the root`);
    return full;
  };

  // Content first; modes and owners after, so a 0500 directory does not block writing into it.
  const entries = Object.entries(fixture.files);
  for (const [nodePath, meta] of entries) {
    const target = under(nodePath);
    if (meta.content === null) {
      const isDir = (parseInt(meta.mode, 8) & 0o100) !== 0 && !posix.basename(nodePath).includes('.');
      if (isDir) mkdirSync(target, { recursive: true });
      else {
        mkdirSync(dirname(target), { recursive: true });
        writeFileSync(target, '');
      }
      continue;
    }
    const source = join(fixtureDir, meta.content);
    if (!existsSync(source))
      throw new Error(`materializeFixture: ${nodePath}: content ${meta.content} is missing in ${fixtureDir}`);
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(source, target);
  }

  ensureIdentities(root, fixture);

  for (const [nodePath, meta] of entries) {
    const target = under(nodePath);
    const mode = parseInt(meta.mode, 8);
    if (!Number.isInteger(mode))
      throw new Error(`materializeFixture: ${nodePath}: mode ${meta.mode} is not octal`);
    chmodSync(target, mode);
    chownSync(target, idOf(root, 'passwd', meta.owner), idOf(root, 'group', meta.group));
  }

  (fixture.processes ?? []).forEach((p, i) => {
    const dir = join(root, 'proc', String(1000 + i));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cmdline'), `${splitCommandLine(p.cmdline).join('\0')}\0`);
  });
  return { root, fixture };
}

function ensureIdentities(root: string, fixture: NodeFixture): void {
  const owners = new Set(Object.values(fixture.files).map((m) => m.owner));
  const groups = new Set(Object.values(fixture.files).map((m) => m.group));
  addMissing(
    root,
    'passwd',
    owners,
    (name, id) => `${name}:x:${id}:${id}:${name}:/nonexistent:/usr/sbin/nologin`,
  );
  addMissing(root, 'group', groups, (name, id) => `${name}:x:${id}:`);
}

function addMissing(
  root: string,
  file: 'passwd' | 'group',
  names: Set<string>,
  line: (name: string, id: number) => string,
): void {
  const path = join(root, 'etc', file);
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const entries = existing.split('\n').filter((l) => l.includes(':'));
  const known = new Map(entries.map((l) => [l.split(':')[0] as string, Number(l.split(':')[2])]));
  const used = new Set(known.values());
  const add: string[] = [];
  for (const name of [...names].sort()) {
    if (known.has(name)) continue;
    let id = name === 'root' ? 0 : FIRST_FREE_ID;
    while (name !== 'root' && used.has(id)) id++;
    used.add(id);
    known.set(name, id);
    add.push(line(name, id));
  }
  if (add.length === 0) return;
  mkdirSync(dirname(path), { recursive: true });
  const prefix = existing === '' || existing.endsWith('\n') ? existing : `${existing}\n`;
  writeFileSync(path, `${prefix}${add.join('\n')}\n`);
}

function idOf(root: string, file: 'passwd' | 'group', name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const text = readFileSync(join(root, 'etc', file), 'utf8');
  for (const l of text.split('\n')) {
    const f = l.split(':');
    if (f[0] === name) return Number(f[2]);
  }
  throw new Error(`materializeFixture: ${name} has no entry in ${file}`);
}
