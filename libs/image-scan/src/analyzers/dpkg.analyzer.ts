// Debian/Ubuntu packages from dpkg's database: var/lib/dpkg/status, or one file per package under
// var/lib/dpkg/status.d/ (distroless images, which write no Status field). Installed files come from
// info/<pkg>.list (info/<pkg>:<arch>.list for multi-arch), falling back to the .md5sums lists.
import { parse as parseDpkgVersion } from '../versions/dpkg.version.js';
import { type ExtractedPackage, MalformedInputError, type PackageAnalyzer, readText } from './analyzer.js';
import { osvEcosystem } from './os-release.analyzer.js';
import { purl } from './purl.js';

const STATUS = 'var/lib/dpkg/status';
const STATUS_D = 'var/lib/dpkg/status.d/';
const INFO = 'var/lib/dpkg/info/';

export interface Stanza {
  fields: Map<string, string>;
  lines: [number, number];
}

/** RFC 822-style stanzas separated by blank lines; continuation lines start with a space or tab. */
export function parseStanzas(text: string): Stanza[] {
  const out: Stanza[] = [];
  let fields = new Map<string, string>();
  let key: string | undefined;
  let start = 0;
  const lines = text.split(/\r?\n/);
  const flush = (end: number): void => {
    if (fields.size) out.push({ fields, lines: [start + 1, end] });
    fields = new Map();
    key = undefined;
  };
  lines.forEach((line, i) => {
    if (line.trim() === '') {
      flush(i);
      return;
    }
    if (fields.size === 0 && key === undefined) start = i;
    if ((line.startsWith(' ') || line.startsWith('\t')) && key !== undefined) {
      fields.set(key, `${fields.get(key)}\n${line.slice(1)}`);
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return;
    key = line.slice(0, colon).trim();
    fields.set(key, line.slice(colon + 1).trim());
  });
  flush(lines.length);
  return out;
}

const TRANSITIONAL = /\b(transitional|dummy)\b[^.\n]*\bpackage\b/i;

function installed(status: string | undefined): boolean {
  // "want flag state": only the state "installed" means the files are on disk.
  if (status === undefined) return true;
  return status.split(/\s+/)[2] === 'installed';
}

function fileList(text: string, md5sums: boolean): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => (md5sums ? l.replace(/^[0-9a-f]{32}\s+/, '') : l).trim())
    .filter((l) => l !== '' && l !== '/.')
    .map((l) => l.replace(/^\/+/, ''));
}

export const dpkgAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: 'dpkg',
  version: 1,
  concerns: (path) =>
    path === STATUS ||
    path.startsWith(STATUS_D) ||
    (path.startsWith(INFO) && (path.endsWith('.list') || path.endsWith('.md5sums'))),
  async analyze(files, context) {
    const byPath = new Map(files.map((f) => [f.path, f]));
    // status.d holds one record per package next to its .md5sums (and sometimes .list/.conffiles) siblings.
    const databases = files.filter(
      (f) =>
        f.path === STATUS ||
        (f.path.startsWith(STATUS_D) &&
          !f.path.slice(STATUS_D.length).includes('/') &&
          !/\.(md5sums|list|conffiles)$/.test(f.path)),
    );
    const os = context.os;
    const ecosystem = osvEcosystem(os, os?.id === 'ubuntu' ? 'Ubuntu' : 'Debian');
    const namespace = os?.id ?? 'debian';
    const distro = os?.id && os.version_id ? `${os.id}-${os.version_id}` : undefined;
    const out: ExtractedPackage[] = [];
    for (const db of databases) {
      const text = await readText(db);
      for (const stanza of parseStanzas(text)) {
        const f = stanza.fields;
        const name = f.get('Package');
        const version = f.get('Version');
        if (!name || !version) continue;
        if (!installed(f.get('Status'))) continue;
        let parsed;
        try {
          parsed = parseDpkgVersion(version);
        } catch (e) {
          throw new MalformedInputError(db.path, `package ${name}: ${(e as Error).message}`);
        }
        const arch = f.get('Architecture');
        const source = /^(\S+)(?:\s+\((.+)\))?$/.exec(f.get('Source') ?? '');
        const sourceName = source?.[1] ?? name;
        const sourceVersion = source?.[2] ?? version;
        const list = (arch && byPath.get(`${INFO}${name}:${arch}.list`)) || byPath.get(`${INFO}${name}.list`);
        const md5 =
          (arch && byPath.get(`${INFO}${name}:${arch}.md5sums`)) ||
          byPath.get(`${INFO}${name}.md5sums`) ||
          (db.path.startsWith(STATUS_D) ? byPath.get(`${db.path}.md5sums`) : undefined);
        const installedFiles = list
          ? fileList(await readText(list), false)
          : md5
            ? fileList(await readText(md5), true)
            : [];
        const upstream =
          sourceName === name
            ? undefined
            : sourceVersion === version
              ? sourceName
              : `${sourceName}@${sourceVersion}`;
        const pkg: ExtractedPackage = {
          ecosystem,
          name,
          version,
          sourceName,
          sourceVersion,
          epoch: parsed.epoch,
          purl: purl('deb', namespace, name, version, { arch, distro, upstream }),
          installedFiles,
          location: db.path,
          lines: stanza.lines,
          foundBy: { id: 'dpkg', version: 1 },
        };
        if (arch) pkg.arch = arch;
        if (TRANSITIONAL.test(f.get('Description') ?? '')) pkg.transitional = true;
        out.push(pkg);
      }
    }
    return out;
  },
};
