// The host's own OS packages, checked with the image-scan engine: the files of the node's package databases are
// offered to image-scan's analyzers as a root filesystem, the packages are matched against the advisory store, and
// each match becomes a host finding on the node. Engines do not import each other, so the composition lives here.
import { lstat, readdir, readFile, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import {
  CheckStatus,
  EvidenceSchema,
  FindingSchema,
  FindingSource,
  HostCheckResultSchema,
  HostPackageScanSchema,
  InstalledPackageSchema,
  Severity,
  create,
  findingId,
  timestampFromDate,
  type Asset,
  type Finding,
  type HostCheckResult,
  type HostPackageScan as HostPackageScanMessage,
  type InstalledPackage,
  type MessageInitShape,
} from '@vigil/contracts';
import {
  MATCHER_UNIT,
  analyzers,
  purlType,
  scanFiles,
  type AdvisoryDbInfo,
  type AdvisoryStore,
  type FileEntry,
  type ScanReport,
} from '@vigil/image-scan';
import { requirementsFor } from '@vigil/pci';

/** The package check's unit: it appears in the scan's units and in the checks list like any host check. */
export const HOST_PACKAGE_CHECK = { id: 'host.os-package-vulnerabilities', version: 1 };

// Only the OS package databases are read: language packages on a node belong to the images and services that
// ship them, and walking all of `/` (home directories, /work trees, node_modules) would cost minutes.
const OS_PACKAGE_ANALYZERS = new Set(['dpkg', 'apk', 'rpm']);
const DATABASE_DIRS = [
  'etc',
  'usr/lib',
  'var/lib/dpkg',
  'var/lib/dpkg/status.d',
  'var/lib/dpkg/info',
  'lib/apk/db',
  'var/lib/rpm',
  'usr/lib/sysimage/rpm',
];
const DATABASE_FILES =
  'var/lib/dpkg/status, var/lib/dpkg/status.d/, lib/apk/db/installed, var/lib/rpm/, usr/lib/sysimage/rpm/';
const MAX_LISTED_FILES = 50;
const MAX_NAMED_FINDINGS = 5;

const wanted = analyzers.filter((a) => a.kind === 'os' || OS_PACKAGE_ANALYZERS.has(a.id));

type HostPackageScanInit = Omit<MessageInitShape<typeof HostPackageScanSchema>, '$typeName'>;

export interface HostPackageScan {
  /** Whether the packages were matched, and against what; `reason` when they were not. */
  scan: HostPackageScanMessage;
  /** The package check's result when there is one: pass, fail, or error (a database could not be read). */
  check?: HostCheckResult;
  /** Every OS package found, also when the vulnerability part is not tested. */
  packages: InstalledPackage[];
  /** One finding per vulnerability per package, on the node. */
  findings: Finding[];
  /** The analyzers and matcher that ran. */
  units: { id: string; version: number }[];
  /** The distribution as os-release names it ("Debian GNU/Linux 12 (bookworm)"), when found. */
  osImage?: string;
}

export interface HostPackageScanInput {
  root: string;
  /** The node asset of the assessment; every finding carries it. */
  asset: Asset;
  /** null: the service has no database, so the vulnerability part is not tested. */
  advisories: AdvisoryStore | null;
  /** Why `advisories` is null, for the not-tested reason. */
  missingReason?: string;
  clock?: () => Date;
}

class PackageFileError extends Error {}

/** The OS package database files under a root, as image-scan FileEntry values read on demand. */
export async function osPackageFiles(root: string): Promise<FileEntry[]> {
  const realRoot = await realpath(root);
  const files: FileEntry[] = [];
  for (const dir of DATABASE_DIRS) {
    let names: string[];
    try {
      names = await readdir(join(root, dir));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      throw new PackageFileError(`cannot list /${dir}: ${(err as Error).message}`);
    }
    for (const name of names.sort()) {
      const path = `${dir}/${name}`;
      if (!wanted.some((a) => a.concerns(path))) continue;
      const full = join(root, path);
      const st = await lstat(full);
      // A symlink is skipped rather than followed: in a /host mount an absolute target would read the assessor's
      // own files. os-release's usual link into usr/lib is covered by usr/lib/os-release itself.
      if (st.isSymbolicLink() || st.isDirectory()) continue;
      // A package database that is a FIFO or a device cannot be read (a read would block): an error, not "no packages".
      if (!st.isFile()) throw new PackageFileError(`cannot read /${path}: not a regular file`);
      // A symlinked parent directory (lib -> usr/lib) must still land inside the root.
      const real = await realpath(full);
      if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) continue;
      files.push({
        path,
        mode: st.mode & 0o7777,
        read: async () => {
          try {
            return new Uint8Array(await readFile(full));
          } catch (err) {
            throw new PackageFileError(`cannot read /${path}: ${(err as Error).message}`);
          }
        },
      });
    }
  }
  return files;
}

