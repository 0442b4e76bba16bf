// --platform on a docker save archive: the image's config must say the platform asked for, as an OCI layout's
// must (same message); unset, the one image is read whatever its platform. The corpus alpine:3.11 is linux/amd64.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corpusPath } from '@vigil/testing';
import { openImage } from './open-image.js';
import { ImageError } from './source.js';

const ALPINE = corpusPath('image/images/alpine-311-docker-archive/image.tar.gz');

async function archOf(platform?: string, name = ALPINE): Promise<string> {
  const source = await openImage(name, platform ? { platform } : {});
  try {
    assert.equal(source.kind, 'docker-archive');
    return `${source.config.os}/${source.config.architecture}`;
  } finally {
    await source.close();
  }
}

describe('docker archive --platform', () => {
  it('reads the image without a platform, and with its own (arch aliases included)', async () => {
    assert.equal(await archOf(), 'linux/amd64');
    assert.equal(await archOf('linux/amd64'), 'linux/amd64');
    assert.equal(await archOf('linux/x86_64'), 'linux/amd64');
  });

  for (const platform of ['windows/arm64', 'linux/arm64', 'linux/s390x', 'windows/amd64']) {
    it(`refuses ${platform} for a linux/amd64 image, naming what the archive has`, async () => {
      await assert.rejects(openImage(ALPINE, { platform }), (err: Error) => {
        assert.ok(err instanceof ImageError, String(err));
        assert.match(
          err.message,
          new RegExp(`no image for platform ${platform.replace('/', '\\/')} \\(available: linux\\/amd64\\)$`),
        );
        return true;
      });
    });
  }

  it('refuses a variant the image does not have', async () => {
    await assert.rejects(
      openImage(ALPINE, { platform: 'linux/amd64/v3' }),
      /no image for platform linux\/amd64\/v3 \(available: linux\/amd64\)/,
    );
  });

  it('checks the platform of the image a tag picks', async () => {
    assert.equal(await archOf('linux/amd64', `${ALPINE}:alpine:3.11`), 'linux/amd64');
    await assert.rejects(
      openImage(`${ALPINE}:alpine:3.11`, { platform: 'linux/arm64' }),
      /no image for platform linux\/arm64 \(available: linux\/amd64\)/,
    );
  });
});
