import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImageError } from '../image/source.js';
import {
  PlatformNotFoundError,
  normalizePlatform,
  platformMatches,
  selectPlatform,
  type PlatformDescriptor,
} from './platform.js';

const d = (digest: string, os: string, architecture: string, variant?: string): PlatformDescriptor => ({
  digest,
  platform: { os, architecture, ...(variant ? { variant } : {}) },
});

// The shape of the official images' indexes: several platforms and buildx attestation manifests.
const index: PlatformDescriptor[] = [
  d('sha256:amd64', 'linux', 'amd64'),
  d('sha256:armv6', 'linux', 'arm', 'v6'),
  d('sha256:armv7', 'linux', 'arm', 'v7'),
  d('sha256:arm64', 'linux', 'arm64', 'v8'),
  d('sha256:s390x', 'linux', 's390x'),
  {
    digest: 'sha256:att',
    platform: { os: 'unknown', architecture: 'unknown' },
    annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
  },
];

describe('selectPlatform', () => {
  it('picks the wanted os/architecture/variant', () => {
    assert.equal(selectPlatform(index, { os: 'linux', architecture: 'amd64' }, 'img').digest, 'sha256:amd64');
    assert.equal(
      selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'img').digest,
      'sha256:armv6',
    );
    assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'img').digest, 'sha256:arm64');
    assert.equal(
      selectPlatform(index, { os: 'linux', architecture: 'aarch64' }, 'img').digest,
      'sha256:arm64',
    );
  });

  it('takes arm without a variant as arm/v7, and arm64 entries without a variant as v8', () => {
    assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm' }, 'img').digest, 'sha256:armv7');
    assert.equal(
      selectPlatform(
        [d('sha256:a', 'linux', 'arm64')],
        { os: 'linux', architecture: 'arm64', variant: 'v8' },
        'img',
      ).digest,
      'sha256:a',
    );
  });

  it('fails with an ImageError listing the platforms there are (without attestations)', () => {
    assert.throws(
      () => selectPlatform(index, { os: 'linux', architecture: 'ppc64le' }, 'ghcr.io/x/y:1'),
      (err: unknown) => {
        assert.ok(err instanceof PlatformNotFoundError && err instanceof ImageError);
        assert.equal(
          err.message,
          'ghcr.io/x/y:1: no image for platform linux/ppc64le in the image index; it has linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8, linux/s390x',
        );
        return true;
      },
    );
    assert.throws(
      () => selectPlatform(index, { os: 'windows', architecture: 'amd64' }, 'i'),
      /no image for platform windows\/amd64/,
    );
    assert.throws(
      () => selectPlatform([], { os: 'linux', architecture: 'amd64' }, 'i'),
      /it has no platform-specific images/,
    );
  });

  it('normalizes architecture aliases', () => {
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'x86_64' }), {
      os: 'linux',
      architecture: 'amd64',
    });
    assert.deepEqual(normalizePlatform({ os: 'linux', architecture: 'armhf' }), {
      os: 'linux',
      architecture: 'arm',
      variant: 'v7',
    });
    assert.equal(
      platformMatches(
        { os: 'linux', architecture: 'arm', variant: 'v7' },
        { os: 'linux', architecture: 'arm', variant: 'v6' },
      ),
      false,
    );
  });
});