/**
 * Lists the node's OS packages and matches them against the advisory store. Without a store, or with an empty
 * one, the packages are still listed and the scan says it did not test them, with the reason (a match against
 * nothing would read as a patched node); the package check then has no result.
 */
export async function scanHostPackages(input: HostPackageScanInput): Promise<HostPackageScan> {
  const pci = requirementsFor('image.vulnerable_package').primary;
  const base = {
    id: HOST_PACKAGE_CHECK.id,
    version: HOST_PACKAGE_CHECK.version,
    title: 'Host OS packages have no known vulnerability (matched against the advisory database)',
    pciRequirements: pci,
    expected: 'no installed OS package with a known vulnerability',
    remediation: {
      summary:
        'Upgrade the named packages to their fixed versions (the finding gives the package manager command), or replace the node image.',
    },
  };
  const result = (
    status: CheckStatus,
    fields: Omit<MessageInitShape<typeof HostCheckResultSchema>, '$typeName'> & {
      field: string;
      actual: string;
    },
  ): HostCheckResult => create(HostCheckResultSchema, { ...base, status, ...fields });
  const notTested = (reason: string, rest: Omit<HostPackageScanInit, 'tested' | 'reason'> = {}) =>
    create(HostPackageScanSchema, { tested: false, reason, ...rest });

  let db: AdvisoryDbInfo | undefined;
  let dbProblem: string | undefined;
  if (!input.advisories)
    dbProblem = input.missingReason ?? 'no advisory database is configured for the host-assessor';
  else {
    try {
      db = await input.advisories.info();
      if (db.records === 0)
        dbProblem =
          'the advisory database has no records: load one with `vigil db import <zip|dir>` or `vigil db update`';
    } catch (err) {
      dbProblem = `the advisory database cannot be read (${(err as Error).message}); run \`vigil db migrate\` and \`vigil db import\``;
    }
  }

  let report: ScanReport;
  try {
    const files = await osPackageFiles(input.root);
    report = await scanFiles(
      files,
      { name: input.root, kind: 'rootfs', digest: '' },
      {
        cluster: input.asset.cluster,
        // The engine names its findings' asset after an image reference; onNode() moves them to the node.
        reference: `node:${input.asset.node}`,
        // Without usable advisory data the packages are listed against an empty store; nothing is matched.
        advisories: db && !dbProblem && input.advisories ? input.advisories : NO_ADVISORIES,
        ...(input.clock ? { clock: input.clock } : {}),
      },
    );
  } catch (err) {
    if (!(err instanceof PackageFileError)) throw err;
    // An unreadable database is an error result naming the file: never a pass, never "no packages".
    return {
      scan: notTested(err.message),
      check: result(CheckStatus.ERROR, {
        field: DATABASE_FILES,
        expected: 'readable OS package databases',
        actual: 'unreadable',
        reason: err.message,
      }),
      packages: [],
      findings: [],
      units: [],
    };
  }

  const packages = installedPackages(report);
  const databases = [...new Set(report.packages.map((p) => `/${p.location}`))].sort();
  const distro = report.target.distro ?? '';
  const seen = { databases, distro, packages: packages.length };
  const unmatchedUnits = report.units.filter((u) => u.id !== MATCHER_UNIT.id);
  if (report.packages.filter((p) => OS_PACKAGE_ANALYZERS.has(p.foundBy.id)).length === 0)
    return {
      scan: notTested(
        `no dpkg, apk or rpm package database under ${input.root} (${DATABASE_FILES}): the node's packages cannot be listed, so their vulnerabilities are not tested`,
        seen,
      ),
      packages,
      findings: [],
      units: unmatchedUnits,
      ...osImage(report),
    };
  if (dbProblem)
    return {
      scan: notTested(dbProblem, seen),
      packages,
      findings: [],
      units: unmatchedUnits,
      ...osImage(report),
    };

  const findings = report.findings.map((f) => onNode(f, input.asset));
  const vulnerable = new Set(findings.map((f) => f.package?.purl ?? ''));
  const scan = create(HostPackageScanSchema, {
    tested: true,
    ...seen,
    vulnerablePackages: findings.length ? vulnerable.size : 0,
    findings: findings.length,
    advisoryDbBuild: db?.build ?? '',
    advisoryRecords: BigInt(db?.records ?? 0),
    ...(db?.updatedAt ? { advisoryDbUpdatedAt: timestampFromDate(db.updatedAt) } : {}),
  });
  const field = databases.join(', ');
  const on = distro ? ` on ${distro}` : '';
  const evidence = {
    packages: String(packages.length),
    'advisory-db-build': db?.build ?? '',
    'advisory-db-records': String(db?.records ?? 0),
    ...(db?.updatedAt ? { 'advisory-db-updated-at': db.updatedAt.toISOString() } : {}),
    findings: String(findings.length),
  };
  if (findings.length === 0)
    return {
      scan,
      check: result(CheckStatus.PASS, {
        field,
        actual: `0 of ${packages.length} packages${on} have a known vulnerability (${db?.records ?? 0} advisory records)`,
        evidence,
      }),
      packages,
      findings,
      units: report.units,
      ...osImage(report),
    };
  const worst = findings.reduce(
    (w, f) => (rank(f.severity) > rank(w) ? f.severity : w),
    Severity.UNSPECIFIED,
  );
  const named = findings
    .slice()
    .sort((a, b) => rank(b.severity) - rank(a.severity) || (a.ruleId < b.ruleId ? -1 : 1))
    .slice(0, MAX_NAMED_FINDINGS)
    .map(
      (f) =>
        `${f.ruleId} ${f.package?.name} ${f.package?.version}${f.package?.fixedVersion ? ` (fixed in ${f.package.fixedVersion})` : ''}`,
    );
  const count = `${findings.length} ${findings.length === 1 ? 'vulnerability' : 'vulnerabilities'}`;
  return {
    scan,
    check: result(CheckStatus.FAIL, {
      severity: worst,
      field,
      actual: `${count} in ${vulnerable.size} of ${packages.length} packages${on}: ${named.join('; ')}${findings.length > named.length ? '; …' : ''}`,
      evidence,
    }),
    packages,
    findings,
    units: report.units,
    ...osImage(report),
  };
}

