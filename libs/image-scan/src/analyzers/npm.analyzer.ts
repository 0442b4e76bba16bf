// JavaScript packages: package-lock.json (v1 nested "dependencies", v2/v3 "packages"), yarn.lock (classic v1 and
// berry), pnpm-lock.yaml (v5, v6, v9) and installed node_modules/*/package.json.
import { parse as parseYaml } from 'yaml';
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
  readText,
} from './analyzer.js';
import { type LockEntry, baseName, toPackage } from './lockfile.js';

const ID = 'npm';
const VERSION = 2;
const FOUND_BY = { id: ID, version: VERSION };

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

function parseJson(text: string, path: string): Json {
  try {
    return obj(JSON.parse(text));
  } catch (e) {
    throw new MalformedInputError(path, `not valid JSON: ${(e as Error).message}`);
  }
}

/** 1-based line ranges of each `"key": {` object in a pretty-printed lockfile, in document order. */
function objectLines(text: string): Map<string, [number, number][]> {
  const out = new Map<string, [number, number][]>();
  const lines = text.split('\n');
  const stack: { key: string; line: number }[] = [];
  lines.forEach((line, i) => {
    const open = /^\s*"([^"]*)":\s*\{\s*$/.exec(line);
    if (open) stack.push({ key: open[1]!, line: i + 1 });
    else if (/^\s*\},?\s*$/.test(line)) {
      const top = stack.pop();
      if (top) out.set(top.key, [...(out.get(top.key) ?? []), [top.line, i + 1]]);
    }
  });
  return out;
}

export function parsePackageLock(text: string, path: string): LockEntry[] {
  const doc = parseJson(text, path);
  const version = Number(doc['lockfileVersion'] ?? 1);
  const lines = objectLines(text);
  const out: LockEntry[] = [];
  if (version >= 2 && doc['packages']) {
    const packages = obj(doc['packages']);
    const root = obj(packages['']);
    const direct = new Set(
      ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'].flatMap((k) =>
        Object.keys(obj(root[k])),
      ),
    );
    const used = new Map<string, number>();
    for (const [key, value] of Object.entries(packages)) {
      if (key === '' || !key.includes('node_modules/')) continue;
      const p = obj(value);
      if (p['link'] === true) continue;
      const name =
        typeof p['name'] === 'string'
          ? p['name']
          : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
      const v = p['version'];
      if (typeof v !== 'string')
        throw new MalformedInputError(path, `packages[${JSON.stringify(key)}] has no version`);
      const topLevel = key === `node_modules/${name}`;
      const n = used.get(key) ?? 0;
      used.set(key, n + 1);
      const entry: LockEntry = {
        name,
        version: v,
        dev: p['dev'] === true,
        relationship: topLevel && direct.has(name) ? 'direct' : 'indirect',
      };
      const l = lines.get(key)?.[n];
      if (l) entry.lines = l;
      out.push(entry);
    }
    return dedupe(out);
  }
  // v1: a nested tree; version 1 says nothing about which packages are direct.
  const walk = (deps: Json): void => {
    for (const [name, value] of Object.entries(deps)) {
      const p = obj(value);
      const v = p['version'];
      if (typeof v !== 'string')
        throw new MalformedInputError(path, `dependencies[${JSON.stringify(name)}] has no version`);
      // Local links ("file:...") are the project's own code, not registry packages.
      if (!v.startsWith('file:'))
        out.push({ name, version: v, dev: p['dev'] === true, relationship: 'unknown' });
      walk(obj(p['dependencies']));
    }
  };
  walk(obj(doc['dependencies']));
  return dedupe(out);
}

function yarnName(spec: string): string {
  const s = spec.trim().replace(/^"|"$/g, '');
  const at = s.indexOf('@', 1);
  return at > 0 ? s.slice(0, at) : s;
}

export function parseYarnLock(text: string, path: string): LockEntry[] {
  if (/^__metadata:/m.test(text)) {
    let doc: Json;
    try {
      doc = obj(parseYaml(text));
    } catch (e) {
      throw new MalformedInputError(path, `not valid YAML: ${(e as Error).message}`);
    }
    const out: LockEntry[] = [];
    const starts = new Map<string, number>();
    text.split('\n').forEach((l, i) => {
      const m = /^("?)(.+?)\1:\s*$/.exec(l);
      if (m && !l.startsWith(' ')) starts.set(m[2]!, i + 1);
    });
    for (const [key, value] of Object.entries(doc)) {
      if (key === '__metadata') continue;
      const e = obj(value);
      const resolution = String(e['resolution'] ?? '');
      const version = String(e['version'] ?? '');
      // Workspaces and the project itself are not dependencies.
      if (
        resolution.includes('@workspace:') ||
        version === '0.0.0-use.local' ||
        resolution.includes('@patch:')
      )
        continue;
      out.push({ name: yarnName(resolution || key.split(',')[0]!), version });
    }
    return out;
  }
  const out: LockEntry[] = [];
  let current: LockEntry | undefined;
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.startsWith('#') || line.trim() === '') return;
    if (!line.startsWith(' ')) {
      if (!line.endsWith(':'))
        throw new MalformedInputError(path, `line ${i + 1}: expected a "name@range:" entry header`);
      current = { name: yarnName(line.slice(0, -1).split(',')[0]!), version: '', lines: [i + 1, i + 1] };
      out.push(current);
      return;
    }
    if (!current) return;
    current.lines![1] = i + 1;
    const m = /^ {2}version:? "?([^"]+)"?$/.exec(line);
    if (m) current.version = m[1]!;
  });
  for (const e of out)
    if (!e.version)
      throw new MalformedInputError(path, `entry ${e.name} at line ${e.lines![0]} has no version`);
  return out;
}

