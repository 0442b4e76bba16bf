// What the corpus lacks: multi-arch .list files, purls with epoch and upstream, malformed databases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FileEntry } from './analyzer.js';
import { extractPackages } from './extract.js';
import { analyzers, isWanted } from './registry.js';

const file = (path: string, text: string): FileEntry => ({
  path,
  read: async () => new TextEncoder().encode(text),
});

const STATUS = `Package: libssl3
Status: install ok installed
Architecture: amd64
Multi-Arch: same
Source: openssl
Version: 3.0.11-1~deb12u1

Package: util-linux-extra
Status: install ok installed
Architecture: amd64
Source: util-linux (2.38.1-5)
Version: 2.38.1-5+b1

Package: attr
Status: install ok installed
Architecture: amd64
Version: 1:2.5.1-4

Package: old
Status: deinstall ok config-files
Architecture: amd64
Version: 1.0
`;

describe('dpkg analyzer', () => {
  it('reads source, epoch, arch, purl and multi-arch file lists', async () => {
    const { os, packages } = await extractPackages([
      file('/etc/os-release', 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n'),
      file('var/lib/dpkg/status', STATUS),
      file('var/lib/dpkg/info/libssl3:amd64.list', '/.\n/usr\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n'),
    ]);
    assert.equal(os?.version_codename, 'bookworm');
    assert.deepEqual(
      packages.map((p) => [p.ecosystem, p.name, p.version, p.sourceName, p.sourceVersion, p.epoch]),
      [
        ['Debian:12', 'libssl3', '3.0.11-1~deb12u1', 'openssl', '3.0.11-1~deb12u1', 0],
        ['Debian:12', 'util-linux-extra', '2.38.1-5+b1', 'util-linux', '2.38.1-5', 0],
        ['Debian:12', 'attr', '1:2.5.1-4', 'attr', '1:2.5.1-4', 1],
      ],
    );
    assert.deepEqual(packages[0]!.installedFiles, ['usr', 'usr/lib/x86_64-linux-gnu/libssl.so.3']);
    assert.equal(
      packages[0]!.purl,
      'pkg:deb/debian/libssl3@3.0.11-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl',
    );
    assert.equal(
      packages[1]!.purl,
      'pkg:deb/debian/util-linux-extra@2.38.1-5%2Bb1?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5',
    );
    assert.equal(packages[2]!.purl, 'pkg:deb/debian/attr@1%3A2.5.1-4?arch=amd64&distro=debian-12');
    assert.equal(packages[2]!.location, 'var/lib/dpkg/status');
    assert.deepEqual(packages[2]!.lines, [14, 17]);
  });
  it('names the file and the package for a version dpkg cannot read', async () => {
    await assert.rejects(
      extractPackages([
        file('var/lib/dpkg/status', 'Package: x\nStatus: install ok installed\nVersion: a:1\n'),
      ]),
      /var\/lib\/dpkg\/status: package x: invalid dpkg version "a:1": epoch "a" is not a number/,
    );
  });
});

describe('apk analyzer', () => {
  it('maps Alpine 3.18.0 to Alpine:v3.18 and keeps the origin', async () => {
    const { packages } = await extractPackages([
      file('etc/alpine-release', '3.18.0\n'),
      file(
        'lib/apk/db/installed',
        'P:libssl3\nV:3.1.0-r4\nA:x86_64\no:openssl\nF:lib\nR:libssl.so.3\n\nP:noversion\n',
      ),
    ]);
    assert.equal(packages.length, 1);
    assert.equal(packages[0]!.ecosystem, 'Alpine:v3.18');
    assert.equal(packages[0]!.sourceName, 'openssl');
    assert.deepEqual(packages[0]!.installedFiles, ['lib/libssl.so.3']);
    assert.equal(packages[0]!.purl, 'pkg:apk/alpine/libssl3@3.1.0-r4?arch=x86_64&distro=alpine-3.18.0');
  });
  it('names the file and line of a malformed record', async () => {
    await assert.rejects(
      extractPackages([file('lib/apk/db/installed', 'P:x\ngarbage\n')]),
      /lib\/apk\/db\/installed: line 2: expected "X:value"/,
    );
  });
});

describe('analyzer registry', () => {
  it('has unique kebab-case ids with integer versions and a path predicate', () => {
    const ids = analyzers.map((a) => a.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const a of analyzers) {
      assert.match(a.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
      assert.ok(Number.isInteger(a.version) && a.version > 0);
    }
    assert.equal(isWanted('var/lib/dpkg/status'), true);
    assert.equal(isWanted('var/lib/dpkg/info/libc6:amd64.list'), true);
    assert.equal(isWanted('usr/bin/bash'), false);
  });
});

describe('OSV ecosystem of a release', () => {
  it('marks Ubuntu LTS releases as OSV does', async () => {
    const { osvEcosystem } = await import('./os-release.analyzer.js');
    assert.equal(osvEcosystem({ id: 'ubuntu', version_id: '22.04' }, 'Ubuntu'), 'Ubuntu:22.04:LTS');
    assert.equal(osvEcosystem({ id: 'ubuntu', version_id: '23.10' }, 'Ubuntu'), 'Ubuntu:23.10');
    assert.equal(osvEcosystem({ id: 'debian', version_id: '12.5' }, 'Debian'), 'Debian:12');
    assert.equal(osvEcosystem({ id: 'alpine', version_id: '3.19.1' }, 'Alpine'), 'Alpine:v3.19');
  });
});
