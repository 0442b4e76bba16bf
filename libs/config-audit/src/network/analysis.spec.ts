import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { corpusPath } from '@vigil/testing';
import { analyzeNetwork, exposuresOf, type AllowedRule, type Peer, type SelectorPeer } from './analysis.js';
import { contextOf, load, objects } from './network.spec-helper.js';

const recipes = (file: string) => corpusPath('k8s', 'manifests', 'network-policy-recipes', file);

// The pods the recipes' walkthroughs start (kubectl run --labels ...), plus a bystander in each namespace.
const RECIPE_PODS = `
apiVersion: v1
kind: Namespace
metadata: { name: prod, labels: { purpose: production } }
---
apiVersion: v1
kind: Namespace
metadata: { name: other, labels: { team: operations } }
---
apiVersion: v1
kind: Pod
metadata: { name: web, labels: { app: web } }
spec: { containers: [{ name: c, image: nginx:1.25 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: apiserver, labels: { app: bookstore, role: api } }
spec: { containers: [{ name: c, image: nginx:1.25 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: search, labels: { app: bookstore, role: search } }
spec: { containers: [{ name: c, image: nginx:1.25 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: db, labels: { app: bookstore, role: db } }
spec: { containers: [{ name: c, image: redis:7 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: inventory, labels: { app: inventory, role: web } }
spec: { containers: [{ name: c, image: nginx:1.25 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: monitor, labels: { role: monitoring } }
spec: { containers: [{ name: c, image: busybox:1.36 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: apiserver5000, labels: { app: apiserver } }
spec: { containers: [{ name: c, image: nginx:1.25 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: foo, labels: { app: foo } }
spec: { containers: [{ name: c, image: nginx:1.25 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: prod-client, namespace: prod, labels: { app: client } }
spec: { containers: [{ name: c, image: busybox:1.36 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: ops-monitor, namespace: other, labels: { type: monitoring } }
spec: { containers: [{ name: c, image: busybox:1.36 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: ops-shell, namespace: other, labels: { type: shell } }
spec: { containers: [{ name: c, image: busybox:1.36 }] }
`;

async function recipe(file: string) {
  const ctx = contextOf([...(await load([recipes(file)])), ...objects(RECIPE_PODS)]);
  const a = analyzeNetwork(ctx);
  return (name: string, ns = 'default') => a.byKey.get(`Pod/${ns}/${name}`)!;
}

const selectorPeers = (r: AllowedRule): SelectorPeer[] =>
  r.peers === 'any' ? [] : r.peers.filter((p): p is SelectorPeer => p.type === 'selector');

test('01 deny all traffic to an application: web is isolated for ingress with nothing allowed, others untouched', async () => {
  const pod = await recipe('01-deny-all-traffic-to-an-application-1.yaml');
  assert.equal(pod('web').ingress.class, 'isolated');
  assert.deepEqual(pod('web').ingress.policies, ['web-deny-all']);
  assert.deepEqual(pod('web').ingress.allowed, []);
  // No policyTypes and no egress section: egress is not enforced.
  assert.equal(pod('web').egress.isolated, false);
  assert.equal(pod('web').egress.class, 'open');
  assert.equal(pod('db').ingress.isolated, false);
});

test('02 limit traffic to an application: the bookstore API admits only app=bookstore pods, any port', async () => {
  const pod = await recipe('02-limit-traffic-to-an-application-1.yaml');
  const v = pod('apiserver').ingress;
  assert.equal(v.class, 'restricted');
  assert.equal(v.allowed.length, 1);
  assert.equal(v.allowed[0]!.ports, 'all');
  const [peer] = selectorPeers(v.allowed[0]!);
  assert.equal(peer?.podSelector, 'app=bookstore');
  assert.equal(peer?.namespaceSelector, undefined);
  assert.deepEqual(peer?.workloads, ['Pod/default/apiserver', 'Pod/default/search', 'Pod/default/db']);
  assert.equal(pod('search').ingress.isolated, false);
});

