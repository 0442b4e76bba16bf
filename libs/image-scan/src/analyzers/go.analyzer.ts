// Go modules from go.mod (require/replace, the toolchain as a "stdlib" package) and, where no go.mod sits beside
// it, go.sum. Module versions keep their "v" prefix, as the Go OSV ecosystem writes them.
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
  readText,
} from './analyzer.js';
import { type LockEntry, baseName, toPackage } from './lockfile.js';

const ID = 'go-module';
const VERSION = 1;
const FOUND_BY = { id: ID, version: VERSION };

function tokens(line: string): string[] {
  return line
    .replace(/\/\/.*$/, '')
    .trim()
    .split(/\s+/)
    .filter((t) => t !== '')
    .map((t) => t.replace(/^"|"$/g, ''));
}

export function parseGoMod(text: string, path: string): LockEntry[] {
  let module = '';
  let goVersion: string | undefined;
  let toolchain: string | undefined;
  const requires: { path: string; version: string; indirect: boolean; line: number }[] = [];
  const replaces: { from: string; fromVersion?: string; to: string; toVersion?: string }[] = [];
  let block: string | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const indirect = /\/\/\s*indirect\b/.test(raw);
    const t = tokens(raw);
    if (t.length === 0) return;
    if (block) {
      if (t[0] === ')') {
        block = undefined;
        return;
      }
      t.unshift(block);
    } else if (t[1] === '(') {
      block = t[0];
      return;
    }
    const [verb, ...args] = t;
    switch (verb) {
      case 'module':
        module = args[0] ?? '';
        break;
      case 'go':
        goVersion = args[0];
        break;
      case 'toolchain':
        toolchain = args[0];
        break;
      case 'require':
        if (args.length < 2)
          throw new MalformedInputError(path, `line ${i + 1}: require needs a module path and a version`);
        requires.push({ path: args[0]!, version: args[1]!, indirect, line: i + 1 });
        break;
      case 'replace': {
        const arrow = args.indexOf('=>');
        if (arrow < 1)
          throw new MalformedInputError(
            path,
            `line ${i + 1}: replace needs "old [version] => new [version]"`,
          );
        const r: (typeof replaces)[number] = { from: args[0]!, to: args[arrow + 1]! };
        if (arrow === 2) r.fromVersion = args[1]!;
        if (args[arrow + 2]) r.toVersion = args[arrow + 2]!;
        replaces.push(r);
        break;
      }
      default:
        break;
    }
  });
  if (!module) throw new MalformedInputError(path, 'no module directive');
  const out: LockEntry[] = [{ name: module, version: '', relationship: 'root' }];
  for (const req of requires) {
    const r = replaces.find((x) => x.from === req.path && (!x.fromVersion || x.fromVersion === req.version));
    if (r && !r.toVersion) continue; // replaced by a local directory: not a downloaded module
    const entry: LockEntry = {
      name: r ? r.to : req.path,
      version: r ? r.toVersion! : req.version,
      relationship: req.indirect ? 'indirect' : 'direct',
      lines: [req.line, req.line],
    };
    out.push(entry);
  }
  // The standard library is part of the build: from the toolchain line, else from a go line that names a release.
  const std =
    toolchain?.replace(/^go/, '') ??
    (goVersion && /^1\.(2[1-9]|[3-9]\d)(\.\d+)?$/.test(goVersion) ? goVersion : undefined);
  if (std) out.push({ name: 'stdlib', version: `v${std}`, relationship: 'direct' });
  return out;
}

export function parseGoSum(text: string, path: string): LockEntry[] {
  const seen = new Map<string, LockEntry>();
  text.split(/\r?\n/).forEach((line, i) => {
    const t = line.trim().split(/\s+/);
    if (t.length === 1 && t[0] === '') return;
    if (t.length !== 3) throw new MalformedInputError(path, `line ${i + 1}: expected "module version hash"`);
    const version = t[1]!.replace(/\/go\.mod$/, '');
    const key = `${t[0]}@${version}`;
    if (!seen.has(key)) seen.set(key, { name: t[0]!, version });
  });
  return [...seen.values()];
}

export const goAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: (path) => {
    const b = baseName(path);
    return b === 'go.mod' || b === 'go.sum';
  },
  async analyze(files: FileEntry[]) {
    const mods = new Set(
      files.filter((f) => baseName(f.path) === 'go.mod').map((f) => f.path.slice(0, -'go.mod'.length)),
    );
    const out: ExtractedPackage[] = [];
    for (const f of files) {
      const b = baseName(f.path);
      if (b === 'go.sum' && mods.has(f.path.slice(0, -'go.sum'.length))) continue; // go.mod is authoritative
      const text = await readText(f);
      const entries = b === 'go.mod' ? parseGoMod(text, f.path) : parseGoSum(text, f.path);
      out.push(...entries.map((e) => toPackage('Go', e, f.path, FOUND_BY)));
    }
    return out;
  },
};
