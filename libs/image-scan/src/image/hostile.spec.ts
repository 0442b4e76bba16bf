// Hostile and broken images: each must fail with an ImageError whose message starts with the image's name and
// says what is wrong (and which layer), never crash, and never write outside the reader's temp dir.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestImageSpec, type TestLayer, tarBytes, writeTestImage } from '@vigil/testing';
import { isWanted } from '../analyzers/registry.js';
import { openImage } from './open-image.js';
import { ImageError } from './source.js';
import { type SquashOptions, squashImage } from './squash.js';

let dir: string;
let n = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vigil-hostile-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ok: TestLayer = { files: [{ path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' }] };

async function write(spec: Partial<TestImageSpec>): Promise<string> {
  const format = spec.format ?? 'oci-layout';
  const out = join(dir, `img-${n++}${format === 'oci-layout' ? '' : '.tar'}`);
  await writeTestImage(out, { layers: [ok], ...spec, format });
  return out;
}

/** Rejects with an ImageError naming the image and matching `problem`. */
async function fails(image: string, action: Promise<unknown>, problem: RegExp): Promise<void> {
  await assert.rejects(action, (err: unknown) => {
    assert.ok(err instanceof ImageError, `expected an ImageError, got ${String(err)}`);
    assert.ok(err.message.startsWith(`${image}: `), err.message);
    assert.match(err.message, problem);
    return true;
  });
}

async function squashFails(
  spec: Partial<TestImageSpec>,
  problem: RegExp,
  options: Partial<SquashOptions> = {},
) {
  const image = await write(spec);
  const source = await openImage(image);
  try {
    await fails(image, squashImage(source, { wanted: isWanted, ...options }), problem);
  } finally {
    await source.close();
  }
}

const FIRST_LAYER = /layer 1 \(sha256:[0-9a-f]{64}\): /;

describe('hostile images', () => {
  describe('layers', () => {
    it('truncated gzip', () =>
      squashFails(
        { layers: [{ files: [{ path: 'f', content: 'x'.repeat(50_000) }] }], corrupt: { truncateLayer: 0 } },
        new RegExp(`${FIRST_LAYER.source}corrupt or truncated gzip data`),
      ));

    it('truncated zstd', () =>
      squashFails(
        {
          layers: [{ compression: 'zstd', files: [{ path: 'f', content: 'y'.repeat(50_000) }] }],
          corrupt: { truncateLayer: 0 },
        },
        /layer 1 \(sha256:[0-9a-f]{64}\): (corrupt or )?truncated zstd data/,
      ));

    it('truncated tar', () =>
      squashFails(
        {
          layers: [{ compression: 'none', files: [{ path: 'f', content: 'z'.repeat(50_000) }] }],
          corrupt: { truncateLayer: 0 },
        },
        new RegExp(`${FIRST_LAYER.source}tar stream is truncated`),
      ));

    it('not a tar at all', () =>
      squashFails(
        { layers: [{ raw: Buffer.from('this is not a tar archive '.repeat(40)), files: [] }] },
        /tar header checksum mismatch/,
      ));

    it('xz layers are refused by name', () =>
      squashFails(
        {
          layers: [
            { compression: 'none', raw: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0, 1, 2]), files: [] },
          ],
        },
        /xz compression is not supported/,
      ));

    it('../ entry names that climb out of the root', async () => {
      const escapee = join(dir, 'escaped.txt');
      await squashFails(
        {
          layers: [
            { files: [{ path: 'etc/../../../../../../../../' + escapee.slice(1), content: 'pwned' }] },
          ],
        },
        /entry ".*escaped.txt" points outside the image root/,
      );
      assert.equal(existsSync(escapee), false);
    });

    it('a hardlink whose target climbs out of the root', () =>
      squashFails(
        { layers: [{ files: [{ path: 'etc/shadow', type: 'hardlink', linkTarget: '../../etc/shadow' }] }] },
        /entry "..\/..\/etc\/shadow" points outside the image root/,
      ));

    it('an entry written through a symlink that escapes the root', () =>
      squashFails(
        {
          layers: [
            {
              files: [
                { path: 'evil', type: 'symlink', linkTarget: '../../../../tmp' },
                { path: 'evil/planted', content: 'x' },
              ],
            },
          ],
        },
        /symlink evil -> ..\/..\/..\/..\/tmp points outside the image root/,
      ));

    it('a wanted path that is a symlink escaping the root', () =>
      squashFails(
        {
          layers: [
            {
              files: [{ path: 'etc/os-release', type: 'symlink', linkTarget: '../../../../etc/os-release' }],
            },
          ],
        },
        /symlink etc\/os-release -> ..\/..\/..\/..\/etc\/os-release points outside the image root/,
      ));

    it('a symlink loop on a wanted path', () =>
      squashFails(
        {
          layers: [
            {
              files: [
                { path: 'etc/os-release', type: 'symlink', linkTarget: 'os-release.d' },
                { path: 'etc/os-release.d', type: 'symlink', linkTarget: '/etc/os-release' },
              ],
            },
          ],
        },
        /more than 40 symlinks resolving etc\/os-release \(a symlink loop/,
      ));

    it('a symlink loop met by file()', async () => {
      const image = await write({
        layers: [
          {
            files: [
              { path: 'a', type: 'symlink', linkTarget: 'b' },
              { path: 'b', type: 'symlink', linkTarget: './a' },
            ],
          },
        ],
      });
      const source = await openImage(image);
      const squashed = await squashImage(source, { wanted: isWanted });
      assert.throws(
        () => squashed.file('a/x'),
        (err: Error) => err instanceof ImageError && /symlink loop/.test(err.message),
      );
      await source.close();
    });

    it('a layer that inflates past the layer limit', () =>
      squashFails(
        { layers: [{ files: [{ path: 'zeros', content: new Uint8Array(4 * 1024 * 1024) }] }] },
        new RegExp(`${FIRST_LAYER.source}inflates past the layer limit of 1048576 bytes`),
        { limits: { maxLayerBytes: 1024 * 1024 } },
      ));

    it('layers that together pass the image limit', () =>
      squashFails(
        { layers: [0, 1, 2].map((i) => ({ files: [{ path: `z${i}`, content: new Uint8Array(600_000) }] })) },
        /layer 2 \(sha256:[0-9a-f]{64}\): the image inflates past the limit of 1000000 bytes/,
        { limits: { maxImageBytes: 1_000_000 } },
      ));

    it('a wanted file over the kept-file limit', () =>
      squashFails(
        { layers: [{ files: [{ path: 'var/lib/dpkg/status', content: 'x'.repeat(10_000) }] }] },
        /var\/lib\/dpkg\/status is 10000 bytes, over the kept-file limit of 4096/,
        { limits: { maxFileBytes: 4096 } },
      ));

    it('too many entries', () =>
      squashFails(
        { layers: [{ files: Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, content: '' })) }] },
        /more than 10 tar entries in the image/,
        { limits: { maxEntries: 10 } },
      ));

    it('a pax header that lies about the size', () => {
      const pax = Buffer.from('23 size=99999999999999\n');
      const tar = tarBytes([{ name: 'f', data: Buffer.from('short') }]);
      const header = tarBytes([{ name: 'PaxHeaders/f', data: pax }]).subarray(0, 1024);
      header[156] = 'x'.charCodeAt(0);
      // Recompute the checksum of the edited header block.
      header.fill(0x20, 148, 156);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += header[i]!;
      header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
      return squashFails(
        { layers: [{ compression: 'gzip', raw: Buffer.concat([header, tar]), files: [] }] },
        /tar stream is truncated/,
      );
    });
  });

  describe('digests', () => {
    it('a manifest whose digest does not match the index', async () => {
      const image = await write({ corrupt: { manifestDigest: true } });
      await fails(
        image,
        openImage(image),
        /digest mismatch for manifest blobs\/sha256\/0{64}: expected sha256:0{64}, got sha256:[0-9a-f]{64}/,
      );
    });

    it('a config whose digest does not match (OCI and docker)', async () => {
      for (const format of ['oci-layout', 'oci-archive', 'docker-archive'] as const) {
        const image = await write({ format, corrupt: { configDigest: true } });
        await fails(
          image,
          openImage(image),
          /digest mismatch for config .*: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}/,
        );
      }
    });

    it('a docker config stored under a name its bytes do not hash to', async () => {
      const image = await write({ format: 'docker-archive', corrupt: { manifestDigest: true } });
      await fails(image, openImage(image), /digest mismatch for config 0{64}.json: expected sha256:0{64}/);
    });

    for (const format of ['oci-layout', 'docker-archive'] as const) {
      it(`a layer blob whose digest does not match (${format})`, () =>
        squashFails(
          { format, dockerLayout: 'blobs', corrupt: { layerDigest: 0 } },
          /layer 1 \(sha256:0{64}\): blob digest mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}/,
        ));
    }

    for (const format of ['oci-archive', 'docker-archive'] as const) {
      it(`a layer whose diff_id does not match (${format})`, () =>
        squashFails(
          { format, layers: [{ ...ok, compression: 'gzip' }], corrupt: { diffId: 0 } },
          /diff_id mismatch: expected sha256:0{64}, got sha256:[0-9a-f]{64}/,
        ));
    }
  });

  describe('missing and malformed documents', () => {
    for (const blob of ['manifest', 'config', 0] as const) {
      it(`a missing ${blob === 0 ? 'layer' : blob} blob`, async () => {
        const image = await write({ corrupt: { missingBlob: blob } });
        await fails(
          image,
          openImage(image),
          blob === 0
            ? /missing blob sha256:[0-9a-f]{64} \(layer 1\)/
            : new RegExp(`missing blob sha256:[0-9a-f]{64} \\(${blob}\\)`),
        );
      });
    }

    it('a missing layer in a docker archive', async () => {
      const image = await write({ format: 'docker-archive', corrupt: { missingBlob: 0 } });
      await fails(image, openImage(image), /missing [0-9a-f]{64}\/layer.tar in the archive/);
    });

    for (const doc of ['index', 'manifest', 'config'] as const) {
      it(`bad JSON in the ${doc}`, async () => {
        const image = await write({ format: 'oci-archive', corrupt: { badJson: doc } });
        await fails(
          image,
          openImage(image),
          new RegExp(`bad JSON in ${doc === 'index' ? 'index.json' : doc}`),
        );
      });
    }

    it('bad JSON in a docker manifest.json', async () => {
      const image = await write({ format: 'docker-archive', corrupt: { badJson: 'manifest' } });
      await fails(image, openImage(image), /bad JSON in manifest.json/);
    });

    it('manifest.json naming a member outside the archive', async () => {
      const image = join(dir, 'outside.tar');
      writeFileSync(
        image,
        tarBytes([
          { name: 'manifest.json', data: Buffer.from('[{"Config":"../../etc/passwd","Layers":[]}]') },
        ]),
      );
      await fails(image, openImage(image), /member path "..\/..\/etc\/passwd" points outside the image/);
    });

    it('files that are not images', async () => {
      const notTar = join(dir, 'not-a-tar');
      writeFileSync(notTar, 'hello world '.repeat(100));
      await fails(notTar, openImage(notTar), /not a readable tar archive: tar header checksum mismatch/);
      const emptyDir = await mkdtemp(join(dir, 'empty-'));
      await fails(emptyDir, openImage(emptyDir), /not an image directory/);
      const plainTar = join(dir, 'plain.tar');
      writeFileSync(plainTar, tarBytes([{ name: 'hello.txt', data: Buffer.from('hi') }]));
      await fails(plainTar, openImage(plainTar), /not an image archive/);
      await fails(join(dir, 'nope'), openImage(join(dir, 'nope')), /no such image file or directory/);
    });

    it('a truncated archive', async () => {
      const image = await write({
        format: 'docker-archive',
        layers: [{ files: [{ path: 'f', content: 'q'.repeat(20_000) }] }],
      });
      truncateSync(image, 3000);
      await fails(image, openImage(image), /archive is truncated/);
    });

    it('a truncated gzip archive leaves no temp files', async () => {
      const image = join(dir, 'cut.tar.gz');
      await writeTestImage(image, {
        format: 'docker-archive',
        archiveCompression: 'gzip',
        layers: [
          { files: [{ path: 'f', content: new Uint8Array(200_000).map((_, i) => (i * 7919) % 251) }] },
        ],
      });
      truncateSync(image, Math.floor(statSync(image).size / 2));
      const temp = await mkdtemp(join(dir, 'tmp-'));
      await fails(image, openImage(image, { tempDir: temp }), /archive: corrupt or truncated gzip data/);
      assert.deepEqual(readdirSync(temp), []);
    });

    it('a compressed archive that inflates past its limit', async () => {
      const image = join(dir, 'bomb.tar.gz');
      await writeTestImage(image, {
        format: 'oci-archive',
        archiveCompression: 'gzip',
        layers: [{ compression: 'none', files: [{ path: 'z', content: new Uint8Array(3_000_000) }] }],
      });
      const temp = await mkdtemp(join(dir, 'tmp-'));
      await fails(
        image,
        openImage(image, { tempDir: temp, maxArchiveBytes: 1_000_000 }),
        /archive inflates past the limit of 1000000 bytes/,
      );
      assert.deepEqual(readdirSync(temp), []);
    });
  });

  it('the next image reads fine after a hostile one', async () => {
    await squashFails(
      { layers: [{ files: [{ path: '../x', content: 'x' }] }] },
      /points outside the image root/,
    );
    const image = await write({});
    const source = await openImage(image);
    const squashed = await squashImage(source, { wanted: isWanted });
    assert.deepEqual(
      squashed.files.map((f) => f.path),
      ['etc/os-release'],
    );
    await source.close();
  });
});
