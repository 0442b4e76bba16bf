// The rpm analyzer against real sqlite rpmdbs: tiny packages built with rpmbuild and installed with rpm (Debian's
// rpm package, 4.18) into temporary roots, compared with what `rpm -qa` itself reads from the same database.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import initSqlJs from 'sql.js';
import { type FileEntry, MalformedInputError, UnsupportedInputError } from './analyzer.js';
import { extractPackages } from './extract.js';
import { isWanted } from './registry.js';
import { parseSourceRpm, rpmEcosystem } from './rpm.analyzer.js';

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

function requireRpm(): void {
  for (const tool of ['rpm', 'rpmbuild']) {
    const r = spawnSync(tool, ['--version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0)
      throw new Error(
        `${tool} is needed to build the rpmdb fixtures of this test: install Debian's rpm package (apt-get install rpm)`,
      );
  }
}

const SPECS: Record<string, string> = {
  // An epoch, a vendor, two licenses and files two directories deep.
  'epoch.spec': `Name: vigil-epoch
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: epoch fixture
License: MIT and BSD
Vendor: Vigil Test
%description
epoch fixture
%install
mkdir -p %{buildroot}/usr/lib/vigil/nested/deep
echo deep > %{buildroot}/usr/lib/vigil/nested/deep/file.txt
echo top > %{buildroot}/usr/lib/vigil/top.txt
%files
/usr/lib/vigil
`,
  'noarch.spec': `Name: vigil-noarch
Version: 0.9
Release: 1.el9
Summary: noarch fixture
License: GPL-2.0-or-later
BuildArch: noarch
%description
noarch fixture
%install
mkdir -p %{buildroot}/etc/vigil
echo conf > %{buildroot}/etc/vigil/noarch.conf
%files
%config /etc/vigil/noarch.conf
`,
  // A binary package whose source package has another name, from a module stream.
  'module.spec': `Name: vigil-src
Version: 1.0
Release: 3.el9_2
Summary: module fixture
License: Apache-2.0
%description
module fixture
%package -n vigil-sub
Summary: sub
%description -n vigil-sub
sub
%install
mkdir -p %{buildroot}/usr/share/vigil-sub
echo a > %{buildroot}/usr/share/vigil-sub/a
%files -n vigil-sub
/usr/share/vigil-sub/a
`,
};

interface Expected {
  name: string;
  epoch: number | undefined;
  version: string;
  release: string;
  arch: string;
  sourceRpm: string;
  license: string;
  modularityLabel: string | undefined;
  files: string[];
}

/** What rpm itself reads from the database. */
function rpmQuery(root: string, dbpath: string): Expected[] {
  const out = run('rpm', [
    '--root',
    root,
    '--dbpath',
    dbpath,
    '--define',
    '_db_backend sqlite',
    '-qa',
    '--qf',
    '@@%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\t%{LICENSE}\\t%{MODULARITYLABEL}\\n[%{FILENAMES}\\n]',
  ]);
  return out
    .split('@@')
    .filter((r) => r.trim() !== '')
    .map((rec) => {
      const [head, ...files] = rec.split('\n').filter((l) => l !== '');
      const [name, epoch, version, release, arch, sourceRpm, license, label] = head!.split('\t');
      return {
        name: name!,
        epoch: epoch === '(none)' ? undefined : Number(epoch),
        version: version!,
        release: release!,
        arch: arch!,
        sourceRpm: sourceRpm!,
        license: license!,
        modularityLabel: label === '(none)' ? undefined : label,
        files: files.map((f) => f.replace(/^\//, '')).sort(),
      };
    })
    .filter((p) => p.name !== 'gpg-pubkey')
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function rootFiles(root: string): FileEntry[] {
  const out: FileEntry[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: relative(root, p), read: async () => new Uint8Array(readFileSync(p)) });
    }
  };
  walk(root);
  return out;
}

let work: string;
let rpms: string[];

function install(name: string, dbpath: string, osRelease: string): string {
  const root = join(work, name);
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), osRelease);
  run('rpm', [
    '--root',
    root,
    '--dbpath',
    dbpath,
    '--define',
    '_db_backend sqlite',
    '--nodeps',
    '-i',
    ...rpms,
  ]);
  return root;
}

