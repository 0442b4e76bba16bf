// Installed Ruby gems from their specifications: <gem home>/specifications/<name>-<version>.gemspec, the Ruby
// source RubyGems writes at install time (and specifications/default/ for the gems that ship with Ruby). Only the
// literal assignments RubyGems writes are read (`s.name = "rack".freeze`, `%q<rack>` in older releases); the code
// is never evaluated.
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type PackageAnalyzer,
  readText,
} from './analyzer.js';
import { toPackage } from './lockfile.js';

const ID = 'gemspec';
const VERSION = 1;
const FOUND_BY = { id: ID, version: VERSION };

const SPEC = /(^|\/)specifications\/(default\/)?[^/]+\.gemspec$/;

// A Ruby string literal as RubyGems writes it: "x", 'x', %q<x>, %q{x}, %q(x), %q[x], %q|x|; then maybe .freeze.
const STRING = String.raw`(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|%q<([^>]*)>|%q\{([^}]*)\}|%q\(([^)]*)\)|%q\[([^\]]*)\]|%q\|([^|]*)\|)(?:\.freeze)?`;

function literal(m: RegExpExecArray, from: number): string {
  for (let i = from; i < from + 7; i++) if (m[i] !== undefined) return m[i]!.replace(/\\(.)/g, '$1');
  return '';
}

function assigned(text: string, field: string): { value: string; line: number } | undefined {
  const re = new RegExp(String.raw`^\s*\w+\.${field}\s*=\s*(?:Gem::Version\.new\(\s*)?${STRING}`, 'm');
  const m = re.exec(text);
  if (!m) return undefined;
  return { value: literal(m, 1), line: text.slice(0, m.index).split('\n').length };
}

function licenses(text: string): string[] {
  const list = new RegExp(String.raw`^\s*\w+\.licenses\s*=\s*\[([^\]]*)\]`, 'm').exec(text);
  const out: string[] = [];
  if (list) {
    const item = new RegExp(STRING, 'g');
    for (let m = item.exec(list[1]!); m; m = item.exec(list[1]!)) out.push(literal(m, 1));
  }
  const one = assigned(text, 'license');
  if (one && !out.includes(one.value)) out.push(one.value);
  return out;
}

export function parseGemspec(
  text: string,
  path: string,
): { name: string; version: string; licenses: string[]; lines: [number, number] } {
  const name = assigned(text, 'name');
  const version = assigned(text, 'version');
  if (!name?.value || !version?.value)
    throw new MalformedInputError(path, `no literal ${!name?.value ? 's.name' : 's.version'} assignment`);
  return {
    name: name.value,
    version: version.value,
    licenses: licenses(text),
    lines: [Math.min(name.line, version.line), Math.max(name.line, version.line)],
  };
}

export const gemspecAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: (path) => SPEC.test(path),
  async analyze(files: FileEntry[]) {
    const out: ExtractedPackage[] = [];
    for (const f of files) {
      const spec = parseGemspec(await readText(f), f.path);
      const pkg = toPackage(
        'RubyGems',
        { name: spec.name, version: spec.version, lines: spec.lines },
        f.path,
        FOUND_BY,
      );
      if (spec.licenses.length) pkg.licenses = spec.licenses;
      // A gem's files live in <gem home>/gems/<spec file name without .gemspec>; default gems have no such dir.
      const m = /^(.*?)specifications\/([^/]+)\.gemspec$/.exec(f.path);
      if (m) pkg.installedFiles = [`${m[1]}gems/${m[2]}`];
      out.push(pkg);
    }
    return out;
  },
};
