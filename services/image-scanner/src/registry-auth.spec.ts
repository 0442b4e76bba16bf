// Pull secrets from the fake Kubernetes API server (recorded kind-cluster answers plus the Secrets given here),
// the mounted auth file as the fallback, and each unreadable Secret named in a warning.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeApiServer, type FakeApiServer } from '@vigil/testing';
import { RegistryAuth, parsePullSecretOption } from './registry-auth.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

let api: FakeApiServer;
const dir = mkdtempSync(join(tmpdir(), 'vigil-registry-auth-'));
const authFile = join(dir, 'config.json');

before(async () => {
  writeFileSync(
    authFile,
    JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('hub:from-file') } } }),
  );
  api = await startFakeApiServer({
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { namespace: 'payments', name: 'acme-registry' },
        type: 'kubernetes.io/dockerconfigjson',
        data: {
          '.dockerconfigjson': b64(
            JSON.stringify({
              auths: { 'registry.example.com': { username: 'acme', password: 'pull-only' } },
            }),
          ),
        },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { namespace: 'payments', name: 'db-password' },
        type: 'Opaque',
        data: { password: b64('hunter2') },
      },
    ],
  });
});
after(async () => {
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the first pull secret with an entry for the registry wins; the auth file answers for the rest', async () => {
  const warnings: string[] = [];
  const auth = new RegistryAuth({
    kube: { kubeconfig: api.kubeconfigPath },
    authFile,
    log: { warn: (m) => warnings.push(m) },
  });
  assert.equal(auth.configured, true);
  const secrets = ['payments/missing', 'payments/db-password', 'payments/acme-registry'];
  assert.deepEqual(await auth.credentials('registry.example.com', secrets), {
    username: 'acme',
    password: 'pull-only',
  });
  assert.deepEqual(warnings, [
    'pull secret payments/missing: not found',
    'pull secret payments/db-password: type Opaque is not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg',
  ]);
  // docker.io is not in the Secret: the mounted file's Hub entry applies.
  assert.deepEqual(await auth.credentials('docker.io', ['payments/acme-registry']), {
    username: 'hub',
    password: 'from-file',
  });
  assert.equal(await auth.credentials('ghcr.io', ['payments/acme-registry']), undefined);
  const reads = api.requests.filter((r) => r.path === '/api/v1/namespaces/payments/secrets/acme-registry');
  assert.equal(reads.length, 1, 'a Secret read once is reused for its TTL');
  assert.ok(reads.every((r) => r.authorized));
});

test('a Secret the scanner may not read is named with the RBAC it needs', async () => {
  const forbidden = await startFakeApiServer({ forbidden: ['secrets'] });
  try {
    const warnings: string[] = [];
    const auth = new RegistryAuth({
      kube: { kubeconfig: forbidden.kubeconfigPath },
      log: { warn: (m) => warnings.push(m) },
    });
    assert.equal(await auth.credentials('registry.example.com', ['payments/acme-registry']), undefined);
    assert.deepEqual(warnings, [
      'pull secret payments/acme-registry: forbidden (the image-scanner needs get on secrets in that namespace)',
    ]);
  } finally {
    await forbidden.stop();
  }
});

test('without a cluster or an auth file there are no credentials; a missing kubeconfig is named', async () => {
  assert.equal(new RegistryAuth().configured, false);
  assert.equal(
    await new RegistryAuth().credentials('registry.example.com', ['payments/acme-registry']),
    undefined,
  );
  const warnings: string[] = [];
  const auth = new RegistryAuth({
    kube: { kubeconfig: join(dir, 'no-such-kubeconfig') },
    log: { warn: (m) => warnings.push(m) },
  });
  assert.equal(await auth.credentials('registry.example.com', ['payments/acme-registry']), undefined);
  assert.deepEqual(warnings, [
    `pull secret payments/acme-registry: no cluster access: kubeconfig ${join(dir, 'no-such-kubeconfig')}: no such file`,
  ]);
});

test('the pull-secrets request option is namespace/name, comma-separated', () => {
  assert.deepEqual(parsePullSecretOption('payments/acme-registry, payments/other'), [
    'payments/acme-registry',
    'payments/other',
  ]);
  assert.deepEqual(parsePullSecretOption(''), []);
  assert.throws(
    () => parsePullSecretOption('acme-registry'),
    /option pull-secrets: "acme-registry" is not namespace\/name of a Secret/,
  );
});
