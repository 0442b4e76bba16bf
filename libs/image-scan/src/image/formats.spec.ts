// The three local formats, each with gzip, zstd and plain layers, written by writeTestImage: the reader must report
// exactly the digests the builder wrote and read the layers' files. Also tag and platform selection, nested
// indexes, whole-archive compression (temp copy removed by close) and the docker 25 blobs layout.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type TestCompression,
  type TestImageSpec,
  type TestLayer,
  tarBytes,
  writeTestImage,
} from '@vigil/testing';
import { openImage } from './open-image.js';
import { squashImage } from './squash.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-formats-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function twoLayers(compression: TestCompression): TestLayer[] {
  return [
    {
      compression,
      createdBy: 'ADD rootfs.tar /',
      files: [
        { path: 'etc/', type: 'dir' },
        { path: 'etc/motd', content: 'hello\n' },
        { path: 'etc/issue', content: 'v1\n' },
      ],
    },
    { compression, createdBy: 'RUN echo v2 > /etc/issue', files: [{ path: 'etc/issue', content: 'v2\n' }] },
  ];
}

const formats = ['docker-archive', 'oci-layout', 'oci-archive'] as const;
const compressions = ['gzip', 'zstd', 'none'] as const;
const ext = (format: string) => (format === 'oci-layout' ? '' : '.tar');

const text = async (f: { read(): Promise<Uint8Array> } | undefined) =>
  f ? Buffer.from(await f.read()).toString('utf8') : undefined;

