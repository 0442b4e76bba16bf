// RHEL/UBI 9, Fedora, AlmaLinux, Rocky, Amazon Linux 2023 packages from the sqlite rpmdb (rpm >= 4.16), read with
// sql.js; each row of its Packages table is one installed package's rpm header, parsed by rpm-header.ts.
// The older Berkeley DB (RHEL 7/8, CentOS, Amazon Linux 2) and ndb (SUSE) databases are recognised and refused
// with an error saying so: finding no packages in an image that has them would read as "nothing vulnerable".
import initSqlJs from 'sql.js';
import {
  type ExtractedPackage,
  type FileEntry,
  MalformedInputError,
  type OsRelease,
  type PackageAnalyzer,
  UnsupportedInputError,
} from './analyzer.js';
import { osvEcosystem } from './os-release.analyzer.js';
import { purl } from './purl.js';
import { RpmHeader, RpmHeaderError, TAG } from './rpm-header.js';

const ID = 'rpm';
const VERSION = 1;

// Fedora and RHEL >= 9 keep the database here (upstream's default since rpm 4.16); RHEL 9 and Amazon Linux 2023 also
// at the historical var/lib/rpm, which on Fedora is a symlink to the first. The first one present wins.
const DIRS = ['usr/lib/sysimage/rpm/', 'var/lib/rpm/'];
const SQLITE = 'rpmdb.sqlite';
const BDB = 'Packages';
const NDB = 'Packages.db';
const NAMES = [SQLITE, BDB, NDB];

/**
 * The OSV ecosystem of an rpm distribution, from os-release. AlmaLinux and Rocky publish per major release
 * ("AlmaLinux:9", "Rocky Linux:8"). Red Hat's records name a product stream ("Red Hat:rhel_eus:9.2::appstream",
 * "Red Hat:enterprise_linux:9::baseos") that depends on the repository a package came from, which the rpmdb does not
 * record: RHEL packages get the bare "Red Hat", and the matcher is to pick streams of the release in the purl's
 * `distro` qualifier. Distributions OSV has no records for get their name and major release in OSV's style, so that
 * nothing of another distribution's ever matches them.
 */
export function rpmEcosystem(os: OsRelease | null): string {
  const v = os?.version_id;
  const major = v?.split('.')[0];
  const withMajor = (name: string): string => (major ? `${name}:${major}` : name);
  switch (os?.id) {
    case 'almalinux':
      return withMajor('AlmaLinux');
    case 'rocky':
      return withMajor('Rocky Linux');
    case 'rhel':
      return 'Red Hat';
    case 'amzn':
      return withMajor('Amazon Linux');
    case 'fedora':
      return withMajor('Fedora');
    case 'centos':
      return withMajor('CentOS');
    case 'ol':
      return withMajor('Oracle Linux');
    case 'mageia':
      return withMajor('Mageia');
    case 'opensuse-leap':
      return v ? `openSUSE:Leap ${v}` : 'openSUSE';
    case 'opensuse-tumbleweed':
      return 'openSUSE:Tumbleweed';
    case 'sles': {
      const m = v ? /^(\d+)(?:\.(\d+))?/.exec(v) : null;
      if (!m) return 'SUSE';
      return m[2] && m[2] !== '0'
        ? `SUSE:Linux Enterprise Server ${m[1]} SP${m[2]}`
        : `SUSE:Linux Enterprise Server ${m[1]}`;
    }
    default:
      return osvEcosystem(os, os?.name ?? 'rpm');
  }
}

/** The purl namespace: the vendor, as the purl spec's rpm examples and the distributions' own records write it. */
const NAMESPACE: Record<string, string> = {
  rhel: 'redhat',
  amzn: 'amazon',
  ol: 'oracle',
  rocky: 'rocky-linux',
  sles: 'suse',
  'opensuse-leap': 'opensuse',
  'opensuse-tumbleweed': 'opensuse',
};

/** "openssl-3.0.7-27.el9.src.rpm" -> openssl, 3.0.7-27.el9: the last two "-" split name, version and release. */
export function parseSourceRpm(file: string): { name: string; version: string } | undefined {
  const m = /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(file);
  return m ? { name: m[1]!, version: `${m[2]}-${m[3]}` } : undefined;
}

let sqlJs: ReturnType<typeof initSqlJs> | undefined;

async function readBlobs(file: FileEntry): Promise<{ hnum: number; blob: Uint8Array }[]> {
  const bytes = await file.read();
  if (bytes.length < 100 || new TextDecoder().decode(bytes.subarray(0, 15)) !== 'SQLite format 3')
    throw new MalformedInputError(file.path, 'not an SQLite database (no "SQLite format 3" header)');
  // sql.js keeps the database in memory and cannot open it in WAL mode (file format 2, which rpm sets); the
  // journal mode does not change how the pages read, so open a copy marked as a rollback-journal database.
  const copy = new Uint8Array(bytes);
  if (copy[18] === 2) copy[18] = 1;
  if (copy[19] === 2) copy[19] = 1;
  sqlJs ??= initSqlJs();
  const SQL = await sqlJs;
  let db;
  try {
    db = new SQL.Database(copy);
  } catch (e) {
    throw new MalformedInputError(file.path, `cannot open the SQLite database: ${(e as Error).message}`);
  }
  try {
    const rows = db.exec('SELECT hnum, blob FROM Packages ORDER BY hnum');
    const out: { hnum: number; blob: Uint8Array }[] = [];
    for (const [hnum, blob] of rows[0]?.values ?? []) {
      if (!(blob instanceof Uint8Array))
        throw new MalformedInputError(file.path, `Packages row ${String(hnum)} has no header blob`);
      out.push({ hnum: Number(hnum), blob });
    }
    return out;
  } catch (e) {
    if (e instanceof MalformedInputError) throw e;
    throw new MalformedInputError(file.path, `cannot read the Packages table: ${(e as Error).message}`);
  } finally {
    db.close();
  }
}

