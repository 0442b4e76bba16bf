// openRegistryImage against a real registry: Debian's docker-registry (distribution 2.8) on loopback, images
// pushed by skopeo, with no auth, htpasswd basic auth, and bearer tokens (RS256 JWTs from the test token server,
// verified by the registry against the certificate it was configured with).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createGunzip } from 'node:zlib';
import { corpusPath, startRegistry, writeTestImage, type TestRegistry } from '@vigil/testing';
import { ImageError } from '../image/source.js';
import { MEDIA_TYPES, openRegistryImage, resolveDigest, type RegistryImageSource } from './registry-image.js';
import { RegistryClient } from './registry-client.js';

const ALPINE = corpusPath('image/images/alpine-311-docker-archive/image.tar.gz');
const BASIC_LAYERS = corpusPath('image/images/layers-basic/image.tar');
const expected = JSON.parse(
  readFileSync(corpusPath('image/images/alpine-311-docker-archive/expected.json'), 'utf8'),
) as {
  image: {
    config_digest: string;
    architecture: string;
    os: string;
    layers: { diff_id: string; created_by: string }[];
  };
};

/** Reads a layer through open() (digest verified) and answers the sha256 of its uncompressed tar. */
async function diffIdOf(image: RegistryImageSource, i: number): Promise<string> {
  const hash = createHash('sha256');
  const stream = (await image.layers[i]!.open()).pipe(createGunzip());
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

function assertIsAlpine(image: RegistryImageSource): void {
  assert.equal(image.configDigest, expected.image.config_digest);
  assert.equal(image.config.architecture, expected.image.architecture);
  assert.equal(image.config.os, expected.image.os);
  assert.deepEqual(
    image.layers.map((l) => l.diffId),
    expected.image.layers.map((l) => l.diff_id),
  );
  assert.deepEqual(
    image.layers.map((l) => l.createdBy),
    expected.image.layers.map((l) => l.created_by),
  );
}

function flipByte(path: string, at: number): void {
  const fd = openSync(path, 'r+');
  try {
    const b = Buffer.alloc(1);
    readSync(fd, b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    writeSync(fd, b, 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

describe('registry without auth', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'none' });
    await reg.push(ALPINE, 'test/alpine:3.11');
  });
  after(() => reg?.stop());

  it('reads the pushed alpine:3.11 with the config digest and diff ids of the docker archive', async () => {
    const ref = `${reg.host}/test/alpine:3.11`;
    const image = await openRegistryImage(ref, { insecure: true });
    assertIsAlpine(image);
    assert.deepEqual(image.repoTags, [ref]);
    assert.equal(image.layers[0]!.mediaType, 'application/vnd.docker.image.rootfs.diff.tar.gzip');
    assert.equal(await diffIdOf(image, 0), expected.image.layers[0]!.diff_id);
    await image.close();
  });

  it('resolves the tag to the digest of its manifest, and opens the image by that digest', async () => {
    const resolved = await resolveDigest(`${reg.host}/test/alpine:3.11`, { insecure: true });
    const image = await openRegistryImage(`${reg.host}/test/alpine:3.11`, { insecure: true });
    assert.equal(resolved.digest, image.manifestDigest);
    assert.equal(resolved.mediaType, MEDIA_TYPES.dockerManifest);
    assert.equal(resolved.pinned, `${reg.host}/test/alpine:3.11@${resolved.digest}`);
    const pinned = await openRegistryImage(`${reg.host}/test/alpine@${resolved.digest}`, { insecure: true });
    assert.equal(pinned.configDigest, expected.image.config_digest);
    assert.deepEqual(pinned.repoTags, []);
  });

  it('says a missing tag is unknown, naming tag, repository and registry', async () => {
    await assert.rejects(
      openRegistryImage(`${reg.host}/test/alpine:9.99`, { insecure: true }),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message ===
          `${reg.host}/test/alpine:9.99: manifest unknown: tag "9.99" is not in repository test/alpine on registry ${reg.host} (MANIFEST_UNKNOWN: manifest unknown)`,
    );
    await assert.rejects(
      resolveDigest(`${reg.host}/test/alpine:9.99`, { insecure: true }),
      /manifest unknown: tag "9\.99"/,
    );
    await assert.rejects(
      openRegistryImage(`${reg.host}/test/absent:1`, { insecure: true }),
      /manifest unknown: tag "1" is not in repository test\/absent/,
    );
  });

  it('chooses from a manifest list by platform, and lists the platforms when none fits', async () => {
    await reg.push(ALPINE, 'test/multi:amd64');
    await reg.push(BASIC_LAYERS, 'test/multi:arm64');
    const amd = await resolveDigest(`${reg.host}/test/multi:amd64`, { insecure: true });
    const arm = await resolveDigest(`${reg.host}/test/multi:arm64`, { insecure: true });
    const list = JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.dockerList,
      manifests: [
        {
          mediaType: MEDIA_TYPES.dockerManifest,
          digest: amd.digest,
          size: amd.size,
          platform: { os: 'linux', architecture: 'amd64' },
        },
        {
          mediaType: MEDIA_TYPES.dockerManifest,
          digest: arm.digest,
          size: arm.size,
          platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
        },
      ],
    });
    const listDigest = await reg.putManifest('test/multi', 'latest', list, MEDIA_TYPES.dockerList);
    assert.equal(listDigest, `sha256:${createHash('sha256').update(list).digest('hex')}`);

    const ref = `${reg.host}/test/multi:latest`;
    const def = await openRegistryImage(ref, { insecure: true });
    assert.equal(def.indexDigest, listDigest);
    assert.equal(def.resolvedDigest, listDigest);
    assert.equal(def.manifestDigest, amd.digest);
    assertIsAlpine(def);

    const other = await openRegistryImage(ref, { insecure: true, platform: 'linux/arm64' });
    assert.equal(other.manifestDigest, arm.digest);
    assert.notEqual(other.configDigest, expected.image.config_digest);
    assert.equal((await resolveDigest(ref, { insecure: true })).digest, listDigest);

    await assert.rejects(
      openRegistryImage(ref, { insecure: true, platform: 'linux/riscv64' }),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message ===
          `${ref}: no image for platform linux/riscv64 in the image index; it has linux/amd64, linux/arm64/v8`,
    );
  });

  it('pushes a multi-platform OCI layout with skopeo copy --all and reads each platform from its OCI index', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-oci-multi-'));
    try {
      const written = await writeTestImage(join(dir, 'layout'), {
        format: 'oci-layout',
        repoTag: 'multi:1',
        nestedIndex: true,
        layers: [{ files: [{ path: 'etc/os-release', content: 'ID=amd\n' }], createdBy: 'ADD amd' }],
        alsoImages: [
          {
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
            layers: [{ files: [{ path: 'etc/os-release', content: 'ID=arm\n' }], compression: 'zstd' }],
          },
        ],
      });
      await reg.push(`oci:${written.path}:1`, 'test/oci-multi:1', { all: true });
      const ref = `${reg.host}/test/oci-multi:1`;
      const amd = await openRegistryImage(ref, { insecure: true });
      assert.ok(amd.indexDigest, 'the tag names an index');
      assert.equal(amd.manifestDigest, written.manifestDigest);
      assert.equal(amd.configDigest, written.configDigest);
      assert.deepEqual(
        amd.layers.map((l) => [l.digest, l.diffId]),
        written.layers.map((l) => [l.digest, l.diffId]),
      );
      const arm = await openRegistryImage(ref, { insecure: true, platform: 'linux/arm64/v8' });
      assert.equal(arm.indexDigest, amd.indexDigest);
      assert.deepEqual(arm.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
      assert.equal(arm.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+zstd');
      for await (const _ of await arm.layers[0]!.open()) void _;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // Last in this registry: blobs are shared by every repository that holds them.
  it('fails with a digest mismatch when a layer blob in the registry storage is corrupted', async () => {
    const ref = `${reg.host}/test/alpine:3.11`;
    const image = await openRegistryImage(ref, { insecure: true });
    const layer = image.layers[0]!;
    flipByte(reg.blobPath(layer.digest), Math.floor(layer.size / 2));
    const reopened = await openRegistryImage(ref, { insecure: true });
    await assert.rejects(
      async () => {
        for await (const _ of await reopened.layers[0]!.open()) void _;
      },
      (err: unknown) =>
        err instanceof ImageError &&
        err.message.startsWith(
          `${ref}: digest mismatch: layer 0 ${layer.digest} was received with content digest sha256:`,
        ),
    );
    flipByte(reg.blobPath(image.configDigest), 10);
    await assert.rejects(
      openRegistryImage(ref, { insecure: true }),
      new RegExp(`digest mismatch: config ${image.configDigest} was received with content digest sha256:`),
    );
  });
});

describe('registry with htpasswd basic auth', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'basic' });
    await reg.push(ALPINE, 'secure/alpine:3.11');
  });
  after(() => reg?.stop());

  it('refuses anonymous and wrong credentials with a clear error', async () => {
    const ref = `${reg.host}/secure/alpine:3.11`;
    await assert.rejects(
      openRegistryImage(ref, { insecure: true }),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message.startsWith(`${ref}: authentication required for registry ${reg.host}`),
    );
    await assert.rejects(
      openRegistryImage(ref, { insecure: true, credentials: { username: reg.username, password: 'wrong' } }),
      new RegExp(`authentication failed for registry ${reg.host} as "${reg.username}"`),
    );
  });

  it('reads the image with credentials from an imagePullSecret', async () => {
    const dockerconfigjson = JSON.stringify({
      auths: { [reg.host]: { auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64') } },
    });
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from(dockerconfigjson).toString('base64') },
    };
    const ref = `${reg.host}/secure/alpine:3.11`;
    const image = await openRegistryImage(ref, { insecure: true, dockerConfig: secret });
    assertIsAlpine(image);
    assert.equal(await diffIdOf(image, 0), expected.image.layers[0]!.diff_id);
    const resolved = await resolveDigest(ref, { insecure: true, dockerConfig: secret });
    assert.equal(resolved.digest, image.manifestDigest);
  });
});

