// Real: client-node, the checks, the recorded kind-cluster responses. Fake: the API server replaying them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { corpusPath, startFakeApiServer, type FakeApiServer } from '@vigil/testing';
import { type Json } from '../model/k8s-object.js';
import { auditCluster } from './audit-cluster.js';

const clock = () => new Date('2026-12-01T00:00:00Z');

async function withServer<T>(
  options: Parameters<typeof startFakeApiServer>[0],
  fn: (s: FakeApiServer) => Promise<T>,
): Promise<T> {
  const server = await startFakeApiServer(options);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

const failing = (r: Awaited<ReturnType<typeof auditCluster>>, checkId: string) =>
  r.outcomes.filter((o) => o.checkId === checkId && !o.pass);

const recordedPods = (): Json[] => {
  const exchanges = JSON.parse(
    readFileSync(corpusPath('k8s', 'api', 'recorded', 'v1-36', 'pod-list.json'), 'utf8'),
  ) as { response_body: string }[];
  return (JSON.parse(exchanges[0]!.response_body) as Json)['items'] as Json[];
};

test('auditCluster finds the real problems of the recorded kind cluster', async () => {
  await withServer({}, async (server) => {
    const result = await auditCluster({ kubeconfig: server.kubeconfigPath, clock });
    assert.deepEqual(result.errors, []);
    assert.equal(result.clusterIdentity.version, 'v1.36.2');

    const privileged = failing(result, 'k8s/privileged');
    assert.deepEqual(
      privileged.map((o) => `${o.resource}:${o.container}`),
      ['Pod/kube-system/kube-proxy-hsdvx:kube-proxy'],
    );
    const caps = failing(result, 'k8s/added-capabilities');
    assert.deepEqual(
      caps.map((o) => o.resource),
      ['Pod/kube-system/kindnet-4pxt7'],
    );
    assert.match(caps[0]!.actual, /NET_RAW/);
    assert.match(caps[0]!.actual, /NET_ADMIN/);
    // coredns drops ALL and adds only NET_BIND_SERVICE: not a finding.
    assert.ok(!caps.some((o) => o.resource.includes('coredns')));
    // The bootstrap binding that lets anonymous users read /version and /healthz.
    assert.deepEqual(
      failing(result, 'rbac/anonymous-binding').map((o) => o.resource),
      ['ClusterRoleBinding//system:public-info-viewer'],
    );

    // The finding points back at where it was read: the kind's live source and its index in the list.
    const finding = result.findings.find((f) => f.ruleId === 'k8s/privileged')!;
    assert.equal(
      finding.asset?.cluster,
      'kind-fake',
      'the context names the scope when kube-system is not readable',
    );
    assert.ok(finding.locations.includes('live:kind-fake/Pod (document 0, item 6)'));
    assert.deepEqual(result.files, [
      'live:kind-fake/Pod',
      'live:kind-fake/Deployment',
      'live:kind-fake/NetworkPolicy',
      'live:kind-fake/ClusterRoleBinding',
    ]);
    assert.equal(result.counts.total, result.findings.length);
  });
});

test("kube-proxy's pod is reported as its DaemonSet only when the DaemonSet is in the cluster", async () => {
  // The owner the pod names (uid included), with the pod's own spec as template: what `kubectl get ds` would show.
  const pod = recordedPods().find((p) => String((p['metadata'] as Json)['name']).startsWith('kube-proxy-'))!;
  const owner = ((pod['metadata'] as Json)['ownerReferences'] as Json[])[0]!;
  const { nodeName: _n, ...templateSpec } = pod['spec'] as Json;
  const daemonSet = {
    apiVersion: String(owner['apiVersion']),
    kind: String(owner['kind']),
    metadata: { name: owner['name'], namespace: 'kube-system', uid: owner['uid'] },
    spec: {
      selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
      template: { metadata: { labels: (pod['metadata'] as Json)['labels'] }, spec: templateSpec },
    },
  };
  await withServer({ objects: [daemonSet] }, async (server) => {
    const result = await auditCluster({ kubeconfig: server.kubeconfigPath, clock });
    assert.deepEqual(
      failing(result, 'k8s/privileged').map((o) => o.resource),
      ['DaemonSet/kube-system/kube-proxy'],
    );
    // kindnet's DaemonSet is not there, so its pod still speaks for itself.
    assert.deepEqual(
      failing(result, 'k8s/added-capabilities').map((o) => o.resource),
      ['Pod/kube-system/kindnet-4pxt7'],
    );
  });
});

test('a forbidden kind is an error entry while the rest is audited', async () => {
  await withServer({ forbidden: ['pods'] }, async (server) => {
    const result = await auditCluster({ kubeconfig: server.kubeconfigPath, clock, cluster: 'prod-eu' });
    assert.deepEqual(
      result.errors.map((e) => e.file),
      ['live:kind-fake/Pod'],
    );
    assert.match(
      result.errors[0]!.message,
      /cannot list Pod \(pods in API group ""\) in all namespaces: 403/,
    );
    assert.deepEqual(failing(result, 'k8s/privileged'), []);
    // The Deployment and the RBAC objects still get their findings.
    assert.ok(failing(result, 'k8s/no-seccomp').some((o) => o.resource === 'Deployment/kube-system/coredns'));
    assert.equal(failing(result, 'rbac/anonymous-binding').length, 1);
    assert.ok(result.findings.every((f) => f.asset?.cluster === 'prod-eu'));
  });
});

test('the inventory of a live read places every pod on its node under its top-level workload', async () => {
  // kube-proxy's DaemonSet is served, so its pod belongs to it; the rest have no owner in the read and stand alone.
  const pod = recordedPods().find((p) => String((p['metadata'] as Json)['name']).startsWith('kube-proxy-'))!;
  const owner = ((pod['metadata'] as Json)['ownerReferences'] as Json[])[0]!;
  const daemonSet = {
    apiVersion: String(owner['apiVersion']),
    kind: String(owner['kind']),
    metadata: { name: owner['name'], namespace: 'kube-system', uid: owner['uid'] },
    spec: { selector: { matchLabels: { 'k8s-app': 'kube-proxy' } }, template: { spec: {} } },
  };
  await withServer({ objects: [daemonSet] }, async (server) => {
    const result = await auditCluster({ kubeconfig: server.kubeconfigPath, clock });
    const pods = result.inventory.flatMap((i) => (i.item.case === 'pod' ? [i.item.value] : []));
    assert.deepEqual(
      pods.map((p) => `${p.name} ${p.workloadKind}/${p.workloadName} on ${p.nodeName} ${p.phase}`),
      [
        'coredns-589f44dc88-4fpns Pod/coredns-589f44dc88-4fpns on v1.36-control-plane Running',
        'coredns-589f44dc88-lxdzt Pod/coredns-589f44dc88-lxdzt on v1.36-control-plane Running',
        'etcd-v1.36-control-plane Pod/etcd-v1.36-control-plane on v1.36-control-plane Running',
        'kindnet-4pxt7 Pod/kindnet-4pxt7 on v1.36-control-plane Running',
        'kube-apiserver-v1.36-control-plane Pod/kube-apiserver-v1.36-control-plane on v1.36-control-plane Running',
        'kube-controller-manager-v1.36-control-plane Pod/kube-controller-manager-v1.36-control-plane on v1.36-control-plane Running',
        'kube-proxy-hsdvx DaemonSet/kube-proxy on v1.36-control-plane Running',
        'kube-scheduler-v1.36-control-plane Pod/kube-scheduler-v1.36-control-plane on v1.36-control-plane Running',
      ],
    );
    assert.ok(pods.every((p) => p.namespace === 'kube-system' && p.uid.length > 0));
  });
});