test('03 deny all non-whitelisted traffic in the namespace: every pod of default, none elsewhere', async () => {
  const pod = await recipe('03-deny-all-non-whitelisted-traffic-in-the-namespace-1.yaml');
  for (const name of ['web', 'apiserver', 'db', 'foo'])
    assert.equal(pod(name).ingress.class, 'isolated', name);
  assert.equal(pod('prod-client', 'prod').ingress.isolated, false);
});

test('04 deny traffic from other namespaces: a null matchLabels selects all pods, admitting only pods of default', async () => {
  const pod = await recipe('04-deny-traffic-from-other-namespaces-1.yaml');
  const v = pod('web').ingress;
  assert.equal(v.class, 'restricted');
  const [peer] = selectorPeers(v.allowed[0]!);
  assert.deepEqual(peer?.namespaces, ['default']);
  assert.equal(peer?.allPods, true);
  assert.ok(peer?.workloads.every((w) => w.startsWith('Pod/default/')));
  assert.ok(!peer?.workloads.includes('Pod/prod/prod-client'));
  assert.equal(pod('foo').ingress.isolated, true);
});

test('05 allow traffic from all namespaces: namespaceSelector {} reaches pods of every namespace', async () => {
  const pod = await recipe('05-allow-traffic-from-all-namespaces-1.yaml');
  const [peer] = selectorPeers(pod('web').ingress.allowed[0]!);
  assert.equal(peer?.allNamespaces, true);
  assert.deepEqual([...(peer?.namespaces ?? [])].sort(), ['default', 'other', 'prod']);
  assert.ok(
    peer?.workloads.includes('Pod/prod/prod-client') && peer.workloads.includes('Pod/other/ops-shell'),
  );
  // Every pod in the cluster, but not outside addresses: restricted, not open.
  assert.equal(pod('web').ingress.class, 'restricted');
});

test('06 allow traffic from a namespace: only namespaces labelled purpose=production', async () => {
  const pod = await recipe('06-allow-traffic-from-a-namespace-1.yaml');
  const [peer] = selectorPeers(pod('web').ingress.allowed[0]!);
  assert.deepEqual(peer?.namespaces, ['prod']);
  assert.deepEqual(peer?.workloads, ['Pod/prod/prod-client']);
});

test('07 some pods in another namespace: namespaceSelector and podSelector in one peer are ANDed', async () => {
  const pod = await recipe('07-allow-traffic-from-some-pods-in-another-namespace-1.yaml');
  const v = pod('web').ingress;
  const peers = selectorPeers(v.allowed[0]!);
  assert.equal(peers.length, 1);
  assert.equal(peers[0]!.namespaceSelector, 'team=operations');
  assert.equal(peers[0]!.podSelector, 'type=monitoring');
  // ops-shell is in the operations namespace but not a monitoring pod; nothing of default qualifies.
  assert.deepEqual(peers[0]!.workloads, ['Pod/other/ops-monitor']);
});

test('08 allow external traffic: one empty rule admits every source on every port', async () => {
  const pod = await recipe('08-allow-external-traffic-1.yaml');
  const v = pod('web').ingress;
  assert.equal(v.isolated, true);
  assert.equal(v.class, 'open');
  assert.equal(v.allowed[0]!.peers, 'any');
  assert.equal(v.allowed[0]!.ports, 'all');
  assert.deepEqual(v.openBecause, ['web-allow-external spec.ingress[0] allows every source on every port']);
});

test('09 allow traffic only to a port: role=monitoring pods on TCP 5000 only', async () => {
  const pod = await recipe('09-allow-traffic-only-to-a-port-1.yaml');
  const r = pod('apiserver5000').ingress.allowed[0]!;
  assert.deepEqual(r.ports, [{ protocol: 'TCP', port: 5000 }]);
  assert.deepEqual(selectorPeers(r)[0]?.workloads, ['Pod/default/monitor']);
});

test('10 multiple selectors: separate peers are ORed', async () => {
  const pod = await recipe('10-allowing-traffic-with-multiple-selectors-1.yaml');
  const r = pod('db').ingress.allowed[0]!;
  assert.deepEqual(
    selectorPeers(r).flatMap((p) => p.workloads),
    ['Pod/default/search', 'Pod/default/apiserver', 'Pod/default/inventory'],
  );
});

