import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AssetKind } from './gen/vigil/v1/common_pb.js';
import { FindingSource } from './gen/vigil/v1/finding_pb.js';
import { findingId, findingIdCanonical, type FindingIdInput } from './finding-id.js';

const privileged: FindingIdInput = {
  source: FindingSource.CONFIG,
  ruleId: 'k8s-privileged-container',
  asset: {
    kind: AssetKind.CONTAINER,
    cluster: 'default',
    namespace: 'payments',
    resourceKind: 'Deployment',
    name: 'api',
    container: 'app',
    imageRef: 'registry.example/payments/api:1.4.2',
  },
  location: 'spec.template.spec.containers[0].securityContext.privileged',
};

const openssl: FindingIdInput = {
  source: FindingSource.IMAGE,
  ruleId: 'CVE-2022-0778',
  asset: {
    kind: AssetKind.IMAGE,
    cluster: 'default',
    imageRef: 'registry.example/payments/api:1.4.2',
    imageDigest: 'sha256:4b1d6ea2e5c2b1c45e3fbd7f4cb0c1e8f5d5d0e8a3c0f2d7b9e1a6c3d2f4e5a6',
  },
  location: 'pkg:deb/ubuntu/libssl1.1?arch=amd64&distro=bionic',
};

test('findingId is the source prefix and 32 hex digits of the sha256 of the canonical form (computed with sha256sum)', () => {
  assert.equal(
    findingIdCanonical(privileged),
    '["vigil-finding-id/1","config","k8s-privileged-container","container","default","Deployment","payments","api","app","spec.template.spec.containers[0].securityContext.privileged"]',
  );
  // printf '%s' '<canonical above>' | sha256sum -> 05800239b7897ea823e5c7b8dc1a31454a1c5545e5066a90fff570b13fdbe669
  assert.equal(findingId(privileged), 'config-05800239b7897ea823e5c7b8dc1a3145');
  // printf '%s' '["vigil-finding-id/1","image","CVE-2022-0778","image","default",
  //   "registry.example/payments/api:1.4.2","pkg:deb/ubuntu/libssl1.1?arch=amd64&distro=bionic"]' | sha256sum
  assert.equal(findingId(openssl), 'image-235892704151f76b125864a7f2c9d933');
});

test('findingId changes when any identifying field changes', () => {
  const base = findingId(privileged);
  const variants: Array<[string, FindingIdInput]> = [
    ['source', { ...privileged, source: FindingSource.RUNTIME }],
    ['ruleId', { ...privileged, ruleId: 'k8s-host-pid' }],
    ['location', { ...privileged, location: 'spec.template.spec.containers[1].securityContext.privileged' }],
    ['no location', { ...privileged, location: undefined }],
    ['cluster', { ...privileged, asset: { ...privileged.asset, cluster: 'prod-eu' } }],
    ['namespace', { ...privileged, asset: { ...privileged.asset, namespace: 'default' } }],
    ['resourceKind', { ...privileged, asset: { ...privileged.asset, resourceKind: 'StatefulSet' } }],
    ['name', { ...privileged, asset: { ...privileged.asset, name: 'api-canary' } }],
    ['container', { ...privileged, asset: { ...privileged.asset, container: 'sidecar' } }],
    ['kind', { ...privileged, asset: { ...privileged.asset, kind: AssetKind.WORKLOAD } }],
  ];
  const seen = new Set([base]);
  for (const [what, input] of variants) {
    const id = findingId(input);
    assert.notEqual(id, base, `changing ${what} must change the id`);
    assert.ok(!seen.has(id), `changing ${what} gave an id another variant already has`);
    seen.add(id);
  }
  assert.notEqual(
    findingId({ ...openssl, asset: { ...openssl.asset, imageRef: 'registry.example/payments/api:1.4.3' } }),
    findingId(openssl),
  );
});

test('findingId ignores descriptive fields: a new image digest under the same tag, a workload image bump', () => {
  assert.equal(
    findingId({ ...openssl, asset: { ...openssl.asset, imageDigest: 'sha256:' + 'f'.repeat(64) } }),
    findingId(openssl),
  );
  assert.equal(
    findingId({
      ...privileged,
      asset: { ...privileged.asset, imageRef: 'registry.example/payments/api:2.0.0' },
    }),
    findingId(privileged),
  );
  // An image known only by digest is identified by it.
  const byDigest = {
    ...openssl,
    asset: { kind: AssetKind.IMAGE, cluster: 'default', imageDigest: 'sha256:' + 'a'.repeat(64) },
  };
  assert.notEqual(
    findingId(byDigest),
    findingId({ ...byDigest, asset: { ...byDigest.asset, imageDigest: 'sha256:' + 'b'.repeat(64) } }),
  );
});

test('findingId rejects incomplete input, naming the field', () => {
  assert.throws(
    () => findingId({ ...privileged, source: FindingSource.UNSPECIFIED }),
    /findingId: source 0 is not image/,
  );
  assert.throws(() => findingId({ ...privileged, ruleId: '' }), /findingId: ruleId is empty/);
  assert.throws(
    () => findingId({ ...privileged, asset: { ...privileged.asset, cluster: '' } }),
    /asset\.cluster is required/,
  );
  assert.throws(
    () => findingId({ ...privileged, asset: { ...privileged.asset, container: '' } }),
    /asset\.container is required for a container asset/,
  );
  assert.throws(
    () => findingId({ ...openssl, asset: { kind: AssetKind.IMAGE, cluster: 'default' } }),
    /asset\.imageRef or asset\.imageDigest is required for an image asset/,
  );
  assert.throws(
    () => findingId({ ...privileged, asset: { ...privileged.asset, kind: AssetKind.UNSPECIFIED } }),
    /asset\.kind 0 is not a known asset kind/,
  );
});
