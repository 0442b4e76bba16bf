import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ImageError } from '../image/source.js';
import { InvalidReferenceError, apiHost, familiarTag, parseReference } from './reference.js';

const SHA = 'sha256:' + 'ab'.repeat(32);

describe('parseReference normalizes as docker does', () => {
  const cases: [string, string, string][] = [
    ['alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['alpine:3.11', 'docker.io/library/alpine:3.11', 'alpine:3.11'],
    ['library/alpine:3.11', 'docker.io/library/alpine:3.11', 'alpine:3.11'],
    ['docker.io/alpine', 'docker.io/library/alpine:latest', 'alpine:latest'],
    ['index.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge', 'alpine:edge'],
    ['bitnami/redis:7.2', 'docker.io/bitnami/redis:7.2', 'bitnami/redis:7.2'],
    ['localhost/foo', 'localhost/foo:latest', 'localhost/foo:latest'],
    ['localhost:5000/team/app:v1.2.3', 'localhost:5000/team/app:v1.2.3', 'localhost:5000/team/app:v1.2.3'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest', '127.0.0.1:5000/app:latest'],
    ['[::1]:5000/app:x', '[::1]:5000/app:x', '[::1]:5000/app:x'],
    [
      'ghcr.io/org/sub/app_name__x.y-z:1',
      'ghcr.io/org/sub/app_name__x.y-z:1',
      'ghcr.io/org/sub/app_name__x.y-z:1',
    ],
    [`ghcr.io/org/app@${SHA}`, `ghcr.io/org/app@${SHA}`, `ghcr.io/org/app@${SHA}`],
    [`registry:5000/repo:tag@${SHA}`, `registry:5000/repo:tag@${SHA}`, `registry:5000/repo:tag@${SHA}`],
    [`nginx@${SHA}`, `docker.io/library/nginx@${SHA}`, `nginx@${SHA}`],
    // A capitalized first component can only be a host name.
    ['Example/app', 'Example/app:latest', 'Example/app:latest'],
  ];
  for (const [input, canonical, familiar] of cases) {
    it(`${input} → ${canonical}`, () => {
      const ref = parseReference(input);
      assert.equal(ref.canonical, canonical);
      assert.equal(ref.familiar, familiar);
    });
  }

  it('splits registry, repository, tag and digest', () => {
    const ref = parseReference(`registry.example.com:8443/payments/api:2.1@${SHA}`);
    assert.equal(ref.registry, 'registry.example.com:8443');
    assert.equal(ref.repository, 'payments/api');
    assert.equal(ref.tag, '2.1');
    assert.equal(ref.digest, SHA);
    assert.equal(familiarTag(ref), 'registry.example.com:8443/payments/api:2.1');
  });

  it('gives a digest-only reference no tag and no familiar tag', () => {
    const ref = parseReference(`alpine@${SHA}`);
    assert.equal(ref.tag, undefined);
    assert.equal(familiarTag(ref), undefined);
  });

  it('sends docker.io requests to registry-1.docker.io', () => {
    assert.equal(apiHost('docker.io'), 'registry-1.docker.io');
    assert.equal(apiHost('localhost:5000'), 'localhost:5000');
  });
});

describe('parseReference rejects invalid references, saying why', () => {
  const bad: [string, RegExp][] = [
    ['', /it is empty/],
    ['Alpine', /repository name "Alpine" must be lowercase/],
    ['docker.io/Library/alpine', /must be lowercase/],
    ['alpine:', /tag "" is not valid/],
    ['alpine:-rc', /tag "-rc" is not valid/],
    ['alpine:' + 'x'.repeat(129), /is not valid/],
    ['alpine@sha256:abc', /sha256 digest is 64 lowercase hexadecimal/],
    ['alpine@md5:' + 'a'.repeat(32), /digest algorithm "md5" is not supported/],
    ['alpine@latest', /is not algorithm:hex/],
    ['https://ghcr.io/org/app', /no URL scheme/],
    ['ghcr.io/org//app', /empty component/],
    ['ghcr.io/-org/app', /path component "-org" is not valid/],
    ['foo bar', /whitespace/],
    ['a'.repeat(64), /image id, not a repository name/],
    ['ghcr.io/' + 'a'.repeat(250), /longer than 255/],
    ['bad_host:5000:x/app', /registry host "bad_host:5000:x" is not a valid host/],
  ];
  for (const [input, message] of bad) {
    it(JSON.stringify(input.length > 40 ? input.slice(0, 40) + '…' : input), () => {
      assert.throws(
        () => parseReference(input),
        (err: unknown) => {
          assert.ok(err instanceof InvalidReferenceError);
          assert.ok(err instanceof ImageError);
          assert.match(err.message, /invalid image reference/);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }
});