describe('registry with bearer token auth', () => {
  let reg: TestRegistry;
  before(async () => {
    reg = await startRegistry({ auth: 'token' });
    await reg.push(ALPINE, 'private/alpine:3.11');
  });
  after(() => reg?.stop());

  it('reads the image with a token from the token server, one token for manifest, config and layer', async () => {
    const ref = `${reg.host}/private/alpine:3.11`;
    const client = new RegistryClient(reg.host, ref, {
      insecure: true,
      credentials: { username: reg.username, password: reg.password },
    });
    const issuedBefore = reg.tokenStats.issued;
    const image = await openRegistryImage(ref, { client });
    assertIsAlpine(image);
    assert.equal(await diffIdOf(image, 0), expected.image.layers[0]!.diff_id);
    const resolved = await resolveDigest(ref, { client });
    assert.equal(resolved.digest, image.manifestDigest);
    assert.equal(reg.tokenStats.issued - issuedBefore, 1);
    assert.equal(client.tokenRequests, 1);
  });

  it('is refused without credentials (the anonymous token grants nothing) and with wrong ones', async () => {
    const ref = `${reg.host}/private/alpine:3.11`;
    await assert.rejects(
      openRegistryImage(ref, { insecure: true }),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message.startsWith(`${ref}: authentication required for registry ${reg.host}`),
    );
    const refusedBefore = reg.tokenStats.refused;
    await assert.rejects(
      openRegistryImage(ref, { insecure: true, credentials: { username: reg.username, password: 'wrong' } }),
      new RegExp(
        `authentication failed for registry ${reg.host} as "${reg.username}": the token service http://127\\.0\\.0\\.1:\\d+/token answered 401`,
      ),
    );
    assert.equal(reg.tokenStats.refused - refusedBefore, 1);
  });
});