test('11/12/14 egress recipes: deny all, DNS only (kube-system AND kube-dns on UDP/TCP 53), namespace-wide', async () => {
  const deny = await recipe('11-deny-egress-traffic-from-an-application-1.yaml');
  assert.equal(deny('foo').egress.class, 'isolated');
  assert.equal(deny('foo').ingress.isolated, false); // policyTypes [Egress] only
  for (const file of [
    '11-deny-egress-traffic-from-an-application-2.yaml',
    '14-deny-external-egress-traffic-1.yaml',
  ]) {
    const dns = await recipe(file);
    const r = dns('foo').egress.allowed[0]!;
    assert.deepEqual(r.ports, [
      { protocol: 'UDP', port: 53 },
      { protocol: 'TCP', port: 53 },
    ]);
    const [peer] = selectorPeers(r);
    assert.equal(peer?.namespaceSelector, 'kubernetes.io/metadata.name=kube-system');
    assert.equal(peer?.podSelector, 'k8s-app=kube-dns');
    assert.deepEqual(peer?.workloads, []); // no kube-system pod in the input
    assert.equal(dns('foo').egress.class, 'restricted');
  }
  const ns = await recipe('12-deny-all-non-whitelisted-traffic-from-the-namespace-1.yaml');
  assert.equal(ns('web').egress.class, 'isolated');
  assert.equal(ns('prod-client', 'prod').egress.isolated, false);
});

const boutique = corpusPath('k8s', 'manifests', 'microservices-demo');

test('Online Boutique: who may reach paymentservice, cartservice and redis-cart, and on which port', async () => {
  const ctx = contextOf(
    await load([join(boutique, 'kubernetes-manifests.yaml'), join(boutique, 'network-policies')]),
  );
  const a = analyzeNetwork(ctx);
  const ingressOf = (name: string) => a.byKey.get(`Deployment/default/${name}`)!.ingress;
  const sources = (name: string) =>
    ingressOf(name).allowed.map((r) => ({
      from: selectorPeers(r).flatMap((p) => p.workloads),
      ports: r.ports,
      policy: r.policy,
    }));
  assert.deepEqual(sources('paymentservice'), [
    {
      from: ['Deployment/default/checkoutservice'],
      ports: [{ protocol: 'TCP', port: 50051 }],
      policy: 'paymentservice',
    },
  ]);
  assert.deepEqual(sources('cartservice'), [
    {
      from: ['Deployment/default/frontend', 'Deployment/default/checkoutservice'],
      ports: [{ protocol: 'TCP', port: 7070 }],
      policy: 'cartservice',
    },
  ]);
  assert.deepEqual(sources('redis-cart'), [
    {
      from: ['Deployment/default/cartservice'],
      ports: [{ protocol: 'TCP', port: 6379 }],
      policy: 'redis-cart',
    },
  ]);
  // deny-all isolates both directions; every service then reopens egress with "- {}".
  assert.deepEqual([...ingressOf('paymentservice').policies].sort(), ['deny-all', 'paymentservice']);
  assert.equal(a.byKey.get('Deployment/default/paymentservice')!.egress.class, 'open');
  assert.equal(ingressOf('frontend').class, 'open');
  // The public entry: frontend-external is a LoadBalancer in front of frontend.
  const lb = exposuresOf(ctx).services.filter((s) => s.external);
  assert.deepEqual(
    lb.map((s) => [s.key, s.type, s.workloads.map((w) => w.name)]),
    [['Service/default/frontend-external', 'LoadBalancer', ['frontend']]],
  );
});