function installedFiles(h: RpmHeader): string[] {
  const basenames = h.stringArray(TAG.BASENAMES);
  if (basenames.length === 0) return h.stringArray(TAG.OLDFILENAMES).map((f) => f.replace(/^\/+/, ''));
  const dirnames = h.stringArray(TAG.DIRNAMES);
  const dirindexes = h.int32Array(TAG.DIRINDEXES);
  if (dirindexes.length !== basenames.length)
    throw new RpmHeaderError(`${basenames.length} file basenames but ${dirindexes.length} directory indexes`);
  return basenames.map((b, i) => {
    const dir = dirnames[dirindexes[i]!];
    if (dir === undefined)
      throw new RpmHeaderError(`file ${b} has directory index ${dirindexes[i]} of ${dirnames.length}`);
    return `${dir}${b}`.replace(/^\/+/, '');
  });
}

function toPackage(
  h: RpmHeader,
  db: string,
  os: OsRelease | null,
  ecosystem: string,
): ExtractedPackage | null {
  const name = h.string(TAG.NAME);
  const version = h.string(TAG.VERSION);
  const release = h.string(TAG.RELEASE);
  if (!name || !version || release === undefined)
    throw new RpmHeaderError(`header without ${!name ? 'NAME' : !version ? 'VERSION' : 'RELEASE'}`);
  // The imported signing keys are rows of the database too, not software.
  if (name === 'gpg-pubkey') return null;
  const epoch = h.int32(TAG.EPOCH);
  const arch = h.string(TAG.ARCH);
  const evr = `${epoch !== undefined ? `${epoch}:` : ''}${version}-${release}`;
  const sourceRpm = h.string(TAG.SOURCERPM);
  const source = sourceRpm ? parseSourceRpm(sourceRpm) : undefined;
  const osId = os?.id;
  const distro = osId && os.version_id ? `${osId}-${os.version_id}` : undefined;
  const pkg: ExtractedPackage = {
    ecosystem,
    name,
    version: evr,
    sourceName: source?.name ?? name,
    sourceVersion: source?.version ?? `${version}-${release}`,
    purl: purl('rpm', osId ? (NAMESPACE[osId] ?? osId) : undefined, name, `${version}-${release}`, {
      arch,
      epoch: epoch !== undefined ? String(epoch) : undefined,
      distro,
    }),
    installedFiles: installedFiles(h),
    location: db,
    foundBy: { id: ID, version: VERSION },
  };
  if (epoch !== undefined) pkg.epoch = epoch;
  if (arch) pkg.arch = arch;
  const license = h.string(TAG.LICENSE);
  if (license) pkg.licenses = [license];
  const label = h.string(TAG.MODULARITYLABEL);
  if (label) pkg.modularityLabel = label;
  return pkg;
}

function refuse(file: FileEntry, bytes: Uint8Array): never {
  const name = file.path.slice(file.path.lastIndexOf('/') + 1);
  const magic = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (name === NDB && bytes.length >= 4 && new TextDecoder().decode(bytes.subarray(0, 4)) === 'RpmP')
    throw new UnsupportedInputError(
      file.path,
      'rpm ndb database (SUSE): this build reads only the sqlite rpmdb, so its packages cannot be listed',
    );
  // Berkeley DB hash and btree files carry their magic at offset 12, in the byte order of the machine that wrote it.
  if (bytes.length >= 16) {
    const be = magic.getUint32(12);
    const le = magic.getUint32(12, true);
    if ([be, le].some((m) => m === 0x00061561 || m === 0x00053162))
      throw new UnsupportedInputError(
        file.path,
        'rpm Berkeley DB database (RHEL/CentOS 7 and 8, Amazon Linux 2): this build reads only the sqlite rpmdb ' +
          '(RHEL 9, Fedora 33+, Amazon Linux 2023), so its packages cannot be listed',
      );
  }
  throw new MalformedInputError(file.path, 'neither an sqlite, Berkeley DB nor ndb rpm database');
}

export const rpmAnalyzer: PackageAnalyzer = {
  kind: 'packages',
  id: ID,
  version: VERSION,
  concerns: (path) => DIRS.some((d) => path.startsWith(d) && NAMES.includes(path.slice(d.length))),
  async analyze(files, context) {
    const byPath = new Map(files.map((f) => [f.path, f]));
    const dir = DIRS.find((d) => NAMES.some((n) => byPath.has(d + n)));
    if (!dir) return [];
    const sqlite = byPath.get(dir + SQLITE);
    if (!sqlite) {
      // An empty leftover file beside nothing else is no database: an image without rpm's records, not a failure.
      const old = (byPath.get(dir + BDB) ?? byPath.get(dir + NDB))!;
      const bytes = await old.read();
      if (bytes.length === 0) return [];
      refuse(old, bytes);
    }
    const ecosystem = rpmEcosystem(context.os);
    const out: ExtractedPackage[] = [];
    const blobs = await readBlobs(sqlite);
    for (const { hnum, blob } of blobs) {
      try {
        const pkg = toPackage(new RpmHeader(blob), sqlite.path, context.os, ecosystem);
        if (pkg) out.push(pkg);
      } catch (e) {
        if (!(e instanceof RpmHeaderError)) throw e;
        throw new MalformedInputError(sqlite.path, `package header ${hnum}: ${e.message}`);
      }
    }
    return out;
  },
};