/** "name@1.2.3(peer@1)" / "/name@1.2.3" / "/@scope/name/1.2.3_peer" -> [name, version]. */
function pnpmKey(key: string, v5: boolean): [string, string] {
  let k = key.replace(/^\//, '').replace(/\(.*$/, '');
  if (v5) {
    k = k.replace(/_.*$/, '');
    const slash = k.lastIndexOf('/');
    return [k.slice(0, slash), k.slice(slash + 1)];
  }
  const at = k.indexOf('@', 1);
  return [k.slice(0, at), k.slice(at + 1)];
}

export function parsePnpmLock(text: string, path: string): LockEntry[] {
  let doc: Json;
  try {
    doc = obj(parseYaml(text));
  } catch (e) {
    throw new MalformedInputError(path, `not valid YAML: ${(e as Error).message}`);
  }
  const lockVersion = parseFloat(String(doc['lockfileVersion'] ?? ''));
  if (!(lockVersion >= 5))
    throw new MalformedInputError(
      path,
      `unsupported pnpm lockfileVersion ${JSON.stringify(doc['lockfileVersion'])}`,
    );
  const out: LockEntry[] = [];
  if (lockVersion >= 9) {
    const packages = obj(doc['packages']);
    const snapshots = obj(doc['snapshots']);
    const prodRoots: string[] = [];
    const devRoots: string[] = [];
    const direct = new Set<string>();
    for (const importer of Object.values(obj(doc['importers']))) {
      const imp = obj(importer);
      for (const [kind, roots] of [
        ['dependencies', prodRoots],
        ['optionalDependencies', prodRoots],
        ['devDependencies', devRoots],
      ] as const) {
        for (const [name, dep] of Object.entries(obj(imp[kind]))) {
          const key = `${name}@${String(obj(dep)['version'])}`;
          roots.push(key);
          direct.add(key.replace(/\(.*$/, ''));
        }
      }
    }
    const edges = (key: string): string[] => {
      const s = obj(snapshots[key]);
      return [
        ...Object.entries(obj(s['dependencies'])),
        ...Object.entries(obj(s['optionalDependencies'])),
      ].map(([n, v]) => `${n}@${String(v)}`);
    };
    const prod = new Set<string>();
    const stack = [...prodRoots];
    while (stack.length) {
      const k = stack.pop()!;
      if (prod.has(k)) continue;
      prod.add(k);
      stack.push(...edges(k));
    }
    for (const key of Object.keys(snapshots)) {
      const bare = key.replace(/\(.*$/, '');
      const [name, ref] = pnpmKey(bare, false);
      const meta = obj(packages[bare]);
      // Tarball and file: references carry the real version in the packages section.
      const version = typeof meta['version'] === 'string' ? meta['version'] : /^\d/.test(ref) ? ref : '';
      out.push({
        name,
        version,
        dev: !prod.has(key),
        relationship: direct.has(bare) ? 'direct' : 'indirect',
      });
    }
    return dedupe(out);
  }
  const v5 = lockVersion < 6;
  const rootVersions = new Map<string, string>();
  for (const kind of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    for (const [name, dep] of Object.entries(obj(doc[kind]))) {
      const v = typeof dep === 'string' ? dep : String(obj(dep)['version']);
      rootVersions.set(`${name}@${v.replace(/\(.*$/, '').replace(/_.*$/, '')}`, name);
    }
  }
  for (const [key, value] of Object.entries(obj(doc['packages']))) {
    const [name, version] = pnpmKey(key, v5);
    const meta = obj(value);
    out.push({
      name: typeof meta['name'] === 'string' ? meta['name'] : name,
      version: typeof meta['version'] === 'string' ? meta['version'] : version,
      dev: meta['dev'] === true,
      relationship: rootVersions.has(`${name}@${version}`) ? 'direct' : 'indirect',
    });
  }
  return dedupe(out);
}

function dedupe(entries: LockEntry[]): LockEntry[] {
  const seen = new Map<string, LockEntry>();
  for (const e of entries) {
    const k = `${e.name}@${e.version}`;
    const prev = seen.get(k);
    if (!prev) seen.set(k, e);
    else {
      // Needed by production through any path means not dev.
      if (prev.dev && !e.dev) prev.dev = false;
      if (e.relationship === 'direct') prev.relationship = 'direct';
    }
  }
  return [...seen.values()];
}

const INSTALLED = /(^|\/)node_modules\/(@[^/]+\/)?[^/@.][^/]*\/package\.json$/;

export const npmAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: (path) => {
    const b = baseName(path);
    if (b === 'package-lock.json' || b === 'yarn.lock' || b === 'pnpm-lock.yaml')
      return !path.includes('node_modules/');
    return b === 'package.json' && INSTALLED.test(path);
  },
  async analyze(files: FileEntry[]) {
    const out: ExtractedPackage[] = [];
    for (const f of files) {
      const text = await readText(f);
      const b = baseName(f.path);
      let entries: LockEntry[];
      if (b === 'package-lock.json') entries = parsePackageLock(text, f.path);
      else if (b === 'yarn.lock') entries = parseYarnLock(text, f.path);
      else if (b === 'pnpm-lock.yaml') entries = parsePnpmLock(text, f.path);
      else {
        const p = parseJson(text, f.path);
        if (typeof p['name'] !== 'string' || typeof p['version'] !== 'string') continue;
        const pkg = toPackage('npm', { name: p['name'], version: p['version'] }, f.path, FOUND_BY);
        // An installed package is its directory (packages nested in its own node_modules are reported on their own).
        pkg.installedFiles = [f.path.slice(0, -'/package.json'.length)];
        out.push(pkg);
        continue;
      }
      out.push(...entries.map((e) => toPackage('npm', e, f.path, FOUND_BY)));
    }
    return out;
  },
};
