import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CheckStatus,
  FindingSource,
  HostCheckResultSchema,
  HostPackageScanSchema,
  InstalledPackageSchema,
  ScanRequestedSchema,
  ScanStatus,
  ScannerKind,
  TargetKind,
  create,
  fromJson,
  type Finding,
  type JsonValue,
  type ScanRequested,
} from '@vigil/contracts';
import { HOST_CHECKS, materializeFixture } from '@vigil/host-assess';
import { MemoryAdvisoryStore, parseOsvRecord } from '@vigil/image-scan';
import { assertKnownRequirementIds } from '@vigil/pci';
import { corpusPath } from '@vigil/testing';
import {
  HOST_CHECKS_ROLE,
  HOST_PACKAGE_SCAN_ROLE,
  HOST_PACKAGE_CHECK,
  PACKAGE_LIST_ROLE,
  assessNode,
  hostAssessorEngine,
} from './index.js';

const clock = () => new Date('2026-12-01T10:00:00Z');
const RECORDS = corpusPath('image', 'advisories', 'records');
const BIONIC_STATUS = corpusPath(
  'image',
  'ospkg',
  'dpkg-ubuntu-bionic-full',
  'rootfs',
  'var',
  'lib',
  'dpkg',
  'status',
);

function request(rootPath: string, node: string): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId: 'scan-pk',
    scanner: ScannerKind.HOST,
    scope: { cluster: 'payments-prod' },
    target: { kind: TargetKind.NODE, key: node, ref: { case: 'node', value: { node, rootPath } } },
  });
}

function store(files: string[]): MemoryAdvisoryStore {
  const s = new MemoryAdvisoryStore(clock);
  s.add(
    files.map((f) => parseOsvRecord(JSON.parse(readFileSync(join(RECORDS, f), 'utf8')), f)),
    'corpus',
  );
  return s;
}

/** A worker node fixture whose OS is the corpus's Ubuntu 18.04 dpkg database. */
function bionicWorker(): string {
  const { root } = materializeFixture(corpusPath('host', 'fixtures', 'kubeadm-worker-defaults'));
  mkdirSync(join(root, 'var/lib/dpkg'), { recursive: true });
  copyFileSync(BIONIC_STATUS, join(root, 'var/lib/dpkg/status'));
  // The dpkg fixture carries no os-release; its README names the release (Ubuntu 18.04 bionic).
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(
    join(root, 'usr/lib/os-release'),
    'NAME="Ubuntu"\nID=ubuntu\nVERSION_ID="18.04"\nVERSION_CODENAME=bionic\nPRETTY_NAME="Ubuntu 18.04.6 LTS"\n',
  );
  return root;
}

function blobStore() {
  const blobs = new Map<string, Uint8Array>();
  return {
    blobs,
    putBlob: (content: Uint8Array) => {
      const digest = `sha256:${blobs.size}`;
      blobs.set(digest, content);
      return Promise.resolve(digest);
    },
  };
}