test('the assembled NetworkPolicyList gives the same views as the per-service policy files', async () => {
  const deployments = await load([join(boutique, 'kubernetes-manifests.yaml')]);
  const fromFiles = analyzeNetwork(
    contextOf([...deployments, ...(await load([join(boutique, 'network-policies')]))]),
  );
  const fromList = analyzeNetwork(
    contextOf([
      ...deployments,
      ...(await load([corpusPath('k8s', 'api', 'assembled', 'NetworkPolicyList.microservices-demo.json')])),
    ]),
  );
  const strip = (a: typeof fromFiles) =>
    a.workloads.map((w) => ({
      key: w.key,
      ingress: {
        ...w.ingress,
        allowed: w.ingress.allowed.map((r) => ({ ...r, raw: undefined })),
        policies: [...w.ingress.policies].sort(),
      },
      egress: {
        ...w.egress,
        allowed: w.egress.allowed.map((r) => ({ ...r, raw: undefined })),
        policies: [...w.egress.policies].sort(),
      },
    }));
  assert.equal(fromList.policies.length, 13);
  // Rule order follows policy order, which differs between the directory listing and the List.
  const sortRules = (x: ReturnType<typeof strip>) =>
    x.map((w) => ({
      ...w,
      ingress: {
        ...w.ingress,
        allowed: [...w.ingress.allowed].sort((p, q) => p.policy.localeCompare(q.policy)),
      },
      egress: {
        ...w.egress,
        allowed: [...w.egress.allowed].sort((p, q) => p.policy.localeCompare(q.policy)),
        openBecause: [...w.egress.openBecause].sort(),
      },
    }));
  const files = sortRules(strip(fromFiles)).map((w) => ({
    ...w,
    ingress: { ...w.ingress, openBecause: [...w.ingress.openBecause].sort() },
  }));
  const list = sortRules(strip(fromList)).map((w) => ({
    ...w,
    ingress: { ...w.ingress, openBecause: [...w.ingress.openBecause].sort() },
  }));
  assert.deepEqual(list, files);
});

test('named ports resolve at the destination pod and ipBlock keeps its except list (trivy public-ingress case)', async () => {
  const policy = await load([corpusPath('k8s', 'cases', 'trivy-checks', 'netpol-public-ingress', 'input')]);
  const ctx = contextOf([
    ...policy,
    ...objects(`apiVersion: apps/v1
kind: Deployment
metadata: { name: webfront }
spec:
  selector: { matchLabels: { name: webfront } }
  template:
    metadata: { labels: { name: webfront } }
    spec: { containers: [{ name: web, image: nginx:1.25, ports: [{ name: http, containerPort: 8080 }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  selector: { matchLabels: { name: api } }
  template:
    metadata: { labels: { name: api } }
    spec: { containers: [{ name: api, image: nginx:1.25, ports: [{ name: http, containerPort: 9000, protocol: UDP }] }] }
`),
  ]);
  const a = analyzeNetwork(ctx);
  const web = a.byKey.get('Deployment/default/webfront')!.ingress.allowed[0]!;
  assert.deepEqual(web.peers, [
    { type: 'ipBlock', cidr: '0.0.0.0/0', except: ['10.0.0.0/24', '10.0.1.0/24'], everyAddress: true },
  ] satisfies Peer[]);
  assert.deepEqual(web.ports, [
    { protocol: 'TCP', port: 'http', resolved: [{ workload: 'Deployment/default/webfront', port: 8080 }] },
    { protocol: 'UDP', port: 8125 },
  ]);
  // api's "http" port is UDP, so the rule's TCP "http" does not resolve there.
  const api = a.byKey.get('Deployment/default/api')!.ingress.allowed[0]!;
  assert.deepEqual(api.ports !== 'all' && api.ports[0]?.resolved, []);
});

