// Pod placement through the real producers: config-audit reading the recorded kind cluster from the fake API server
// (its pods carry spec.nodeName), the host assessor on the example node, and the correlator joining them by node.
//
// Adapted from the recording, as a controller would change it: kube-proxy's pod is given a Deployment and
// ReplicaSet built from its own spec (so it is one workload whose pods can move), and kube-system is served as the
// API server serves a namespace, labelled into the CDE (pci-scope=cde), so its privileged, host-network pods count.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { type EventEnvelope, ScannerKind } from '@vigil/contracts';
import { auditCluster } from '@vigil/config-audit';
import { corpusPath, repoRoot, startFakeApiServer, type FakeApiServer } from '@vigil/testing';
import { Correlator, type CorrelatedFinding } from './index.js';
import { CLUSTER, hostEvents, scanEvents } from './payments-events.spec-helper.js';

type Json = Record<string, unknown>;

const NODE = 'v1.36-control-plane';
const OTHER_NODE = 'v1.36-worker';
const PROXY = `${CLUSTER}/Deployment/kube-system/kube-proxy`;

function recordedProxyPod(): Json {
  const exchanges = JSON.parse(
    readFileSync(corpusPath('k8s', 'api', 'recorded', 'v1-36', 'pod-list.json'), 'utf8'),
  ) as { response_body: string }[];
  const items = (JSON.parse(exchanges[0]!.response_body) as Json)['items'] as Json[];
  return items.find((p) => String((p['metadata'] as Json)['name']).startsWith('kube-proxy-'))!;
}

/** The owners a Deployment would give the pod: Deployment → ReplicaSet → pod, linked by uid as the API links them. */
function ownersOf(pod: Json): { deployment: Json; replicaSet: Json; pod: Json } {
  const meta = pod['metadata'] as Json;
  const { nodeName: _n, ...template } = pod['spec'] as Json;
  const labels = meta['labels'] as Json;
  const spec = {
    selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
    template: { metadata: { labels }, spec: template },
  };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'kube-proxy', namespace: 'kube-system', uid: '7b1c7d0e-0000-4000-8000-00000000d001' },
    spec: { replicas: 1, ...spec },
  };
  const replicaSet = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'kube-proxy-6f7c9',
      namespace: 'kube-system',
      uid: '7b1c7d0e-0000-4000-8000-00000000d002',
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          name: 'kube-proxy',
          uid: deployment.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: { replicas: 1, ...spec },
  };
  const owned = {
    // A list's items carry no kind; the object served on its own does.
    apiVersion: 'v1',
    kind: 'Pod',
    ...pod,
    metadata: {
      ...meta,
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'kube-proxy-6f7c9',
          uid: replicaSet.metadata.uid,
          controller: true,
        },
      ],
    },
  };
  return { deployment, replicaSet, pod: owned };
}

const placed = (list: CorrelatedFinding[], workload: string) =>
  list.filter(
    (c) =>
      c.finding.ruleId === 'correlated/privileged-on-weak-node' &&
      `${CLUSTER}/${c.finding.asset?.resourceKind}/${c.finding.asset?.namespace}/${c.finding.asset?.name}` ===
        workload,
  );

