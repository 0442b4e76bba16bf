import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges } from './challenge.js';

describe('parseChallenges', () => {
  it("reads Docker Hub's bearer challenge", () => {
    const header =
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"';
    assert.deepEqual(parseChallenges(header), [
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.docker.io/token',
          service: 'registry.docker.io',
          scope: 'repository:library/alpine:pull',
        },
      },
    ]);
  });

  it('keeps commas inside quoted values (multi-scope) and the error of an insufficient-scope answer', () => {
    const header =
      'Bearer realm="https://ghcr.io/token",service="ghcr.io",scope="repository:a/b:pull,push",error="insufficient_scope"';
    const [c] = parseChallenges(header);
    assert.equal(c?.params.scope, 'repository:a/b:pull,push');
    assert.equal(c?.params.error, 'insufficient_scope');
  });

  it('reads several challenges joined into one header, with unquoted and escaped values', () => {
    const header = 'Basic realm="Registry \\"Realm\\"", Bearer realm=https://t.example/token, service=reg';
    assert.deepEqual(parseChallenges(header), [
      { scheme: 'basic', params: { realm: 'Registry "Realm"' } },
      { scheme: 'bearer', params: { realm: 'https://t.example/token', service: 'reg' } },
    ]);
  });

  it('lowercases schemes and parameter names, and survives garbage', () => {
    assert.deepEqual(parseChallenges('BASIC Realm="x"'), [{ scheme: 'basic', params: { realm: 'x' } }]);
    assert.deepEqual(parseChallenges(''), []);
    assert.deepEqual(parseChallenges('Negotiate'), [{ scheme: 'negotiate', params: {} }]);
    assert.deepEqual(parseChallenges('=== "'), []);
  });
});
