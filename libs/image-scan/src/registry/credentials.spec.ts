import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DockerConfigError, credentialsFromDockerConfig, normalizeRegistryKey } from './credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('credentialsFromDockerConfig', () => {
  const config = {
    auths: {
      'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
      'registry.example.com:5000': { username: 'ci', password: 's3cret' },
      'http://legacy.example.com/v2/': { auth: b64('old:timer') },
      'empty.example.com': {},
    },
  };

  it('decodes base64 auth, keeping colons in the password, for Docker Hub under any of its names', () => {
    for (const host of ['docker.io', 'index.docker.io', 'registry-1.docker.io'])
      assert.deepEqual(credentialsFromDockerConfig(config, host), {
        username: 'hubuser',
        password: 'hub:pass',
      });
  });

  it('reads username/password entries and keys with a scheme and path', () => {
    assert.deepEqual(credentialsFromDockerConfig(config, 'registry.example.com:5000'), {
      username: 'ci',
      password: 's3cret',
    });
    assert.deepEqual(credentialsFromDockerConfig(JSON.stringify(config), 'legacy.example.com'), {
      username: 'old',
      password: 'timer',
    });
  });

  it('answers undefined for a registry it has no usable entry for (port matters)', () => {
    assert.equal(credentialsFromDockerConfig(config, 'registry.example.com'), undefined);
    assert.equal(credentialsFromDockerConfig(config, 'empty.example.com'), undefined);
    assert.equal(credentialsFromDockerConfig({}, 'docker.io'), undefined);
  });

  it('reads a Kubernetes imagePullSecret (data base64 and stringData) and the old .dockercfg shape', () => {
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      data: {
        '.dockerconfigjson': b64(JSON.stringify({ auths: { 'ghcr.io': { auth: b64('bot:ghp_x') } } })),
      },
    };
    assert.deepEqual(credentialsFromDockerConfig(secret, 'ghcr.io'), { username: 'bot', password: 'ghp_x' });
    const stringData = {
      kind: 'Secret',
      stringData: {
        '.dockerconfigjson': JSON.stringify({ auths: { 'q.io': { username: 'u', password: 'p' } } }),
      },
    };
    assert.deepEqual(credentialsFromDockerConfig(stringData, 'q.io'), { username: 'u', password: 'p' });
    const dockercfg = { 'quay.io': { auth: b64('robot+x:tok'), email: 'x@example.com' } };
    assert.deepEqual(credentialsFromDockerConfig(Buffer.from(JSON.stringify(dockercfg)), 'quay.io'), {
      username: 'robot+x',
      password: 'tok',
    });
  });

  it('fails clearly on what is not a docker config', () => {
    assert.throws(
      () => credentialsFromDockerConfig('{not json', 'x'),
      (e: unknown) => e instanceof DockerConfigError && /not JSON/.test(e.message),
    );
    assert.throws(() => credentialsFromDockerConfig({ auths: [] }, 'x'), /"auths" is not an object/);
    assert.throws(
      () => credentialsFromDockerConfig({ kind: 'Secret', data: {} }, 'x'),
      /no .dockerconfigjson/,
    );
    assert.throws(
      () => credentialsFromDockerConfig({ auths: { x: { auth: b64('nocolon') } } }, 'x'),
      /not base64 of "username:password"/,
    );
  });

  it('normalizes keys to host[:port]', () => {
    assert.equal(normalizeRegistryKey('https://Registry.Example.com:443/v2/'), 'registry.example.com:443');
    assert.equal(normalizeRegistryKey('registry.hub.docker.com'), 'docker.io');
  });
});
