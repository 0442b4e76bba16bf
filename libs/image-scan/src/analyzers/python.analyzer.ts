// Python packages: requirements*.txt (exact "==" pins only), poetry.lock, Pipfile.lock, uv.lock, and installed
// *.dist-info/METADATA. Names are reported as written; advisory matching normalises them (PEP 503).
import { parse as parseToml } from 'smol-toml';
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
  readText,
} from './analyzer.js';
import { type LockEntry, baseName, pep503, toPackage } from './lockfile.js';

const ID = 'python';
const VERSION = 2;
const FOUND_BY = { id: ID, version: VERSION };

type Toml = Record<string, unknown>;
const obj = (v: unknown): Toml => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Toml) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function toml(text: string, path: string): Toml {
  try {
    return parseToml(text) as Toml;
  } catch (e) {
    throw new MalformedInputError(path, `not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function parseRequirements(text: string): LockEntry[] {
  const out: LockEntry[] = [];
  // Backslash continuations join physical lines; remember where each logical line started.
  const physical = text.split(/\r?\n/);
  for (let i = 0; i < physical.length; i++) {
    const start = i;
    let line = physical[i]!;
    while (line.endsWith('\\') && i + 1 < physical.length) line = line.slice(0, -1) + ' ' + physical[++i];
    line = line.replace(/(^|\s)#.*$/, '').trim();
    if (line === '' || line.startsWith('-')) continue;
    const req = line
      .split(';')[0]!
      .replace(/\s--\S+.*$/, '')
      .trim();
    const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*===?\s*([^\s,;]+)\s*$/.exec(req);
    if (!m) continue;
    out.push({ name: m[1]!, version: m[2]!, lines: [start + 1, i + 1] });
  }
  return out;
}

export function parsePoetryLock(text: string, path: string): LockEntry[] {
  const doc = toml(text, path);
  return arr(doc['package']).map((p) => {
    const pkg = obj(p);
    const name = pkg['name'];
    const version = pkg['version'];
    if (typeof name !== 'string' || typeof version !== 'string')
      throw new MalformedInputError(path, '[[package]] without name and version');
    const entry: LockEntry = { name, version };
    // Poetry 1.x writes category = "dev"; 2.x writes groups = ["dev"].
    const groups = arr(pkg['groups']).map(String);
    if (pkg['category'] !== undefined) entry.dev = pkg['category'] === 'dev';
    else if (groups.length) entry.dev = !groups.includes('main');
    return entry;
  });
}

export function parsePipfileLock(text: string, path: string): LockEntry[] {
  let doc: Toml;
  try {
    doc = obj(JSON.parse(text));
  } catch (e) {
    throw new MalformedInputError(path, `not valid JSON: ${(e as Error).message}`);
  }
  const out: LockEntry[] = [];
  for (const [section, dev] of [
    ['default', false],
    ['develop', true],
  ] as const) {
    for (const [name, value] of Object.entries(obj(doc[section]))) {
      const v = obj(value)['version'];
      // Entries without a pinned version (VCS or path installs) give no version to match.
      if (typeof v !== 'string') continue;
      out.push({ name, version: v.replace(/^==/, ''), dev });
    }
  }
  return out;
}

export function parseUvLock(text: string, path: string): LockEntry[] {
  const doc = toml(text, path);
  const packages = arr(doc['package']).map(obj);
  const byName = new Map<string, Toml[]>();
  for (const p of packages) byName.set(String(p['name']), [...(byName.get(String(p['name'])) ?? []), p]);
  const find = (ref: Toml): Toml | undefined => {
    const candidates = byName.get(String(ref['name'])) ?? [];
    return ref['version'] ? candidates.find((c) => c['version'] === ref['version']) : candidates[0];
  };
  const root = packages.find((p) => {
    const src = obj(p['source']);
    return src['virtual'] === '.' || src['editable'] === '.';
  });
  if (!root)
    throw new MalformedInputError(path, 'no root package (source = { virtual = "." } or { editable = "." })');
  const edges = (p: Toml, all = false): Toml[] => {
    const refs = arr(p['dependencies']).map(obj);
    const optional = obj(p['optional-dependencies']);
    if (all) for (const v of Object.values(optional)) refs.push(...arr(v).map(obj));
    const out: Toml[] = [];
    for (const r of refs) {
      const target = find(r);
      if (!target) continue;
      out.push(target);
      // A dependency with extras pulls in that package's optional dependencies for those extras.
      for (const extra of arr(r['extra']).map(String)) {
        for (const o of arr(obj(target['optional-dependencies'])[extra]).map(obj)) {
          const t = find(o);
          if (t) out.push(t);
        }
      }
    }
    return out;
  };
  const reach = (starts: Toml[]): Set<Toml> => {
    const seen = new Set<Toml>();
    const stack = [...starts];
    while (stack.length) {
      const p = stack.pop()!;
      if (seen.has(p)) continue;
      seen.add(p);
      stack.push(...edges(p));
    }
    return seen;
  };
  const prodDirect = edges(root, true);
  const devDirect = Object.values(obj(root['dev-dependencies']))
    .flatMap((v) => arr(v).map(obj))
    .map(find)
    .filter((p): p is Toml => p !== undefined);
  const prod = reach(prodDirect);
  const named = [
    ...arr(root['dependencies']),
    ...Object.values(obj(root['optional-dependencies'])).flatMap(arr),
  ]
    .map(obj)
    .map(find);
  const direct = new Set([...named.filter((p): p is Toml => p !== undefined), ...devDirect]);
  return packages.map((p) => ({
    name: String(p['name']),
    version: String(p['version'] ?? ''),
    dev: p !== root && !prod.has(p),
    relationship: p === root ? 'root' : direct.has(p) ? 'direct' : 'indirect',
  }));
}

function parseMetadata(text: string): LockEntry | undefined {
  const head = text.split(/\r?\n\r?\n/)[0]!;
  const name = /^Name:\s*(.+)$/m.exec(head)?.[1]?.trim();
  const version = /^Version:\s*(.+)$/m.exec(head)?.[1]?.trim();
  return name && version ? { name, version } : undefined;
}

/**
 * The files a wheel installed, from the RECORD beside METADATA: CSV rows "path,hash,size" with paths relative to the
 * directory holding the .dist-info (site-packages), "../../../bin/flask" for scripts; returned relative to the root.
 */
export function recordFiles(text: string, metadataPath: string): string[] {
  const sitePackages = metadataPath.split('/').slice(0, -2);
  const out: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    // The path is the only field that can hold a comma; csv quotes it then, doubling inner quotes.
    const quoted = /^"((?:[^"]|"")*)"/.exec(line);
    const rel = quoted
      ? quoted[1]!.replace(/""/g, '"')
      : line.slice(0, line.indexOf(',') < 0 ? undefined : line.indexOf(','));
    if (rel === '') continue;
    const parts = rel.startsWith('/') ? [] : [...sitePackages];
    for (const seg of rel.split('/')) {
      if (seg === '' || seg === '.') continue;
      if (seg === '..') parts.pop();
      else parts.push(seg);
    }
    out.push(parts.join('/'));
  }
  return out;
}

const isRequirements = (b: string): boolean => /^requirements.*\.txt$/.test(b);

export const pythonAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: (path) => {
    const b = baseName(path);
    return (
      isRequirements(b) ||
      b === 'poetry.lock' ||
      b === 'Pipfile.lock' ||
      b === 'uv.lock' ||
      ((b === 'METADATA' || b === 'RECORD') && /\.dist-info\/(METADATA|RECORD)$/.test(path))
    );
  },
  async analyze(files: FileEntry[], context) {
    const out: ExtractedPackage[] = [];
    for (const f of files) {
      const b = baseName(f.path);
      if (b === 'RECORD') continue; // read beside its METADATA
      const text = await readText(f);
      let entries: LockEntry[];
      if (b === 'poetry.lock') entries = parsePoetryLock(text, f.path);
      else if (b === 'Pipfile.lock') entries = parsePipfileLock(text, f.path);
      else if (b === 'uv.lock') entries = parseUvLock(text, f.path);
      else if (b === 'METADATA') {
        const e = parseMetadata(text);
        entries = e ? [e] : [];
      } else entries = parseRequirements(text);
      const packages = entries.map((e) => toPackage('PyPI', e, f.path, FOUND_BY));
      if (b === 'METADATA' && packages[0]) {
        const record = context.file(`${f.path.slice(0, -'METADATA'.length)}RECORD`);
        if (record) packages[0].installedFiles = recordFiles(await readText(record), f.path);
      }
      out.push(...packages);
    }
    return out;
  },
};

export { pep503 };
