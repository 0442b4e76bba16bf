import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ScanStatus,
  ScannerKind,
  TargetKind,
  create,
  InventoryItemSchema,
  ScanRequestedSchema,
  TargetSchema,
  toBinary,
  type ScanRequested,
} from '@vigil/contracts';
import { configAuditorEngine } from './index.js';
import { inventoryBatches, parseCdeLabel } from './scan-request.consumer.js';
import { repoRoot, startFakeApiServer } from '@vigil/testing';

function manifestsRequest(source: string): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId: 'scan-1',
    scanner: ScannerKind.CONFIG,
    scope: { cluster: 'test-cluster' },
    target: create(TargetSchema, {
      kind: TargetKind.MANIFESTS,
      key: source,
      ref: { case: 'manifests', value: { source } },
    }),
  });
}

const PRIVILEGED_POD = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop }
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext: { privileged: true }
`;

test('a manifests scan publishes one FindingReported per finding and completes ok with ids, passing results and units', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-auditor-'));
  try {
    await writeFile(join(dir, 'pod.yaml'), PRIVILEGED_POD);
    const engine = configAuditorEngine({ clock: () => new Date('2026-12-01T00:00:00Z') });
    assert.equal(engine.scanner, ScannerKind.CONFIG);
    const result = await engine.scan(manifestsRequest(dir));
    assert.equal(result.status, ScanStatus.OK);
    assert.equal(result.error, '');
    const events = (result.events ?? []).filter((e) => e.payload.case === 'findingReported');
    assert.equal(events.length, result.findingIds?.length);
    const privileged = events.find(
      (e) => e.payload.case === 'findingReported' && e.payload.value?.finding?.ruleId === 'k8s/privileged',
    );
    assert.ok(privileged, 'k8s/privileged finding published');
    assert.equal(privileged.subjectKey, (privileged.payload.value as { finding: { id: string } }).finding.id);
    const finding = privileged.payload.value as {
      scanId: string;
      finding: { asset: { cluster: string; name: string } };
    };
    assert.equal(finding.scanId, 'scan-1');
    assert.equal(finding.finding.asset.cluster, 'test-cluster');
    assert.equal(finding.finding.asset.name, 'web');
    assert.ok(result.passing?.some((p) => p.checkId === 'k8s/host-namespaces'));
    assert.ok(result.units?.some((u) => u.id === 'k8s/privileged' && u.version === 1));
    assert.equal(result.counts?.total, result.findingIds?.length);
    assert.ok((result.counts?.critical ?? 0) >= 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unreadable manifests path fails the scan and names the path', async () => {
  const result = await configAuditorEngine().scan(manifestsRequest('/nonexistent/manifests-dir'));
  assert.equal(result.status, ScanStatus.FAILED);
  assert.match(result.error, /\/nonexistent\/manifests-dir/);
});

function liveRequest(value: { kubeconfig?: string; context?: string }): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId: 'live-1',
    scanner: ScannerKind.CONFIG,
    scope: { cluster: 'kind-pay' },
    target: create(TargetSchema, {
      kind: TargetKind.LIVE_CLUSTER,
      key: 'live',
      ref: { case: 'liveCluster', value },
    }),
  });
}

test('a live-cluster scan reads the API server (recorded kind responses) and reports its findings and inventory', async () => {
  const server = await startFakeApiServer();
  try {
    const result = await configAuditorEngine({ clock: () => new Date('2026-12-01T00:00:00Z') }).scan(
      liveRequest({ kubeconfig: server.kubeconfigPath, context: server.context }),
    );
    assert.equal(result.status, ScanStatus.OK, result.error);
    const findings = (result.events ?? [])
      .filter((e) => e.payload.case === 'findingReported')
      .map(
        (e) =>
          (e.payload.value as { finding: { ruleId: string; asset: { name: string; cluster: string } } })
            .finding,
      );
    const privileged = findings.filter((f) => f.ruleId === 'k8s/privileged').map((f) => f.asset.name);
    assert.equal(privileged.length, 1);
    assert.match(privileged[0]!, /^kube-proxy-/);
    assert.ok(findings.every((f) => f.asset.cluster === 'kind-pay'));
    const items = (result.events ?? [])
      .filter((e) => e.payload.case === 'inventoryObserved')
      .flatMap(
        (e) =>
          (e.payload.value as { items: { item: { case: string; value: Record<string, unknown> } }[] }).items,
      );
    const cluster = items.find((i) => i.item.case === 'cluster')?.item.value;
    assert.equal(cluster?.['kubernetesVersion'], 'v1.36.2');
    assert.equal(cluster?.['context'], server.context);
    assert.ok(items.some((i) => i.item.case === 'container' && i.item.value['name'] === 'etcd'));
    assert.ok(server.requests.some((r) => r.path === '/api/v1/pods'));
  } finally {
    await server.stop();
  }
});

test('a live-cluster scan with rejected credentials fails naming the server', async () => {
  const server = await startFakeApiServer();
  try {
    const result = await configAuditorEngine().scan(
      liveRequest({ kubeconfig: server.writeKubeconfig({ token: 'wrong' }), context: server.context }),
    );
    assert.equal(result.status, ScanStatus.FAILED);
    assert.ok(result.error.includes(server.url), result.error);
  } finally {
    await server.stop();
  }
});

test('the inventory goes out as InventoryObserved batches and, with a blob store, as one blob for the report', async () => {
  const stored: { content: Uint8Array; mediaType: string }[] = [];
  const engine = configAuditorEngine({
    clock: () => new Date('2026-12-01T00:00:00Z'),
    putBlob: async (content, mediaType) => {
      stored.push({ content, mediaType });
      return `sha256:${'ab'.repeat(32)}`;
    },
  });
  const source = join(repoRoot(), 'examples', 'payments', 'k8s');
  const result = await engine.scan(manifestsRequest(source));
  assert.equal(result.status, ScanStatus.OK);
  const inventory = (result.events ?? []).filter((e) => e.payload.case === 'inventoryObserved');
  assert.equal(inventory.length, 1);
  assert.equal(inventory[0]!.subjectKey, source);
  const items = (
    inventory[0]!.payload.value as {
      items: { item: { case: string; value: { name?: string; cde?: boolean } } }[];
    }
  ).items;
  assert.ok(
    items.some((i) => i.item.case === 'namespace' && i.item.value.name === 'payments' && i.item.value.cde),
  );
  assert.equal(result.blobs?.[0]?.role, 'inventory');
  assert.equal(stored[0]?.mediaType, 'application/vnd.vigil.inventory+json');
  const json = JSON.parse(new TextDecoder().decode(stored[0]!.content)) as unknown[];
  assert.equal(json.length, items.length);
});

test('a custom CDE label moves the CDE; a malformed one fails the scan naming it', async () => {
  const source = join(repoRoot(), 'examples', 'payments', 'k8s');
  const request = manifestsRequest(source);
  request.options = { 'cde-label': 'pci-scope=connected' };
  const result = await configAuditorEngine().scan(request);
  const ns = (result.events ?? [])
    .filter((e) => e.payload.case === 'inventoryObserved')
    .flatMap(
      (e) =>
        (e.payload.value as { items: { item: { case: string; value: { name?: string; cde?: boolean } } }[] })
          .items,
    )
    .filter((i) => i.item.case === 'namespace' && i.item.value.cde)
    .map((i) => i.item.value.name);
  assert.deepEqual(ns, ['storefront']);
  request.options = { 'cde-label': 'no equals sign' };
  const bad = await configAuditorEngine().scan(request);
  assert.equal(bad.status, ScanStatus.FAILED);
  assert.match(bad.error, /cde-label "no equals sign" is not a label key=value/);
  assert.deepEqual(parseCdeLabel('example.com/zone=cde'), { key: 'example.com/zone', value: 'cde' });
  assert.equal(parseCdeLabel(undefined), undefined);
});

test('a large inventory is split into events under 512 KiB, in order', () => {
  const items = Array.from({ length: 6000 }, (_, n) =>
    create(InventoryItemSchema, {
      item: {
        case: 'namespace',
        value: { name: `ns-${n}`, uid: '', labels: { team: 'x'.repeat(100) }, cde: false },
      },
    }),
  );
  const batches = inventoryBatches(items);
  assert.ok(batches.length >= 2, `${batches.length} batches`);
  for (const b of batches)
    assert.ok(b.reduce((n, i) => n + toBinary(InventoryItemSchema, i).byteLength, 0) < 512 * 1024);
  assert.deepEqual(
    batches.flat().map((i) => (i.item.value as { name: string }).name),
    items.map((i) => (i.item.value as { name: string }).name),
  );
});

test('a document that cannot be read fails the scan (so it resolves nothing) while the rest is still reported', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-auditor-'));
  try {
    await writeFile(join(dir, 'pod.yaml'), PRIVILEGED_POD);
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let n = 0; n < 9; n++)
      bomb.push(
        `${String.fromCharCode(98 + n)}: &${String.fromCharCode(98 + n)} [${Array(9)
          .fill(`*${String.fromCharCode(97 + n)}`)
          .join(',')}]`,
      );
    await writeFile(join(dir, 'bomb.yaml'), `${bomb.join('\n')}\n`);
    const result = await configAuditorEngine().scan(manifestsRequest(dir));
    assert.equal(result.status, ScanStatus.FAILED);
    assert.match(result.error, /1 input\(s\) not audited, so this scan resolves nothing: .*bomb\.yaml/);
    const ruleIds = (result.events ?? [])
      .filter((e) => e.payload.case === 'findingReported')
      .map((e) => (e.payload.value as { finding: { ruleId: string } }).finding.ruleId);
    assert.ok(ruleIds.includes('k8s/privileged'), 'the readable pod is still audited');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an input with no Kubernetes object in it fails the scan instead of resolving everything', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-auditor-'));
  try {
    const result = await configAuditorEngine().scan(manifestsRequest(dir));
    assert.equal(result.status, ScanStatus.FAILED);
    assert.equal(result.error, `no Kubernetes objects in ${dir}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