test("the node's dpkg packages are matched by source package: findings on the node with package, fix and PCI ids", async () => {
  const root = bionicWorker();
  try {
    const { blobs, putBlob } = blobStore();
    const engine = hostAssessorEngine({
      advisories: store(['USN-5355-1.json', 'USN-5378-1.json']),
      putBlob,
      clock,
    });
    const result = await engine.scan(request(root, 'worker-7'));
    assert.equal(result.status, ScanStatus.OK, result.error);
    const findings = (result.events ?? []).flatMap((e) =>
      e.payload.case === 'findingReported' && e.payload.value?.finding?.package
        ? [e.payload.value.finding as Finding]
        : [],
    );
    // expected.json of match-ubuntu-bionic-dpkg: zlib1g is affected by USN-5355-1, gzip by USN-5378-1; the matcher
    // reports each under its CVE with the notice as an alias.
    const zlib = findings.find((f) => f.aliases.includes('USN-5355-1'));
    assert.ok(zlib, 'USN-5355-1 on zlib1g');
    assert.equal(zlib.ruleId, 'CVE-2018-25032');
    assert.equal(zlib.source, FindingSource.HOST);
    assert.equal(zlib.asset?.node, 'worker-7');
    assert.equal(zlib.asset?.cluster, 'payments-prod');
    assert.equal(zlib.package?.name, 'zlib1g');
    assert.equal(zlib.package?.sourceName, 'zlib');
    assert.equal(zlib.package?.version, '1:1.2.11.dfsg-0ubuntu2');
    assert.equal(zlib.package?.fixedVersion, '1:1.2.11.dfsg-0ubuntu2.1');
    assert.ok(zlib.locations.includes('/var/lib/dpkg/status'));
    assert.ok(zlib.pciRequirements.includes('6.3.1') && zlib.pciRequirements.includes('11.3.1'));
    assertKnownRequirementIds(zlib.pciRequirements, 'host package finding');
    assert.ok(findings.some((f) => f.aliases.includes('USN-5378-1') && f.package?.name === 'gzip'));
    assert.equal(findings.length, 2);
    assert.equal(
      new Set(findings.map((f) => f.id)).size,
      findings.length,
      'finding ids are distinct per package',
    );
    // The check results and package list travel as blobs; the package check fails and names what it found.
    const blob = (role: string) => {
      const ref = result.blobs?.find((b) => b.role === role);
      assert.ok(ref, `blob ${role}`);
      return JSON.parse(new TextDecoder().decode(blobs.get(ref.digest))) as JsonValue[];
    };
    const checks = blob(HOST_CHECKS_ROLE).map((c) => fromJson(HostCheckResultSchema, c));
    assert.equal(checks.length, HOST_CHECKS.length + 1);
    const pkg = checks.find((c) => c.id === HOST_PACKAGE_CHECK.id);
    assert.equal(pkg?.status, CheckStatus.FAIL);
    assert.equal(pkg?.field, '/var/lib/dpkg/status');
    assert.match(pkg?.actual ?? '', /^2 vulnerabilities in 2 of 90 packages on ubuntu 18\.04: /);
    assert.match(
      pkg?.actual ?? '',
      /CVE-2018-25032 zlib1g 1:1\.2\.11\.dfsg-0ubuntu2 \(fixed in 1:1\.2\.11\.dfsg-0ubuntu2\.1\)/,
    );
    const scanned = fromJson(HostPackageScanSchema, blob(HOST_PACKAGE_SCAN_ROLE) as unknown as JsonValue);
    assert.equal(scanned.tested, true);
    assert.equal(scanned.vulnerablePackages, 2);
    assert.equal(scanned.advisoryRecords, 2n);
    const packages = blob(PACKAGE_LIST_ROLE).map((p) => fromJson(InstalledPackageSchema, p));
    // 91 stanzas, one of them "deinstall ok config-files" (expected.json of the dpkg fixture).
    assert.equal(packages.length, 90);
    assert.ok(packages.some((p) => p.package?.name === 'gzip' && p.package.version === '1.6-5ubuntu1'));
    const cis = checks.find((c) => c.id === 'kubelet.anonymous-auth-disabled');
    assert.equal(cis?.cis, '4.2.1');
    const node = (result.events ?? []).find((e) => e.payload.case === 'inventoryObserved');
    const item =
      node?.payload.case === 'inventoryObserved' ? node.payload.value?.items?.[0]?.item : undefined;
    assert.equal(item?.case, 'node');
    assert.equal(item?.case === 'node' ? item.value.osImage : '', 'Ubuntu 18.04.6 LTS');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('without an advisory database the packages are not tested, with the reason, and the packages are still listed', async () => {
  const root = bionicWorker();
  try {
    const none = await assessNode({
      root,
      node: 'w',
      advisories: null,
      missingReason: 'no DATABASE_URL',
      clock,
    });
    assert.equal(none.packages.scan.tested, false);
    assert.equal(none.packages.scan.reason, 'no DATABASE_URL');
    assert.deepEqual(none.packages.scan.databases, ['/var/lib/dpkg/status']);
    assert.equal(none.packages.scan.packages, 90);
    assert.equal(none.packages.scan.distro, 'ubuntu 18.04');
    assert.equal(none.packages.check, undefined, 'no pass or fail for a check that did not run');
    assert.equal(none.packages.packages.length, 90);
    assert.equal(none.packages.findings.length, 0);
    assert.equal(
      none.checks.some((c) => c.id === HOST_PACKAGE_CHECK.id),
      false,
    );

    const empty = await assessNode({ root, node: 'w', advisories: new MemoryAdvisoryStore(clock), clock });
    assert.equal(empty.packages.scan.tested, false);
    assert.match(
      empty.packages.scan.reason,
      /advisory database has no records: load one with `vigil db import/,
    );

    // The engine without sql: the scan is ok (the host checks ran), no package finding, the reason in the blob.
    const { blobs, putBlob } = blobStore();
    const result = await hostAssessorEngine({ advisories: null, putBlob, clock }).scan(request(root, 'w'));
    assert.equal(result.status, ScanStatus.OK);
    assert.equal(
      (result.events ?? []).some(
        (e) => e.payload.case === 'findingReported' && e.payload.value?.finding?.package,
      ),
      false,
    );
    assert.equal(
      result.units?.some((u) => u.id === 'osv-matcher' || u.id === HOST_PACKAGE_CHECK.id),
      false,
      'neither the matcher nor the package check is listed as having run',
    );
    const ref = result.blobs?.find((b) => b.role === HOST_PACKAGE_SCAN_ROLE);
    assert.ok(ref, 'the package scan is stored');
    const stored = fromJson(
      HostPackageScanSchema,
      JSON.parse(new TextDecoder().decode(blobs.get(ref.digest))) as JsonValue,
    );
    assert.equal(stored.tested, false);
    assert.match(stored.reason, /the host-assessor has no DATABASE_URL/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a node without any package database: not tested, naming the databases looked for', async () => {
  const { root } = materializeFixture(corpusPath('host', 'fixtures', 'hardway-worker'));
  try {
    const a = await assessNode({ root, node: 'w', advisories: store(['USN-5355-1.json']), clock });
    assert.equal(a.packages.scan.tested, false);
    assert.equal(a.packages.check, undefined);
    assert.match(
      a.packages.scan.reason,
      /no dpkg, apk or rpm package database under .*var\/lib\/dpkg\/status/,
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('an unreadable dpkg status (a FIFO) is an error result naming the file, never a pass', async () => {
  const root = bionicWorker();
  try {
    rmSync(join(root, 'var/lib/dpkg/status'));
    // Root reads mode-000 files, so the unreadable database is a FIFO (a plain read would block forever).
    execFileSync('mkfifo', [join(root, 'var/lib/dpkg/status')]);
    const a = await assessNode({ root, node: 'w', advisories: store(['USN-5355-1.json']), clock });
    assert.equal(a.packages.check?.status, CheckStatus.ERROR);
    assert.equal(a.packages.check?.reason, 'cannot read /var/lib/dpkg/status: not a regular file');
    assert.equal(a.packages.scan.tested, false);
    assert.equal(a.packages.packages.length, 0);
    assert.equal(a.packages.findings.length, 0);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test("this machine's own /: its real dpkg packages (as dpkg-query lists them) and its real settings, without error", async () => {
  const all = readdirSync(RECORDS).filter((f) => f.endsWith('.json'));
  const a = await assessNode({ root: '/', node: 'this-machine', advisories: store(all) });
  const real = execFileSync('dpkg-query', ['-W', '-f', '${Package} ${Version} ${db:Status-Abbrev}\\n'], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter((l) => /\s[ih]i\s*$/.test(l))
    .map((l) => l.split(' ').slice(0, 2).join(' '))
    .sort();
  const ours = a.packages.packages.map((p) => `${p.package?.name} ${p.package?.version}`).sort();
  assert.deepEqual([...new Set(ours)], [...new Set(real)]);
  assert.ok(real.length > 100, `dpkg-query lists ${real.length} packages`);
  assert.equal(a.packages.scan.tested, true, a.packages.scan.reason);
  assert.equal(a.packages.scan.packages, real.length);
  assert.ok(a.packages.check && [CheckStatus.PASS, CheckStatus.FAIL].includes(a.packages.check.status));
  assert.equal(a.packages.check.status === CheckStatus.FAIL, a.packages.findings.length > 0);
  // Installed files come from dpkg's info/*.list: dpkg itself installed /usr/bin/dpkg.
  const dpkg = a.packages.packages.find((p) => p.package?.name === 'dpkg');
  assert.equal(dpkg?.locations[0], '/var/lib/dpkg/status');
  assert.ok(dpkg?.locations.includes('/usr/bin/dpkg'), 'dpkg lists /usr/bin/dpkg');
  for (const f of a.packages.findings) assert.ok(real.includes(`${f.package?.name} ${f.package?.version}`));
  for (const c of a.assessment.checks.filter((r) => r.status === 'error'))
    assert.match(c.reason ?? '', /cannot (read|stat|list) \//, c.id);
  const sshd = a.assessment.checks.find((c) => c.id === 'ssh.root-login-disabled');
  assert.ok(sshd && sshd.status !== 'error');
});
