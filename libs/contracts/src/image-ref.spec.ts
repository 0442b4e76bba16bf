import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalImageRef } from './image-ref.js';

test('image references get Docker’s implied parts, so every spelling of one image has one target key', () => {
  assert.deepEqual(canonicalImageRef('postgres:15.4-bookworm'), {
    ref: 'docker.io/library/postgres:15.4-bookworm',
    digest: '',
    key: 'docker.io/library/postgres:15.4-bookworm',
  });
  assert.deepEqual(canonicalImageRef('index.docker.io/fluent/fluent-bit'), {
    ref: 'docker.io/fluent/fluent-bit:latest',
    digest: '',
    key: 'docker.io/fluent/fluent-bit:latest',
  });
  const digest = `sha256:${'5d'.repeat(32)}`;
  assert.deepEqual(canonicalImageRef(`registry.example.com:5000/acme/Tokenizer@${digest}`), {
    ref: `registry.example.com:5000/acme/tokenizer@${digest}`,
    digest,
    key: `registry.example.com:5000/acme/tokenizer@${digest}`,
  });
  // A tag and a digest: the tag keys the target (a new digest under it supersedes the old), the ref keeps both.
  assert.deepEqual(canonicalImageRef(`localhost/app:2@${digest}`), {
    ref: `localhost/app:2@${digest}`,
    digest,
    key: 'localhost/app:2',
  });
  assert.equal(canonicalImageRef('../etc/passwd'), '"../etc/passwd" is not an image reference');
  assert.equal(canonicalImageRef('nginx@sha256:abc'), '"nginx@sha256:abc" has a malformed digest');
});