test('endPort ranges, egress named ports resolved per destination, invalid peers reported', () => {
  const ctx = contextOf(
    objects(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: client-out, namespace: shop }
spec:
  podSelector: { matchLabels: { app: client } }
  policyTypes: [Egress]
  egress:
  - to: [{ podSelector: { matchLabels: { tier: db } } }]
    ports: [{ port: db }]
  - to: [{ ipBlock: { cidr: 10.0.0.0/8, except: [10.1.0.0/16] } }]
    ports: [{ protocol: TCP, port: 32000, endPort: 32768 }]
  - to: [{ ipBlock: { cidr: 10.0.0.0/8 }, podSelector: {} }, { ipBlock: { cidr: nonsense } }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: shop, labels: { app: client } }
spec: { containers: [{ name: c, image: busybox:1.36 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: pg, namespace: shop, labels: { tier: db } }
spec: { containers: [{ name: pg, image: postgres:16, ports: [{ name: db, containerPort: 5432 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: mysql, namespace: shop, labels: { tier: db } }
spec: { containers: [{ name: my, image: mysql:8, ports: [{ name: db, containerPort: 3306 }] }] }
`),
  );
  const a = analyzeNetwork(ctx);
  const [named, range, invalid] = a.byKey.get('Pod/shop/client')!.egress.allowed;
  assert.deepEqual(named!.ports, [
    {
      protocol: 'TCP',
      port: 'db',
      resolved: [
        { workload: 'Pod/shop/pg', port: 5432 },
        { workload: 'Pod/shop/mysql', port: 3306 },
      ],
    },
  ]);
  assert.deepEqual(range!.ports, [{ protocol: 'TCP', port: 32000, endPort: 32768 }]);
  assert.deepEqual(range!.peers, [
    { type: 'ipBlock', cidr: '10.0.0.0/8', except: ['10.1.0.0/16'], everyAddress: false },
  ]);
  // Both peers of the third rule are invalid, so it admits nothing (not "any").
  assert.deepEqual(invalid!.peers, []);
  assert.deepEqual(a.policies[0]!.problems, [
    'spec.egress[2].to[0]: ipBlock cannot be combined with selectors',
    'spec.egress[2].to[1]: ipBlock.cidr "nonsense" is not a CIDR',
  ]);
  assert.equal(a.byKey.get('Pod/shop/client')!.egress.class, 'restricted');
});

test('analysis of 10,000 workloads and 2,000 policies stays well under the audit budget', (t) => {
  const docs: string[] = [];
  const namespaces = 100;
  for (let n = 0; n < namespaces; n++) {
    docs.push(
      `{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"ns${n}","labels":{"team":"t${n % 10}"}}}`,
    );
    for (let i = 0; i < 100; i++)
      docs.push(
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: `app${i}`, namespace: `ns${n}` },
          spec: {
            template: {
              metadata: { labels: { app: `app${i}`, tier: `tier${i % 5}`, shard: `s${i % 20}` } },
              spec: {
                containers: [{ name: 'c', image: 'x:1', ports: [{ name: 'http', containerPort: 8080 }] }],
              },
            },
          },
        }),
      );
    for (let p = 0; p < 20; p++)
      docs.push(
        JSON.stringify({
          apiVersion: 'networking.k8s.io/v1',
          kind: 'NetworkPolicy',
          metadata: { name: `np${p}`, namespace: `ns${n}` },
          spec: {
            podSelector: p === 0 ? {} : { matchLabels: { shard: `s${p}` } },
            policyTypes: ['Ingress', 'Egress'],
            ingress: [
              {
                from: [{ podSelector: { matchLabels: { tier: `tier${p % 5}` } } }],
                ports: [{ port: 'http' }],
              },
              {
                from: [
                  {
                    namespaceSelector: { matchLabels: { team: `t${p % 10}` } },
                    podSelector: { matchLabels: { app: `app${p}` } },
                  },
                ],
              },
            ],
            egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8' } }], ports: [{ port: 443 }] }],
          },
        }),
      );
  }
  const ctx = contextOf(objects(docs.join('\n---\n'), 'bench.yaml'));
  assert.equal(ctx.workloads.length, 10_000);
  assert.equal(ctx.ofKind('NetworkPolicy').length, 2_000);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const a = analyzeNetwork(ctx);
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  // Wall time on a shared machine mostly measures the neighbours; CPU time is the analysis's own cost.
  t.diagnostic(
    `analyzeNetwork: 10,000 workloads, 2,000 policies in ${ms.toFixed(0)} ms wall, ${((used.user + used.system) / 1000).toFixed(0)} ms CPU`,
  );
  assert.equal(analyzeNetwork(ctx), a, 'cached per context');
  // app7 (shard s7) is selected by np0 (all pods) and np7; both rules of each apply.
  const v = a.byKey.get('Deployment/ns3/app7')!;
  assert.deepEqual(v.ingress.policies, ['np0', 'np7']);
  assert.equal(v.ingress.allowed.length, 4);
  assert.equal(selectorPeers(v.ingress.allowed[3]!)[0]!.workloads.length, 10); // app7 in the 10 namespaces of team t7
});