describe('local image formats', () => {
  for (const format of formats) {
    for (const compression of compressions) {
      it(`${format} with ${compression} layers`, async () => {
        const out = join(dir, `${format}-${compression}${ext(format)}`);
        const written = await writeTestImage(out, {
          format,
          repoTag: 'registry.test/app:1.0',
          layers: twoLayers(compression),
        });
        const source = await openImage(out);
        try {
          assert.equal(source.kind, format);
          assert.deepEqual(source.repoTags, ['registry.test/app:1.0']);
          assert.equal(source.configDigest, written.configDigest);
          if (format !== 'docker-archive') assert.equal(source.manifestDigest, written.manifestDigest);
          assert.deepEqual(
            source.layers.map((l) => [l.digest, l.diffId, l.size, l.createdBy]),
            written.layers.map((l, i) => [
              l.digest,
              l.diffId,
              l.size,
              i === 0 ? 'ADD rootfs.tar /' : 'RUN echo v2 > /etc/issue',
            ]),
          );
          const squashed = await squashImage(source, { wanted: (p) => p.startsWith('etc/') });
          assert.equal(await text(squashed.file('etc/issue')), 'v2\n');
          assert.equal(await text(squashed.file('/etc/motd')), 'hello\n');
          assert.equal(squashed.file('etc/issue')?.layer, 1);
          assert.equal(squashed.file('etc/motd')?.layer, 0);
          assert.deepEqual(
            squashed.files.map((f) => f.path),
            ['etc/issue', 'etc/motd'],
          );
        } finally {
          await source.close();
        }
      });
    }
  }

  it('writes the same bytes for the same spec', async () => {
    const spec: TestImageSpec = { format: 'oci-archive', layers: twoLayers('zstd') };
    await writeTestImage(join(dir, 'same-a.tar'), spec);
    await writeTestImage(join(dir, 'same-b.tar'), spec);
    assert.deepEqual(readFileSync(join(dir, 'same-a.tar')), readFileSync(join(dir, 'same-b.tar')));
  });

  for (const format of ['docker-archive', 'oci-archive'] as const) {
    it(`${format} gzip-compressed as a whole: a temp copy that close() removes`, async () => {
      const out = join(dir, `whole-${format}.tar.gz`);
      await writeTestImage(out, { format, archiveCompression: 'gzip', layers: twoLayers('gzip') });
      const temp = await mkdtemp(join(dir, 'tmp-'));
      const source = await openImage(out, { tempDir: temp });
      assert.equal(readdirSync(temp).length, 1);
      const squashed = await squashImage(source, { wanted: () => true });
      assert.equal(await text(squashed.file('etc/issue')), 'v2\n');
      await source.close();
      assert.deepEqual(readdirSync(temp), []);
    });
  }

  it('reads the docker 25 layout (layers and config as OCI blobs)', async () => {
    const out = join(dir, 'docker25.tar');
    const written = await writeTestImage(out, {
      format: 'docker-archive',
      dockerLayout: 'blobs',
      repoTag: 'app:2',
      layers: twoLayers('gzip'),
    });
    const source = await openImage(out);
    assert.equal(source.kind, 'docker-archive');
    assert.deepEqual(
      source.layers.map((l) => l.digest),
      written.layers.map((l) => l.digest),
    );
    const squashed = await squashImage(source, { wanted: () => true });
    assert.equal(await text(squashed.file('etc/issue')), 'v2\n');
    await source.close();
  });

  it('follows a docker save layer that links to another image layer', async () => {
    const layer = tarBytes([{ name: 'etc/shared', data: Buffer.from('same') }]);
    const diffId = `sha256:${createHash('sha256').update(layer).digest('hex')}`;
    const config = Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: [diffId, diffId] },
      }),
    );
    const configHex = createHash('sha256').update(config).digest('hex');
    const manifest = [
      { Config: `${configHex}.json`, RepoTags: ['dup:1'], Layers: ['a/layer.tar', 'b/layer.tar'] },
    ];
    const out = join(dir, 'linked-layer.tar');
    writeFileSync(
      out,
      tarBytes([
        { name: 'a/layer.tar', data: layer },
        { name: 'b/layer.tar', type: 'symlink', linkTarget: '../a/layer.tar' },
        { name: `${configHex}.json`, data: config },
        { name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest)) },
      ]),
    );
    const source = await openImage(out);
    assert.deepEqual(
      source.layers.map((l) => l.digest),
      [diffId, diffId],
    );
    const squashed = await squashImage(source, { wanted: () => true });
    assert.equal(await text(squashed.file('etc/shared')), 'same');
    assert.equal(squashed.layers.length, 2);
    await source.close();
  });

  describe('choosing an image', () => {
    const amd: TestLayer[] = [{ files: [{ path: 'arch', content: 'amd64' }] }];
    const arm: TestLayer[] = [{ files: [{ path: 'arch', content: 'arm64' }] }];
    const multi = (nestedIndex: boolean): TestImageSpec => ({
      format: 'oci-layout',
      repoTag: 'registry.test/multi:1',
      layers: amd,
      nestedIndex,
      alsoImages: [{ platform: { os: 'linux', architecture: 'arm64', variant: 'v8' }, layers: arm }],
    });
    const archOf = async (path: string, platform?: string) => {
      const source = await openImage(path, platform ? { platform } : {});
      try {
        const squashed = await squashImage(source, { wanted: () => true });
        return await text(squashed.file('arch'));
      } finally {
        await source.close();
      }
    };

    for (const nested of [false, true]) {
      it(`by platform${nested ? ' through a nested index' : ''}`, async () => {
        const out = join(dir, `multi-${nested}`);
        await writeTestImage(out, multi(nested));
        assert.equal(await archOf(out), 'amd64');
        assert.equal(await archOf(out, 'linux/arm64'), 'arm64');
        assert.equal(await archOf(out, 'linux/arm64/v8'), 'arm64');
        assert.equal(await archOf(`${out}:1`, 'linux/arm64'), 'arm64');
        await assert.rejects(openImage(out, { platform: 'linux/s390x' }), (err: Error) => {
          assert.match(
            err.message,
            /no image for platform linux\/s390x \(available: linux\/amd64, linux\/arm64\/v8\)/,
          );
          return err.name === 'ImageError';
        });
        await assert.rejects(openImage(out, { platform: 'linux/arm64/v7' }), /no image for platform/);
      });
    }

    it('by ref.name with path:tag', async () => {
      const out = join(dir, 'tags');
      await writeTestImage(out, {
        format: 'oci-layout',
        repoTag: 'registry.test/app:1',
        layers: amd,
        alsoImages: [
          { platform: { os: 'linux', architecture: 'amd64' }, layers: arm, repoTag: 'registry.test/app:2' },
        ],
      });
      assert.equal(await archOf(`${out}:1`), 'amd64');
      assert.equal(await archOf(`${out}:2`), 'arm64');
      const two = await openImage(`${out}:2`);
      assert.deepEqual(two.repoTags, ['registry.test/app:2']);
      await two.close();
      await assert.rejects(
        openImage(out),
        /2 images match platform linux\/amd64; name one as <path>:<ref.name>/,
      );
      await assert.rejects(
        openImage(`${out}:3`),
        /no image named "3" in index.json \(names: registry.test\/app:1, 1, registry.test\/app:2, 2\)/,
      );
    });

    it('a single-platform image of another architecture is read unless another platform was asked for', async () => {
      const out = join(dir, 'arm-only.tar');
      await writeTestImage(out, {
        format: 'oci-archive',
        platform: { os: 'linux', architecture: 'arm64' },
        layers: arm,
      });
      assert.equal(await archOf(out), 'arm64');
      await assert.rejects(
        openImage(out, { platform: 'linux/amd64' }),
        /no image for platform linux\/amd64 \(available: linux\/arm64\)/,
      );
    });

    it('a docker archive by tag', async () => {
      const out = join(dir, 'tagged.tar');
      await writeTestImage(out, { format: 'docker-archive', repoTag: 'app:7', layers: amd });
      assert.equal(await archOf(`${out}:app:7`), 'amd64');
      await assert.rejects(openImage(`${out}:8`), /no image tagged "8" in the archive \(tags: app:7\)/);
    });
  });
});
