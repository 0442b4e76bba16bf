// Real: client-node's kubeconfig loading and request machinery, node:http(s), the recorded API responses of kind
// clusters. Fake: the API server itself (libs/testing's startFakeApiServer replaying those recordings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { corpusPath, startFakeApiServer, type FakeApiServer } from '@vigil/testing';
import { type Json, type LoadedObject } from '../model/k8s-object.js';
import { readCluster } from './cluster-reader.js';

const api = (...p: string[]) => corpusPath('k8s', 'api', ...p);
const recordedList = (file: string): Json => {
  const exchanges = JSON.parse(readFileSync(api('recorded', file), 'utf8')) as { response_body: string }[];
  return JSON.parse(exchanges[0]!.response_body) as Json;
};
const listFile = (...p: string[]) => JSON.parse(readFileSync(api(...p), 'utf8')) as Json;
const namesOf = (list: Json) => (list['items'] as Json[]).map((i) => (i['metadata'] as Json)['name']);

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

const byKind = (objects: LoadedObject[], kind: string) => objects.filter((o) => o.raw['kind'] === kind);
const nameOfRaw = (o: LoadedObject) => (o.raw['metadata'] as Json)['name'];

test('readCluster returns the recorded objects as the raw JSON the server sent, kind and apiVersion from the list', async () => {
  await withServer({}, async (server) => {
    const result = await readCluster({ kubeconfig: server.kubeconfigPath, pageSize: 3 });
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.skipped, []);

    const podList = recordedList('v1-36/pod-list.json');
    const pods = byKind(result.objects, 'Pod');
    assert.deepEqual(pods.map(nameOfRaw), namesOf(podList));
    assert.ok(pods.map(nameOfRaw).includes('kube-apiserver-v1.36-control-plane'));
    assert.ok(pods.map(nameOfRaw).includes('etcd-v1.36-control-plane'));
    // Byte-for-byte the recorded items plus the TypeMeta the list carried: no Date objects, no renamed fields.
    (podList['items'] as Json[]).forEach((item, i) => {
      assert.deepEqual(pods[i]!.raw, { apiVersion: 'v1', kind: 'Pod', ...item });
      assert.deepEqual(pods[i]!.source, {
        file: 'live:kind-fake/Pod',
        document: 0,
        line: undefined,
        item: i,
      });
    });
    const proxy = pods.find((p) => String(nameOfRaw(p)).startsWith('kube-proxy-'))!;
    const proxySpec = proxy.raw['spec'] as Json;
    assert.equal(proxySpec['hostNetwork'], true);
    assert.deepEqual((proxySpec['containers'] as Json[])[0]!['securityContext'], { privileged: true });
    assert.equal(typeof (proxy.raw['metadata'] as Json)['creationTimestamp'], 'string');

    const deployments = byKind(result.objects, 'Deployment');
    assert.deepEqual(deployments.map(nameOfRaw), namesOf(recordedList('v1-36/deployment-list.json')));
    assert.equal(deployments[0]!.raw['apiVersion'], 'apps/v1');

    const policies = byKind(result.objects, 'NetworkPolicy');
    assert.equal(policies.length, 13);
    assert.deepEqual(
      policies.map(nameOfRaw),
      namesOf(listFile('assembled', 'NetworkPolicyList.microservices-demo.json')),
    );
    const bindings = byKind(result.objects, 'ClusterRoleBinding');
    assert.deepEqual(
      bindings.map(nameOfRaw),
      namesOf(listFile('assembled', 'ClusterRoleBindingList.bootstrap.json')),
    );
    assert.ok(bindings.map(nameOfRaw).includes('cluster-admin'));

    assert.equal(result.cluster.context, 'kind-fake');
    assert.equal(result.cluster.server, server.url);
    assert.equal(result.cluster.version, 'v1.36.2');
    assert.equal(result.cluster.uid, undefined, 'no kube-system Namespace in the recording');
    assert.equal(result.resourceVersions.Pod, '554');

    // Cluster-wide lists, paged with the continue token the server handed out.
    const podRequests = server.requests.filter((r) => r.path === '/api/v1/pods');
    assert.equal(podRequests.length, Math.ceil(pods.length / 3));
    assert.ok(podRequests.every((r) => r.query['limit'] === '3'));
    assert.equal(podRequests[0]!.query['continue'], undefined);
    assert.ok(podRequests.slice(1).every((r) => typeof r.query['continue'] === 'string'));
    assert.ok(server.requests.every((r) => r.authorized && r.method === 'GET'));
  });
});

test('readCluster reads the v1.32 recording too, over HTTPS checked against the kubeconfig CA', async () => {
  await withServer(
    { tls: true, recordings: [api('recorded', 'v1-32', 'pod-list.json')], lists: [] },
    async (server) => {
      assert.ok(server.url.startsWith('https://'));
      const result = await readCluster({ kubeconfig: server.kubeconfigPath, kinds: ['Pod', 'Deployment'] });
      assert.deepEqual(
        byKind(result.objects, 'Pod').map(nameOfRaw),
        namesOf(recordedList('v1-32/pod-list.json')),
      );
      assert.deepEqual(byKind(result.objects, 'Deployment'), []);
      assert.equal(result.cluster.version, 'v1.32.13');
    },
  );
});