const ROCKY = 'NAME="Rocky Linux"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.3"\n';

describe('rpm analyzer on real sqlite rpmdbs', () => {
  before(() => {
    requireRpm();
    work = mkdtempSync(join(tmpdir(), 'vigil-rpm-'));
    const top = join(work, 'rpmbuild');
    for (const [file, text] of Object.entries(SPECS)) {
      writeFileSync(join(work, file), text);
      run('rpmbuild', [
        '-bb',
        '--quiet',
        '--define',
        `_topdir ${top}`,
        '--define',
        'debug_package %{nil}',
        '--define',
        '_build_id_links none',
        ...(file === 'module.spec' ? ['--define', 'modularitylabel vigil:1:9020020230510:rhel9'] : []),
        join(work, file),
      ]);
    }
    rpms = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d)) {
        const p = join(d, e);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.rpm')) rpms.push(p);
      }
    };
    walk(join(top, 'RPMS'));
    assert.equal(rpms.length, 3, `three packages built: ${rpms.join(', ')}`);
  });
  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  for (const dbpath of ['/var/lib/rpm', '/usr/lib/sysimage/rpm']) {
    it(`reads exactly what rpm -qa reads (${dbpath})`, async () => {
      const root = install(`root${dbpath.replace(/\//g, '-')}`, dbpath, ROCKY);
      const expected = rpmQuery(root, dbpath);
      assert.equal(expected.length, 3);
      const kept = rootFiles(root).filter((f) => isWanted(f.path));
      assert.ok(
        kept.some((f) => f.path === `${dbpath.slice(1)}/rpmdb.sqlite`),
        'the database is wanted',
      );
      const { os, packages } = await extractPackages(kept);
      assert.equal(os?.id, 'rocky');
      const got = packages.filter((p) => p.foundBy.id === 'rpm').sort((a, b) => (a.name < b.name ? -1 : 1));
      assert.deepEqual(
        got.map((p) => {
          const [version, release] = p.version.replace(/^\d+:/, '').split('-');
          return {
            name: p.name,
            epoch: p.epoch,
            version: version!,
            release: release!,
            arch: p.arch!,
            sourceRpm: `${p.sourceName}-${p.sourceVersion}.src.rpm`,
            license: p.licenses?.[0] ?? '',
            modularityLabel: p.modularityLabel,
            files: [...p.installedFiles].sort(),
          };
        }),
        expected,
      );
      // Facts rpm -qa's format does not show directly.
      const epoch = got.find((p) => p.name === 'vigil-epoch')!;
      assert.equal(epoch.version, '2:1.2.3-4.el9');
      assert.equal(epoch.ecosystem, 'Rocky Linux:9');
      assert.equal(epoch.location, `${dbpath.slice(1)}/rpmdb.sqlite`);
      assert.equal(
        epoch.purl,
        `pkg:rpm/rocky-linux/vigil-epoch@1.2.3-4.el9?arch=${epoch.arch}&distro=rocky-9.3&epoch=2`,
      );
      assert.ok(epoch.installedFiles.includes('usr/lib/vigil/nested/deep/file.txt'));
      const noarch = got.find((p) => p.name === 'vigil-noarch')!;
      assert.equal(noarch.arch, 'noarch');
      assert.equal(noarch.epoch, undefined);
      assert.equal(noarch.purl, 'pkg:rpm/rocky-linux/vigil-noarch@0.9-1.el9?arch=noarch&distro=rocky-9.3');
      const sub = got.find((p) => p.name === 'vigil-sub')!;
      assert.equal(sub.sourceName, 'vigil-src');
      assert.equal(sub.sourceVersion, '1.0-3.el9_2');
      assert.equal(sub.modularityLabel, 'vigil:1:9020020230510:rhel9');
    });
  }

  it('names the database when it is truncated', async () => {
    const root = install('truncated', '/var/lib/rpm', ROCKY);
    const db = join(root, 'var/lib/rpm/rpmdb.sqlite');
    const bytes = readFileSync(db);
    writeFileSync(db, bytes.subarray(0, 4096 + 100));
    await assert.rejects(
      extractPackages(rootFiles(root).filter((f) => isWanted(f.path))),
      (e: unknown) =>
        e instanceof MalformedInputError &&
        e.path === 'var/lib/rpm/rpmdb.sqlite' &&
        /var\/lib\/rpm\/rpmdb\.sqlite: /.test(e.message),
    );
  });

  it('names the package header that is corrupt', async () => {
    const root = install('corrupt', '/var/lib/rpm', ROCKY);
    const path = join(root, 'var/lib/rpm/rpmdb.sqlite');
    const SQL = await initSqlJs();
    const db = new SQL.Database(readFileSync(path));
    // An index entry count that promises more entries than the blob holds.
    const blob = db.exec('SELECT blob FROM Packages WHERE hnum = 2')[0]!.values[0]![0] as Uint8Array;
    const broken = new Uint8Array(blob);
    new DataView(broken.buffer).setUint32(0, 5000);
    db.run('UPDATE Packages SET blob = ? WHERE hnum = 2', [broken]);
    writeFileSync(path, db.export());
    db.close();
    await assert.rejects(
      extractPackages(rootFiles(root).filter((f) => isWanted(f.path))),
      /var\/lib\/rpm\/rpmdb\.sqlite: package header 2: 5000 index entries and \d+ data bytes need \d+ bytes/,
    );
  });

  it('refuses Berkeley DB and ndb databases, saying so', async () => {
    const bdb = new Uint8Array(4096);
    new DataView(bdb.buffer).setUint32(12, 0x00061561, true);
    await assert.rejects(
      extractPackages([{ path: 'var/lib/rpm/Packages', read: async () => bdb }]),
      (e: unknown) =>
        e instanceof UnsupportedInputError &&
        /^var\/lib\/rpm\/Packages: rpm Berkeley DB database .* reads only the sqlite rpmdb/.test(e.message),
    );
    const ndb = new Uint8Array(4096);
    ndb.set(new TextEncoder().encode('RpmP'), 0);
    await assert.rejects(
      extractPackages([{ path: 'usr/lib/sysimage/rpm/Packages.db', read: async () => ndb }]),
      /usr\/lib\/sysimage\/rpm\/Packages\.db: rpm ndb database \(SUSE\)/,
    );
    await assert.rejects(
      extractPackages([{ path: 'var/lib/rpm/Packages', read: async () => new Uint8Array(64).fill(7) }]),
      /var\/lib\/rpm\/Packages: neither an sqlite, Berkeley DB nor ndb rpm database/,
    );
  });

  it('maps distributions to the OSV ecosystems the advisories use', () => {
    assert.equal(rpmEcosystem({ id: 'almalinux', version_id: '9.3' }), 'AlmaLinux:9');
    assert.equal(rpmEcosystem({ id: 'almalinux', version_id: '8.10' }), 'AlmaLinux:8');
    assert.equal(rpmEcosystem({ id: 'rocky', version_id: '8.9' }), 'Rocky Linux:8');
    assert.equal(rpmEcosystem({ id: 'rhel', version_id: '9.2' }), 'Red Hat');
    assert.equal(rpmEcosystem({ id: 'amzn', version_id: '2023' }), 'Amazon Linux:2023');
    assert.equal(rpmEcosystem({ id: 'opensuse-leap', version_id: '15.5' }), 'openSUSE:Leap 15.5');
    assert.equal(rpmEcosystem({ id: 'sles', version_id: '15.5' }), 'SUSE:Linux Enterprise Server 15 SP5');
    assert.equal(rpmEcosystem(null), 'rpm');
  });

  it('splits source rpm file names', () => {
    assert.deepEqual(parseSourceRpm('openssl-3.0.7-27.el9.src.rpm'), {
      name: 'openssl',
      version: '3.0.7-27.el9',
    });
    assert.deepEqual(parseSourceRpm('python3.11-3.11.5-1.el9_3.src.rpm'), {
      name: 'python3.11',
      version: '3.11.5-1.el9_3',
    });
    assert.deepEqual(parseSourceRpm('kernel-5.14.0-362.8.1.el9_3.nosrc.rpm'), {
      name: 'kernel',
      version: '5.14.0-362.8.1.el9_3',
    });
    assert.equal(parseSourceRpm('(none)'), undefined);
  });
});
