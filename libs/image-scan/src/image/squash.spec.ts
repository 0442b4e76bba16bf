// Layer semantics on images written by writeTestImage: upgrades and per-layer history, whiteouts, opaque
// directories, symlinked directories (including links that stream by after the file), hardlinks, and the dpkg and
// apk analyzers reading the squashed files of images built from the corpus's package databases.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestImageSpec, corpusPath, writeTestImage } from '@vigil/testing';
import type { ExtractedPackage } from '../analyzers/analyzer.js';
import { extractPackages } from '../analyzers/extract.js';
import { isWanted } from '../analyzers/registry.js';
import { openImage } from './open-image.js';
import { type SquashOptions, type SquashedImage, squashImage } from './squash.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-squash-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function squash(
  spec: Omit<TestImageSpec, 'format'> & { format?: TestImageSpec['format'] },
  options?: Partial<SquashOptions>,
) {
  const format = spec.format ?? 'oci-layout';
  const out = join(dir, `img-${n++}${format === 'oci-layout' ? '' : '.tar'}`);
  await writeTestImage(out, { ...spec, format });
  const source = await openImage(out);
  try {
    return await squashImage(source, { wanted: () => true, ...options });
  } finally {
    await source.close();
  }
}

const text = async (s: SquashedImage, path: string) => {
  const f = s.file(path);
  return f ? Buffer.from(await f.read()).toString('utf8') : undefined;
};

const dpkgStatus = readFileSync(
  corpusPath('image', 'ospkg', 'dpkg-debian-bookworm', 'rootfs', 'var', 'lib', 'dpkg', 'status'),
  'utf8',
);
const debianRelease = readFileSync(
  corpusPath('image', 'ospkg', 'dpkg-debian-bookworm', 'rootfs', 'etc', 'os-release'),
  'utf8',
);
const apkInstalled = readFileSync(
  corpusPath('image', 'ospkg', 'apk-alpine318', 'rootfs', 'lib', 'apk', 'db', 'installed'),
  'utf8',
);
const alpineRelease = readFileSync(
  corpusPath('image', 'ospkg', 'apk-alpine318', 'rootfs', 'etc', 'os-release'),
  'utf8',
);

/** The layer that first recorded each package at its visible version: the lowest version of the database with it. */
async function attribute(
  s: SquashedImage,
  db: string,
  packages: ExtractedPackage[],
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const versions = s.history(db);
  for (const version of versions) {
    const { packages: there } = await extractPackages([...s.files.filter((f) => f.path !== db), version]);
    for (const p of packages) {
      if (!out.has(p.name) && there.some((q) => q.name === p.name && q.version === p.version))
        out.set(p.name, version.layer);
    }
  }
  return out;
}