test('a group the server does not serve is skipped with a note and never requested', async () => {
  await withServer({ withoutGroups: ['batch'] }, async (server) => {
    const result = await readCluster({ kubeconfig: server.kubeconfigPath });
    assert.deepEqual(
      result.skipped.map((s) => s.kind),
      ['Job', 'CronJob'],
    );
    assert.match(result.skipped[1]!.reason, /batch\/v1 or batch\/v1beta1/);
    assert.deepEqual(result.errors, []);
    assert.ok(!server.requests.some((r) => r.path.startsWith('/apis/batch')));
    assert.equal(byKind(result.objects, 'Pod').length, 8);
  });
});

test('a 403 on one kind is an error entry naming the kind and the rule; the other kinds are still read', async () => {
  await withServer({ forbidden: ['networking.k8s.io/networkpolicies'] }, async (server) => {
    const result = await readCluster({ kubeconfig: server.kubeconfigPath });
    assert.equal(result.errors.length, 1);
    const [error] = result.errors;
    assert.equal(error!.file, 'live:kind-fake/NetworkPolicy');
    assert.match(
      error!.message,
      /cannot list NetworkPolicy \(networkpolicies in API group "networking\.k8s\.io"\)/,
    );
    assert.match(error!.message, /cannot list resource "networkpolicies"/, 'the server message is kept');
    assert.match(error!.message, /resources: \["networkpolicies"\], verbs: \[get, list, watch\]/);
    assert.deepEqual(byKind(result.objects, 'NetworkPolicy'), []);
    assert.equal(byKind(result.objects, 'Pod').length, 8);
    assert.equal(byKind(result.objects, 'ClusterRoleBinding').length, 10);
  });
});

test('the kube-system namespace uid identifies the cluster when it can be read', async () => {
  const uid = 'c0f1e2d3-0000-4000-8000-000000000001';
  await withServer(
    { objects: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system', uid } }] },
    async (server) => {
      const listed = await readCluster({ kubeconfig: server.kubeconfigPath });
      assert.equal(listed.cluster.uid, uid);
      // Without Namespace among the kinds the reader asks for the one object instead.
      const fetched = await readCluster({ kubeconfig: server.kubeconfigPath, kinds: ['Pod'] });
      assert.equal(fetched.cluster.uid, uid);
      assert.ok(server.requests.some((r) => r.path === '/api/v1/namespaces/kube-system'));
    },
  );
});

test('a wrong token is a clear error naming the context and server, before any list', async () => {
  await withServer({}, async (server) => {
    const kubeconfig = server.writeKubeconfig({ token: 'not-the-token' });
    await assert.rejects(readCluster({ kubeconfig }), (err: Error) => {
      assert.match(err.message, /rejected the credentials \(401 on GET \/api: Unauthorized\)/);
      assert.ok(err.message.includes(`context kind-fake (server ${server.url}, kubeconfig ${kubeconfig})`));
      return true;
    });
    assert.ok(server.requests.every((r) => r.status === 401));
    assert.ok(!server.requests.some((r) => r.path.includes('pods')));
  });
});

test('an unreachable server is an error naming the server and the connection problem', async () => {
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as { port: number }).port;
      probe.close(() => resolve(p));
    });
  });
  await withServer({}, async (server) => {
    const kubeconfig = server.writeKubeconfig({ server: `http://127.0.0.1:${port}` });
    await assert.rejects(readCluster({ kubeconfig }), (err: Error) => {
      assert.ok(err.message.includes(`server http://127.0.0.1:${port}`), err.message);
      assert.match(err.message, /cannot reach the API server: ECONNREFUSED/);
      return true;
    });
  });
});

test('a bad kubeconfig or context throws naming it', async () => {
  await assert.rejects(
    readCluster({ kubeconfig: '/nonexistent/kubeconfig' }),
    /kubeconfig \/nonexistent\/kubeconfig: no such file/,
  );
  await withServer({}, async (server) => {
    await assert.rejects(
      readCluster({ kubeconfig: server.kubeconfigPath, context: 'kind-prod' }),
      new RegExp(`kubeconfig ${server.kubeconfigPath}: no context "kind-prod" \\(contexts: kind-fake\\)`),
    );
  });
  await assert.rejects(readCluster({ kinds: ['Pods' as 'Pod'] }), /unknown kind\(s\) Pods for a live read/);
});

test('without a kubeconfig argument the KUBECONFIG variable is followed, as kubectl does', async () => {
  await withServer({}, async (server) => {
    const saved = process.env['KUBECONFIG'];
    process.env['KUBECONFIG'] = server.kubeconfigPath;
    try {
      const result = await readCluster({ kinds: ['Deployment'] });
      assert.deepEqual(byKind(result.objects, 'Deployment').map(nameOfRaw), ['coredns']);
    } finally {
      if (saved === undefined) delete process.env['KUBECONFIG'];
      else process.env['KUBECONFIG'] = saved;
    }
  });
});

test('inCluster outside a pod says why it cannot work', async () => {
  const saved = process.env['KUBERNETES_SERVICE_HOST'];
  delete process.env['KUBERNETES_SERVICE_HOST'];
  try {
    await assert.rejects(
      readCluster({ inCluster: true }),
      /in-cluster service account: KUBERNETES_SERVICE_HOST/,
    );
  } finally {
    if (saved !== undefined) process.env['KUBERNETES_SERVICE_HOST'] = saved;
  }
});