const NO_ADVISORIES: AdvisoryStore = {
  lookup: () => Promise.resolve([]),
  info: () => Promise.resolve({ build: '', records: 0, sources: [] }),
};

function osImage(report: ScanReport): { osImage?: string } {
  const name = report.os?.pretty_name ?? report.target.distro;
  return name ? { osImage: name } : {};
}

function rank(s: Severity): number {
  return [Severity.UNSPECIFIED, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL].indexOf(s);
}

// The image engine's finding, moved onto the node: host source, node asset, and the id recomputed from them, so
// the same vulnerable package on two nodes (or in an image) is three findings.
function onNode(f: Finding, asset: Asset): Finding {
  const location =
    f.evidence.find((e) => e.key === 'package-identity')?.value ??
    f.locations.at(-1) ??
    f.package?.purl ??
    '';
  return create(FindingSchema, {
    ...f,
    id: findingId({ source: FindingSource.HOST, ruleId: f.ruleId, asset, location }),
    source: FindingSource.HOST,
    asset,
    evidence: [
      ...f.evidence,
      create(EvidenceSchema, { key: 'host-package-check', value: HOST_PACKAGE_CHECK.id }),
    ],
  });
}

function installedPackages(report: ScanReport): InstalledPackage[] {
  return report.packages.map((p) =>
    create(InstalledPackageSchema, {
      package: {
        ecosystem: purlType(p.purl),
        name: p.name,
        version: p.version,
        purl: p.purl,
        sourceName: p.sourceName && p.sourceName !== p.name ? p.sourceName : '',
        sourceVersion: p.sourceVersion && p.sourceVersion !== p.version ? p.sourceVersion : '',
      },
      // The database first, then the installed files (capped: some packages list thousands).
      locations: [
        `/${p.location}`,
        ...p.installedFiles.slice(0, MAX_LISTED_FILES).map((f) => (f.startsWith('/') ? f : `/${f}`)),
      ],
      foundBy: p.foundBy,
    }),
  );
}