describe('squashImage', () => {
  it('dpkg: a package upgraded in a later layer is attributed to that layer, the others to the first', async () => {
    const upgraded = dpkgStatus.replace(/(Package: acl\n(?:.+\n)*?Version: )2\.3\.1-3/, '$12.3.1-4');
    assert.notEqual(upgraded, dpkgStatus);
    const s = await squash(
      {
        layers: [
          {
            createdBy: 'ADD rootfs.tar.xz /',
            files: [
              // Debian's own layout: etc/os-release is a link into usr/lib.
              { path: 'usr/lib/os-release', content: debianRelease },
              { path: 'etc/os-release', type: 'symlink', linkTarget: '../usr/lib/os-release' },
              { path: 'var/lib/dpkg/status', content: dpkgStatus },
              { path: 'usr/share/doc/big.txt', content: 'x'.repeat(100_000) },
            ],
          },
          {
            createdBy: 'RUN apt-get install acl',
            compression: 'zstd',
            files: [{ path: 'var/lib/dpkg/status', content: upgraded }],
          },
        ],
      },
      { wanted: isWanted },
    );
    assert.deepEqual(
      s.files.map((f) => [f.path, f.layer]),
      [
        ['etc/os-release', 0],
        ['usr/lib/os-release', 0],
        ['var/lib/dpkg/status', 1],
      ],
    );
    assert.equal(s.file('etc/os-release')?.realPath, 'usr/lib/os-release');
    assert.equal(s.file('usr/share/doc/big.txt'), undefined, 'unwanted files are not kept');
    assert.deepEqual(
      s.history('var/lib/dpkg/status').map((f) => f.layer),
      [0, 1],
    );
    assert.equal(s.layers[1]?.createdBy, 'RUN apt-get install acl');
    const { os, packages } = await extractPackages(s.files);
    assert.equal(os?.id, 'debian');
    assert.equal(packages.length, 7);
    assert.equal(packages.find((p) => p.name === 'acl')?.version, '2.3.1-4');
    assert.ok(packages.every((p) => p.ecosystem === 'Debian:12'));
    const layers = await attribute(s, 'var/lib/dpkg/status', packages);
    assert.equal(layers.get('acl'), 1);
    assert.equal(layers.get('adduser'), 0);
    assert.equal(layers.get('libacl1'), 0);
    assert.equal(layers.size, 7);
  });

  for (const order of ['link first', 'file first', 'link in a later layer'] as const) {
    it(`apk through a symlinked lib dir (${order})`, async () => {
      const link = { path: 'lib', type: 'symlink' as const, linkTarget: 'usr/lib' };
      const db = { path: 'usr/lib/apk/db/installed', content: apkInstalled };
      const release = { path: 'etc/os-release', content: alpineRelease };
      const layers =
        order === 'link first'
          ? [{ files: [link, db, release] }]
          : order === 'file first'
            ? [{ files: [release, db, link] }]
            : [{ files: [release, db] }, { files: [link] }];
      const s = await squash({ layers, format: 'docker-archive' }, { wanted: isWanted });
      assert.equal(s.file('lib/apk/db/installed')?.realPath, 'usr/lib/apk/db/installed');
      const { os, packages } = await extractPackages(s.files);
      assert.equal(os?.version_id, '3.18.0');
      assert.equal(packages.length, 15);
      assert.ok(packages.every((p) => p.location === 'lib/apk/db/installed'));
    });
  }

  it('writes an entry under a symlinked directory into the link target, as docker does', async () => {
    const s = await squash({
      layers: [
        {
          files: [
            { path: 'usr/lib/', type: 'dir' },
            { path: 'lib', type: 'symlink', linkTarget: '/usr/lib' },
          ],
        },
        { files: [{ path: 'lib/libz.so.1', content: 'zlib' }] },
      ],
    });
    assert.equal(await text(s, 'usr/lib/libz.so.1'), 'zlib');
    assert.equal(s.file('lib/libz.so.1')?.realPath, 'usr/lib/libz.so.1');
  });

  it('whiteouts remove files and whole directories; a file made again starts a new history', async () => {
    const s = await squash({
      layers: [
        {
          files: [
            { path: 'etc/a', content: 'a1' },
            { path: 'etc/b', content: 'b1' },
            { path: 'opt/app/x', content: 'x' },
            { path: 'opt/app/sub/y', content: 'y' },
          ],
        },
        {
          compression: 'none',
          files: [{ path: 'etc/.wh.a' }, { path: 'opt/.wh.app' }, { path: 'etc/b', content: 'b2' }],
        },
        { files: [{ path: 'etc/a', content: 'a3' }] },
      ],
    });
    assert.equal(await text(s, 'etc/a'), 'a3');
    assert.deepEqual(
      s.history('etc/a').map((f) => f.layer),
      [2],
    );
    assert.deepEqual(
      s.history('etc/b').map((f) => f.layer),
      [0, 1],
    );
    assert.equal(s.file('opt/app/x'), undefined);
    assert.equal(s.file('opt/app/sub/y'), undefined);
    assert.deepEqual(
      s.files.map((f) => f.path),
      ['etc/a', 'etc/b'],
    );
    assert.equal(s.entriesSeen, 4 + 3 + 1);
  });

  it('an opaque directory hides what lower layers had in it, whatever the entry order', async () => {
    for (const markerFirst of [true, false]) {
      const marker = { path: 'srv/data/.wh..wh..opq' };
      const fresh = { path: 'srv/data/new', content: 'new' };
      const s = await squash({
        layers: [
          {
            files: [
              { path: 'srv/data/old', content: 'old' },
              { path: 'srv/keep', content: 'keep' },
            ],
          },
          { files: markerFirst ? [marker, fresh] : [fresh, marker] },
        ],
      });
      assert.deepEqual(
        s.files.map((f) => f.path),
        ['srv/data/new', 'srv/keep'],
      );
    }
  });

  it('a whiteout then a directory of the same name in one layer replaces the lower directory', async () => {
    const s = await squash({
      layers: [
        { files: [{ path: 'd/old', content: 'old' }] },
        { files: [{ path: '.wh.d' }, { path: 'd/', type: 'dir' }, { path: 'd/new', content: 'new' }] },
      ],
    });
    assert.deepEqual(
      s.files.map((f) => f.path),
      ['d/new'],
    );
  });

  it('hardlinks share their target bytes, kept even when only the link is wanted', async () => {
    const s = await squash(
      {
        layers: [
          {
            files: [
              { path: 'usr/bin/tool', content: 'binary', mode: 0o755 },
              { path: 'app/package.json', type: 'hardlink', linkTarget: 'usr/bin/tool' },
            ],
          },
        ],
      },
      { wanted: (p) => p === 'app/package.json' },
    );
    const f = s.file('app/package.json');
    assert.equal(f?.mode, 0o755);
    assert.equal(f ? Buffer.from(await f.read()).toString() : undefined, 'binary');
    assert.deepEqual(
      s.files.map((x) => x.path),
      ['app/package.json'],
    );
  });

  it('limits the layers applied (the filesystem after layer N)', async () => {
    const spec = {
      layers: [{ files: [{ path: 'v', content: '0' }] }, { files: [{ path: 'v', content: '1' }] }],
    };
    assert.equal(await text(await squash(spec, { layerCount: 1 }), 'v'), '0');
    assert.equal(await text(await squash(spec), 'v'), '1');
  });

  it('normalizes absolute entry names to the image root, as docker does', async () => {
    const s = await squash({
      layers: [
        {
          files: [
            { path: '/etc/hostname', content: 'h' },
            { path: './etc/./x/../y', content: 'y' },
          ],
        },
      ],
    });
    assert.deepEqual(
      s.files.map((f) => f.path),
      ['etc/hostname', 'etc/y'],
    );
  });

  it('reads long names and link targets (pax headers)', async () => {
    const deep = `${'d'.repeat(60)}/${'e'.repeat(60)}/${'f'.repeat(60)}`;
    const s = await squash({
      layers: [
        {
          files: [
            { path: `${deep}/file.txt`, content: 'deep' },
            { path: 'short', type: 'symlink', linkTarget: `/${deep}/file.txt` },
          ],
        },
      ],
    });
    assert.equal(await text(s, 'short'), 'deep');
  });
});
