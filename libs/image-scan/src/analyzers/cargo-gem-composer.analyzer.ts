// Rust (Cargo.lock), Ruby (Gemfile.lock) and PHP (composer.lock) lockfiles: one small parser each.
import { parse as parseToml } from 'smol-toml';
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
  readText,
} from './analyzer.js';
import { type LockEntry, baseName, toPackage } from './lockfile.js';

type Doc = Record<string, unknown>;
const obj = (v: unknown): Doc => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Doc) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export function parseCargoLock(text: string, path: string): LockEntry[] {
  let doc: Doc;
  try {
    doc = parseToml(text) as Doc;
  } catch (e) {
    throw new MalformedInputError(path, `not valid TOML: ${(e as Error).message.split('\n')[0]}`);
  }
  return arr(doc['package']).map((p) => {
    const pkg = obj(p);
    if (typeof pkg['name'] !== 'string' || typeof pkg['version'] !== 'string')
      throw new MalformedInputError(path, '[[package]] without name and version');
    return { name: pkg['name'], version: pkg['version'] };
  });
}

export function parseGemfileLock(text: string, path: string): LockEntry[] {
  const out: LockEntry[] = [];
  const direct = new Set<string>();
  let section = '';
  let inSpecs = false;
  text.split(/\r?\n/).forEach((line, i) => {
    if (/^[A-Z]/.test(line)) {
      section = line.trim();
      inSpecs = false;
      return;
    }
    if (section === 'GEM' || section === 'GIT' || section === 'PATH') {
      if (line.trim() === 'specs:') {
        inSpecs = true;
        return;
      }
      const m = /^ {4}([^\s(]+) \(([^)]+)\)$/.exec(line);
      if (inSpecs && m) out.push({ name: m[1]!, version: m[2]!, lines: [i + 1, i + 1] });
      else if (inSpecs && /^ {4}\S/.test(line))
        throw new MalformedInputError(path, `line ${i + 1}: expected "    name (version)"`);
    } else if (section === 'DEPENDENCIES') {
      const m = /^ {2}([^\s(!]+)/.exec(line);
      if (m) direct.add(m[1]!);
    }
  });
  for (const e of out) e.relationship = direct.has(e.name) ? 'direct' : 'indirect';
  return out;
}

export function parseComposerLock(text: string, path: string): LockEntry[] {
  let doc: Doc;
  try {
    doc = obj(JSON.parse(text));
  } catch (e) {
    throw new MalformedInputError(path, `not valid JSON: ${(e as Error).message}`);
  }
  const out: LockEntry[] = [];
  for (const [key, dev] of [
    ['packages', false],
    ['packages-dev', true],
  ] as const) {
    for (const p of arr(doc[key])) {
      const pkg = obj(p);
      if (typeof pkg['name'] !== 'string' || typeof pkg['version'] !== 'string')
        throw new MalformedInputError(path, `${key}[] entry without name and version`);
      out.push({ name: pkg['name'], version: pkg['version'], dev });
    }
  }
  return out;
}

function analyzer(
  id: string,
  fileName: string,
  ecosystem: string,
  parse: (text: string, path: string) => LockEntry[],
): PackageAnalyzer {
  return {
    kind: 'packages',
    id,
    version: 1,
    concerns: (path) => baseName(path) === fileName,
    async analyze(files: FileEntry[]) {
      const out: ExtractedPackage[] = [];
      for (const f of files)
        out.push(
          ...parse(await readText(f), f.path).map((e) => toPackage(ecosystem, e, f.path, { id, version: 1 })),
        );
      return out;
    },
  };
}

export const cargoAnalyzer = analyzer('cargo-lock', 'Cargo.lock', 'crates.io', parseCargoLock);
export const gemfileAnalyzer = analyzer('gemfile-lock', 'Gemfile.lock', 'RubyGems', parseGemfileLock);
export const composerAnalyzer = analyzer('composer-lock', 'composer.lock', 'Packagist', parseComposerLock);
