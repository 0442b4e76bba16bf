import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { NetworkIsolation, type InventoryItem } from '@vigil/contracts';
import { corpusPath, fixedClock, repoRoot } from '@vigil/testing';
import { auditManifests, auditObjects } from './audit.js';
import { type LoadedObject } from './model/k8s-object.js';

const of = <C extends NonNullable<InventoryItem['item']['case']>>(items: InventoryItem[], kind: C) =>
  items
    .map((i) => i.item)
    .filter((i) => i.case === kind)
    .map((i) => i.value as Extract<InventoryItem['item'], { case: C }>['value']);

test('the Acme Pay inventory: CDE namespaces, workloads, containers with pull secrets, service accounts', async () => {
  const r = await auditManifests({
    paths: [join(repoRoot(), 'examples', 'payments', 'k8s')],
    cluster: 'acme',
    clock: fixedClock('2026-12-01T00:00:00Z'),
  });
  const namespaces = of(r.inventory, 'namespace');
  assert.deepEqual(
    namespaces.map((n) => `${n.name}:${n.cde}:${n.labels['pci-scope'] ?? ''}`),
    ['monitoring:false:security-impacting', 'payments:true:cde', 'storefront:false:connected'],
  );
  const workloads = of(r.inventory, 'workload');
  const api = workloads.find((w) => w.name === 'payment-api')!;
  assert.equal(api.kind, 'Deployment');
  assert.equal(api.cde, true);
  assert.equal(api.serviceAccount, 'payment-api');
  assert.deepEqual(api.imagePullSecrets, ['acme-registry']);
  assert.equal(workloads.find((w) => w.name === 'checkout-web')?.cde, false);
  assert.equal(workloads.find((w) => w.kind === 'DaemonSet')?.replicas, 0);

  const containers = of(r.inventory, 'container');
  const tokenizer = containers.find((c) => c.workloadName === 'tokenizer' && !c.init)!;
  // A digest pinned in the reference is the digest; a tag alone leaves it to the running pods.
  assert.equal(
    tokenizer.imageDigest,
    'sha256:5d0f7c2a9b8e4f1d3c6a7b9e0f2d4c6b8a1e3f5d7c9b0a2e4f6d8c0b2a4e6f81',
  );
  const sidecar = containers.find((c) => c.imageRef === 'fluent/fluent-bit:latest')!;
  assert.equal(sidecar.workloadName, 'payment-api');
  assert.equal(sidecar.imageDigest, '');
  assert.deepEqual(sidecar.imagePullSecrets, ['acme-registry']);

  const sas = of(r.inventory, 'serviceAccount');
  const tokenSa = sas.find((s) => s.namespace === 'payments' && s.name === 'tokenizer')!;
  assert.equal(tokenSa.automountToken, false);
  assert.deepEqual(tokenSa.workloads, ['Deployment/payments/tokenizer']);
  // The RBAC analysis says what each workload's identity can do, and through which binding.
  const apiSa = sas.find((s) => s.namespace === 'payments' && s.name === 'payment-api')!;
  assert.ok(apiSa.capabilities.includes('read-secrets:payments'), apiSa.capabilities.join(','));
  assert.ok(
    apiSa.grantedBy.some((g) => g.startsWith('read-secrets:payments') && g.includes('RoleBinding/payments/')),
  );
  // The network analysis: the payments namespace is isolated both ways by its policies.
  assert.notEqual(api.ingress, NetworkIsolation.OPEN);
  assert.equal(workloads.find((w) => w.name === 'checkout-web')?.egress, NetworkIsolation.OPEN);
  const exposures = of(r.inventory, 'serviceExposure');
  assert.ok(
    exposures.some((e) => e.type === 'Ingress' && e.external),
    exposures.map((e) => e.type).join(','),
  );
});

test('running pods give their top-level workload the digests the kubelet resolved', () => {
  // The recorded kind cluster: kube-system pods with status.containerStatuses[].imageID, owned by ReplicaSets,
  // DaemonSets and the node (static pods). Only the pods are in the list, so each pod is its own workload here.
  const body = JSON.parse(readFileSync(corpusPath('k8s', 'api', 'bodies', 'v1-36-PodList.json'), 'utf8')) as {
    items: Record<string, unknown>[];
  };
  const objects: LoadedObject[] = body.items.map((raw, i) => ({
    raw: { apiVersion: 'v1', kind: 'Pod', ...raw },
    source: { file: 'v1-36-PodList.json', document: 0, line: undefined, item: i },
  }));
  const r = auditObjects(objects, { cluster: 'kind', clock: fixedClock('2026-12-01T00:00:00Z') });
  const containers = of(r.inventory, 'container');
  const etcd = containers.find((c) => c.name === 'etcd')!;
  assert.match(etcd.imageRef, /etcd/);
  const status = body.items
    .flatMap(
      (p) =>
        (p['status'] as { containerStatuses?: { name: string; imageID: string }[] }).containerStatuses ?? [],
    )
    .find((s) => s.name === 'etcd')!;
  assert.equal(etcd.imageDigest, /sha256:[a-f0-9]{64}$/.exec(status.imageID)?.[0]);
  const proxy = of(r.inventory, 'workload').find((w) => w.name.startsWith('kube-proxy'))!;
  assert.equal(proxy.hostNetwork, true);
  // A host-network pod shares the node's network namespace: no NetworkPolicy can isolate it.
  assert.equal(proxy.ingress, NetworkIsolation.OPEN);
});
