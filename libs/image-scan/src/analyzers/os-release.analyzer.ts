// Which distribution a filesystem is: etc/os-release, then usr/lib/os-release (the systemd fallback), then the
// older release files (etc/redhat-release, ...). etc/debian_version refines Debian's VERSION_ID to the point
// release and stands in for it on distroless images, whose os-release has no VERSION_ID.
import { type FileEntry, type OsAnalyzer, type OsRelease, readText } from './analyzer.js';

const FILES = [
  'etc/os-release',
  'usr/lib/os-release',
  'etc/debian_version',
  'etc/redhat-release',
  'etc/alpine-release',
  'etc/system-release',
];

const FIELDS: Record<string, keyof OsRelease> = {
  ID: 'id',
  ID_LIKE: 'id_like',
  NAME: 'name',
  PRETTY_NAME: 'pretty_name',
  VERSION: 'version',
  VERSION_ID: 'version_id',
  VERSION_CODENAME: 'version_codename',
  VARIANT: 'variant',
  VARIANT_ID: 'variant_id',
  CPE_NAME: 'cpe_name',
  BUILD_ID: 'build_id',
};

/** Parses the os-release format (KEY=value, optionally quoted, # comments). Null when it has no known field. */
export function parseOsRelease(text: string): OsRelease | null {
  const out: OsRelease = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq).trim();
    let value = line.slice(eq + 1).trim();
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) value = value.slice(1, -1);
    value = value.replace(/\\(["'$`\\])/g, '$1');
    const field = FIELDS[key];
    if (!field || value === '') continue;
    if (field === 'id_like') out.id_like = value.split(/\s+/).filter((v) => v !== '');
    else out[field] = value;
  }
  return Object.keys(out).length ? out : null;
}

const RELEASE_NAMES: [RegExp, string][] = [
  [/^Red Hat Enterprise Linux/i, 'rhel'],
  [/^CentOS/i, 'centos'],
  [/^AlmaLinux/i, 'almalinux'],
  [/^Rocky Linux/i, 'rocky'],
  [/^Scientific Linux/i, 'scientific'],
  [/^Fedora/i, 'fedora'],
  [/^Oracle Linux/i, 'ol'],
  [/^Amazon Linux/i, 'amzn'],
];

/** "CentOS release 5.7 (Final)" and its relatives. */
export function parseRedhatRelease(text: string): OsRelease | null {
  const line = text.split(/\r?\n/)[0]!.trim();
  const m = /^(.+?)\s+release\s+(\d[\w.]*)(?:\s+\((.+)\))?/i.exec(line);
  if (!m) return null;
  const name = m[1]!;
  const id = RELEASE_NAMES.find(([re]) => re.test(name))?.[1];
  const out: OsRelease = { pretty_name: line, name };
  if (id) {
    out.id = id;
    out.id_like = [...new Set([id, 'rhel'])];
  }
  // CentOS 5 to 7 wrote "(Final)" where others write their codename; it is not part of the release's name.
  out.version = m[3] && m[3] !== 'Final' ? `${m[2]} (${m[3]})` : m[2]!;
  out.version_id = m[2]!;
  return out;
}

export function identify(texts: Map<string, string>): OsRelease | null {
  const osRelease = texts.get('etc/os-release') ?? texts.get('usr/lib/os-release');
  let os = osRelease !== undefined ? parseOsRelease(osRelease) : null;
  if (!os && texts.has('etc/redhat-release')) os = parseRedhatRelease(texts.get('etc/redhat-release')!);
  if (!os && texts.has('etc/system-release')) os = parseRedhatRelease(texts.get('etc/system-release')!);
  if (!os && texts.has('etc/alpine-release')) {
    const v = texts.get('etc/alpine-release')!.trim();
    if (v) os = { id: 'alpine', name: 'Alpine Linux', version_id: v };
  }
  const debianVersion = texts.get('etc/debian_version')?.trim();
  if (debianVersion && /^\d+(\.\d+)*$/.test(debianVersion)) {
    if (!os) os = { id: 'debian', version_id: debianVersion };
    else if (os.id === 'debian' && (!os.version_id || debianVersion.startsWith(`${os.version_id}.`)))
      os.version_id = debianVersion;
  }
  return os;
}

export const osReleaseAnalyzer: OsAnalyzer = {
  kind: 'os',
  id: 'os-release',
  version: 1,
  concerns: (path) => FILES.includes(path),
  async analyze(files: FileEntry[]) {
    const texts = new Map<string, string>();
    for (const f of files) texts.set(f.path, await readText(f));
    return identify(texts);
  },
};

/** The OSV ecosystem of a distribution release: Debian:12, Ubuntu:22.04, Alpine:v3.18; the bare name when unknown. */
export function osvEcosystem(os: OsRelease | null, fallback: string): string {
  if (!os?.id) return fallback;
  const v = os.version_id;
  switch (os.id) {
    case 'debian':
      return v ? `Debian:${v.split('.')[0]}` : 'Debian';
    case 'ubuntu':
      // OSV marks long-term releases (even year, April): Ubuntu:22.04:LTS, but Ubuntu:23.10.
      if (!v) return 'Ubuntu';
      return /^\d*[02468]\.04$/.test(v) ? `Ubuntu:${v}:LTS` : `Ubuntu:${v}`;
    case 'alpine': {
      const m = v ? /^(\d+)\.(\d+)/.exec(v) : null;
      return m ? `Alpine:v${m[1]}.${m[2]}` : 'Alpine';
    }
    case 'wolfi':
      return 'Wolfi';
    case 'chainguard':
      return 'Chainguard';
    default:
      return fallback;
  }
}