describe('pod placement: a privileged CDE pod on a node whose host checks fail', () => {
  let server: FakeApiServer;
  let owners: ReturnType<typeof ownersOf>;
  let host: Awaited<ReturnType<typeof hostEvents>>;
  const live = async (scanId: string, at: string): Promise<EventEnvelope[]> => {
    const result = await auditCluster({
      kubeconfig: server.kubeconfigPath,
      cluster: CLUSTER,
      clock: () => new Date(at),
    });
    assert.deepEqual(result.errors, []);
    return scanEvents({
      scanId,
      scanner: ScannerKind.CONFIG,
      targetKey: `live:${server.context}`,
      at,
      findings: result.findings,
      inventory: result.inventory,
      producer: 'config-auditor',
    });
  };

  before(async () => {
    owners = ownersOf(recordedProxyPod());
    const kubeSystem = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: {
        name: 'kube-system',
        uid: '7b1c7d0e-0000-4000-8000-00000000d000',
        labels: { 'kubernetes.io/metadata.name': 'kube-system', 'pci-scope': 'cde' },
      },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    server = await startFakeApiServer({ objects: [kubeSystem, owners.deployment, owners.replicaSet] });
    // The recorded pod, now owned by the ReplicaSet.
    server.putObject(owners.pod);
    host = await hostEvents(repoRoot(), 'host-1', '2026-11-20T10:02:00Z', NODE);
  });
  after(() => server.stop());

  it('names the workload, the node and its failing host checks, from the pod placement alone', async () => {
    assert.ok(host.findings.length > 0, 'the example node fails host checks');
    const c = new Correlator();
    for (const e of [...(await live('cfg-1', '2026-11-20T10:00:00Z')), ...host.events]) c.apply(e);
    assert.deepEqual(
      c.graph.podsOf(PROXY).map((p) => `${p.name} on ${p.nodeName}`),
      [`${String((owners.pod['metadata'] as Json)['name'])} on ${NODE}`],
    );
    const found = placed(c.correlate(), PROXY);
    assert.equal(found.length, 1);
    const f = found[0]!.finding;
    assert.equal(f.asset?.node, NODE);
    const evidence = (key: string) => f.evidence.filter((e) => e.key === key).map((e) => e.value);
    assert.deepEqual(evidence('node'), [NODE]);
    assert.ok(evidence('host-access').includes('privileged container kube-proxy'));
    // It joins the config finding that names the privileged container and every failed host check of the node.
    const privileged = c.graph.workloadFindingsOf(PROXY).find((r) => r.value.ruleId === 'k8s/privileged');
    assert.ok(privileged, 'config-audit reports the privileged kube-proxy container on the Deployment');
    for (const id of [privileged.value.id, ...host.findings.map((h) => h.id)])
      assert.ok(f.relatedFindingIds.includes(id), `joins ${id}`);
    assert.ok(f.pciRequirements.length > 0);
    // The static control-plane pods run with hostNetwork on the same node: each is its own correlated finding.
    assert.ok(placed(c.correlate(), `${CLUSTER}/Pod/kube-system/etcd-${NODE}`).length === 1);
  });

  it('resolves when the pod moves off the node, and that is a diff of its own', async () => {
    const c = new Correlator();
    for (const e of [...(await live('cfg-1', '2026-11-20T10:00:00Z')), ...host.events]) c.apply(e);
    const first = placed(c.correlate(), PROXY);
    assert.equal(first.length, 1);
    c.update();
    const idsBefore = c.cachedIdCount;

    // The controller replaces the pod with one on another node: a new name, a new node.
    const meta = owners.pod['metadata'] as Json;
    assert.ok(server.removeObject('v1', 'Pod', 'kube-system', String(meta['name'])));
    server.putObject({
      ...owners.pod,
      metadata: { ...meta, name: 'kube-proxy-9xk2m', uid: '7b1c7d0e-0000-4000-8000-00000000d003' },
      spec: { ...(owners.pod['spec'] as Json), nodeName: OTHER_NODE },
    });
    try {
      for (const e of await live('cfg-2', '2026-11-20T11:00:00Z')) c.apply(e);
      assert.deepEqual(
        c.graph.podsOf(PROXY).map((p) => `${p.name} on ${p.nodeName}`),
        [`kube-proxy-9xk2m on ${OTHER_NODE}`],
      );
      const diff = c.update();
      assert.deepEqual(
        diff.resolved.map((r) => r.id),
        [first[0]!.id],
      );
      assert.equal(diff.added.length, 0, 'the other node has no failed host check');
      assert.deepEqual(placed(c.correlate(), PROXY), []);
      // The resolved correlation's hashed id is not kept: the cache holds only live correlations.
      assert.equal(c.cachedIdCount, idsBefore - 1);
      assert.equal(c.cachedIdCount, c.correlate().length);
    } finally {
      server.removeObject('v1', 'Pod', 'kube-system', 'kube-proxy-9xk2m');
      server.putObject(owners.pod);
    }
  });
});
