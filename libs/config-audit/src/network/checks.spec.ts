import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { NetworkIsolation, Severity } from '@vigil/contracts';
import { repoRoot } from '@vigil/testing';
import { auditObjects, type AuditedOutcome } from '../audit.js';
import { type Json, type LoadedObject } from '../model/k8s-object.js';
import { analyzeNetwork, exposuresOf, type SelectorPeer } from './analysis.js';
import { parseAllowedEgress } from './declared.js';
import { cdePolicyFor } from './remediation.js';
import { networkInventory } from './inventory-adapter.js';
import { contextOf, load, objects } from './network.spec-helper.js';

const payments = () => load([join(repoRoot(), 'examples', 'payments', 'k8s')]);
const NET = [
  'net/no-ingress-networkpolicy',
  'net/no-egress-networkpolicy',
  'net/permissive-networkpolicy',
  'net/service-exposed',
  'net/ingress-no-tls',
  'net/policy-selects-no-pods',
];
const run = (objs: LoadedObject[]) => auditObjects(objs, { cluster: 'acme', checks: NET }).outcomes;
const find = (outs: AuditedOutcome[], check: string, resource: string) =>
  outs.filter((o) => o.checkId === check && o.resource === resource);

/** Every generated NetworkPolicy must be accepted by the Kubernetes OpenAPI schema. */
function assertValidPolicy(p: unknown): void {
  assert.ok(p && typeof p === 'object');
  new NetworkPolicy(p as ConstructorParameters<typeof NetworkPolicy>[0]).validate();
  assert.equal((p as Json)['kind'], 'NetworkPolicy');
}

function withPodAnnotation(
  objs: LoadedObject[],
  kindName: string,
  key: string,
  value: string,
): LoadedObject[] {
  return objs.map((o) => {
    if (`${String(o.raw['kind'])}/${String((o.raw['metadata'] as Json)['name'])}` !== kindName) return o;
    const raw = structuredClone(o.raw);
    const meta = ((raw['spec'] as Json)['template'] as Json)['metadata'] as Json;
    meta['annotations'] = { ...((meta['annotations'] as Json | undefined) ?? {}), [key]: value };
    return { ...o, raw };
  });
}

test('Acme Pay: the CDE segmentation as written — ingress per flow, egress open, one namespace-wide rule', async () => {
  const ctx = contextOf(await payments());
  const a = analyzeNetwork(ctx);
  const api = a.byKey.get('Deployment/payments/payment-api')!;
  assert.equal(api.ingress.class, 'restricted');
  assert.deepEqual([...api.ingress.policies].sort(), ['default-deny-ingress', 'payment-api-from-checkout']);
  const [rule] = api.ingress.allowed;
  const peer = (rule!.peers as SelectorPeer[])[0]!;
  // One peer with both selectors: checkout-web pods of the storefront namespace only.
  assert.equal(peer.namespaceSelector, 'kubernetes.io/metadata.name=storefront');
  assert.equal(peer.podSelector, 'app.kubernetes.io/name=checkout-web');
  assert.deepEqual(peer.workloads, ['Deployment/storefront/checkout-web']);
  assert.deepEqual(rule!.ports, [{ protocol: 'TCP', port: 8443 }]);
  for (const name of [
    'Deployment/payments/payment-api',
    'Deployment/payments/tokenizer',
    'StatefulSet/payments/ledger-db',
  ])
    assert.equal(a.byKey.get(name)!.egress.isolated, false, name);
  const ledger = a.byKey.get('StatefulSet/payments/ledger-db')!.ingress.allowed[0]!;
  assert.equal((ledger.peers as SelectorPeer[])[0]!.allNamespaces, true);
  assert.ok((ledger.peers as SelectorPeer[])[0]!.workloads.includes('Deployment/storefront/checkout-web'));
  assert.equal(ledger.ports, 'all');
  // hostNetwork: NetworkPolicy does not apply, whatever selects it.
  assert.equal(a.byKey.get('DaemonSet/monitoring/node-agent')!.hostNetwork, true);

  const exp = exposuresOf(ctx);
  const lb = exp.services.find((s) => s.key === 'Service/storefront/checkout-web')!;
  assert.deepEqual(
    [lb.type, lb.external, lb.workloads.map((w) => w.name)],
    ['LoadBalancer', true, ['checkout-web']],
  );
  const ing = exp.ingresses[0]!;
  assert.deepEqual(
    [ing.key, ing.tls, ing.hostsWithoutTls, ing.backends.map((b) => `${b.service}:${b.port}`)],
    ['Ingress/storefront/checkout-web', false, ['shop.acme-pay.example'], ['checkout-web:http']],
  );
  assert.deepEqual(
    exp.ingresses[0]!.backends[0]!.workloads.map((w) => w.name),
    ['checkout-web'],
  );
  assert.equal(exp.services.find((s) => s.name === 'ledger-db')!.external, false);
});

test('Acme Pay findings: which rule opens traffic, CDE severity and mapping, complete schema-valid policies', async () => {
  const objs = await payments();
  const outs = run(objs);
  const r = auditObjects(objs, { cluster: 'acme', checks: NET });
  const open = find(
    outs,
    'net/permissive-networkpolicy',
    'NetworkPolicy/payments/ledger-db-from-cluster',
  )[0]!;
  assert.equal(open.pass, false);
  assert.equal(open.field, 'spec.ingress[0]');
  assert.equal(open.cde, true);
  assert.match(
    open.message,
    /selects StatefulSet\/ledger-db .*spec\.ingress\[0\] ingress: namespaceSelector: \{\} \(every pod in every namespace\), any port/,
  );

  const egress = find(outs, 'net/no-egress-networkpolicy', 'Deployment/payments/tokenizer')[0]!;
  assert.equal(egress.cde, true);
  const f = r.findings.find(
    (x) => x.ruleId === 'net/no-egress-networkpolicy' && x.asset?.name === 'tokenizer',
  )!;
  assert.ok(f.pciRequirements.includes('1.3.2'));
  // The patch for a CDE pod is a whole policy for that pod: DNS only, since nothing is declared.
  assert.deepEqual(egress.patch, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: 'tokenizer-cde-egress',
      namespace: 'payments',
      labels: { 'app.kubernetes.io/managed-by': 'vigil' },
    },
    spec: {
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'tokenizer', 'app.kubernetes.io/part-of': 'acme-pay' },
      },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  });
  for (const o of outs.filter((x) => !x.pass && x.patch && String(x.patch['kind']) === 'NetworkPolicy'))
    assertValidPolicy(o.patch);
  // Outside the CDE the patch stays the namespace-wide default deny.
  assert.deepEqual(
    find(outs, 'net/no-ingress-networkpolicy', 'Deployment/storefront/checkout-web')[0]!.patch,
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'default-deny-ingress', namespace: 'storefront' },
      spec: { podSelector: {}, policyTypes: ['Ingress'] },
    },
  );
  const svc = find(outs, 'net/service-exposed', 'Service/storefront/checkout-web')[0]!;
  assert.deepEqual([svc.pass, svc.cde], [false, false]);
  assert.match(
    svc.message,
    /makes Deployment\/checkout-web reachable from outside the cluster \(LoadBalancer\)/,
  );
  const tls = find(outs, 'net/ingress-no-tls', 'Ingress/storefront/checkout-web')[0]!;
  assert.deepEqual(
    tls.evidence?.find(([k]) => k === 'workloads'),
    ['workloads', 'Deployment/storefront/checkout-web'],
  );

  // Applying the generated egress policies isolates every CDE pod, and they then reach only DNS.
  const generated = outs
    .filter((o) => o.checkId === 'net/no-egress-networkpolicy' && !o.pass && o.cde && o.patch)
    .map((o, i) => ({
      raw: o.patch as Json,
      source: { file: 'generated.yaml', document: i, line: undefined, item: undefined },
    }));
  assert.equal(generated.length, 3);
  const after = run([...objs, ...generated]);
  for (const name of [
    'Deployment/payments/payment-api',
    'Deployment/payments/tokenizer',
    'StatefulSet/payments/ledger-db',
  ]) {
    assert.equal(find(after, 'net/no-egress-networkpolicy', name)[0]!.pass, true, name);
    const declared = find(after, 'net/permissive-networkpolicy', name)[0]!;
    assert.deepEqual([declared.detail, declared.pass], ['egress-not-declared', true], name);
  }
});

test('declared egress: a CDE pod whose policies allow more than its annotation fails, naming the rule', async () => {
  const objs = withPodAnnotation(
    await payments(),
    'Deployment/tokenizer',
    'pci.vigil.dev/allowed-egress',
    '198.51.100.0/24:443, ledger-db:5432',
  );
  const egressPolicy = objects(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: tokenizer-egress, namespace: payments }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: tokenizer } }
  policyTypes: [Egress]
  egress:
  - to: [{ ipBlock: { cidr: 198.51.100.0/25 } }]
    ports: [{ protocol: TCP, port: 443 }]
  - to: [{ podSelector: { matchLabels: { app.kubernetes.io/name: ledger-db } } }]
    ports: [{ port: postgres }]
  - to: [{ ipBlock: { cidr: 0.0.0.0/0, except: [10.0.0.0/8] } }]
    ports: [{ protocol: TCP, port: 443 }]
  - to: [{ podSelector: { matchLabels: { app.kubernetes.io/name: payment-api } } }]
`);
  const outs = run([...objs, ...egressPolicy]);
  const o = find(outs, 'net/permissive-networkpolicy', 'Deployment/payments/tokenizer')[0]!;
  assert.equal(o.pass, false);
  assert.equal(o.cde, true);
  assert.equal(o.pciKey, 'k8s.permissive_egress_from_cde');
  // The ipBlock inside the declared /24 and ledger-db's named port (postgres = 5432) are declared; the rest is not.
  assert.equal(
    o.actual,
    'tokenizer-egress spec.egress[2]: ipBlock 0.0.0.0/0 except 10.0.0.0/8 on TCP 443; tokenizer-egress spec.egress[3]: Deployment/payments/payment-api on every port',
  );
  assertValidPolicy(o.patch);
  const spec = (o.patch as Json)['spec'] as Json;
  assert.deepEqual((spec['egress'] as Json[]).slice(1), [
    { to: [{ ipBlock: { cidr: '198.51.100.0/24' } }], ports: [{ protocol: 'TCP', port: 443 }] },
    {
      to: [
        {
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'payments' } },
          podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ledger-db' } },
        },
      ],
      ports: [{ protocol: 'TCP', port: 5432 }],
    },
  ]);
  assert.match(
    o.evidence!.find(([k]) => k === 'remediation-notes')![1],
    /delete or narrow spec\.egress\[2\] of NetworkPolicy tokenizer-egress/,
  );
  // Payment-api is not annotated and its egress is still unenforced: no-egress reports it, this check does not.
  assert.deepEqual(find(outs, 'net/permissive-networkpolicy', 'Deployment/payments/payment-api'), []);
});

test('declared egress entries are parsed strictly, with errors naming the entry', () => {
  const r = parseAllowedEgress(
    '10.20.0.0/16:5432, payments-db, [fd00::/8]:443/TCP, fd00::1, other/cache:6379-6380, 10.0.0.0/33, db:http',
    'payments',
    'Namespace/payments annotation pci.vigil.dev/allowed-egress',
  );
  assert.deepEqual(
    r.entries.map((e) =>
      e.type === 'cidr'
        ? `cidr ${e.cidr.text} ${JSON.stringify(e.ports ?? null)}`
        : `name ${e.namespace}/${e.name} ${JSON.stringify(e.ports ?? null)}`,
    ),
    [
      'cidr 10.20.0.0/16 {"from":5432,"to":5432}',
      'name payments/payments-db null',
      'cidr fd00::/8 {"from":443,"to":443,"protocol":"TCP"}',
      'cidr fd00::1 null',
      'name other/cache {"from":6379,"to":6380}',
    ],
  );
  assert.deepEqual(r.errors, [
    'Namespace/payments annotation pci.vigil.dev/allowed-egress: "10.0.0.0/33": "10.0.0.0/33" is not a valid CIDR or address',
    'Namespace/payments annotation pci.vigil.dev/allowed-egress: "db:http": "http" is not a port, port range or port/protocol',
  ]);
});

test('exposure: a declared public entry point passes; plain HTTP stays a finding; CDE exposure is high', async () => {
  const base = await payments();
  const declared = withPodAnnotation(
    base,
    'Deployment/checkout-web',
    'pci.vigil.dev/exposure',
    'the public web shop (CHG-1042)',
  );
  const outs = run(declared);
  const svc = find(outs, 'net/service-exposed', 'Service/storefront/checkout-web')[0]!;
  assert.equal(svc.pass, true);
  assert.match(
    svc.actual,
    /declared: the public web shop \(CHG-1042\) \(Deployment\/storefront\/checkout-web pod template\)/,
  );
  assert.equal(find(outs, 'net/ingress-no-tls', 'Ingress/storefront/checkout-web')[0]!.pass, false);
  // A NodePort in front of the ledger: reported as CDE exposure (high) since the pods behind it are in the CDE.
  const nodePort = objects(`apiVersion: v1
kind: Service
metadata: { name: ledger-debug, namespace: payments }
spec: { type: NodePort, selector: { app.kubernetes.io/name: ledger-db }, ports: [{ port: 5432, nodePort: 30432 }] }
`);
  const r = auditObjects([...base, ...nodePort], { cluster: 'acme', checks: ['net/service-exposed'] });
  const f = r.findings.find((x) => x.asset?.name === 'ledger-debug')!;
  assert.equal(f.severity, Severity.HIGH);
  assert.match(
    f.description,
    /makes StatefulSet\/ledger-db reachable from outside the cluster \(NodePort, node ports 30432\)/,
  );
  assert.ok(f.pciRequirements.includes('1.4.4'));
});

test('a CDE pod opened by an empty rule: the generated ingress policy keeps the named rule and says which to delete', () => {
  const objs = objects(`apiVersion: v1
kind: Namespace
metadata: { name: vault, labels: { pci-scope: cde } }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: api-in, namespace: vault }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress:
  - from: [{ podSelector: { matchLabels: { app: gateway } } }]
    ports: [{ port: https }]
  - {}
---
apiVersion: v1
kind: Pod
metadata: { name: api, namespace: vault, labels: { app: api } }
spec: { containers: [{ name: api, image: api:1, ports: [{ name: https, containerPort: 8443 }] }] }
`);
  const ctx = contextOf(objs);
  const a = analyzeNetwork(ctx);
  assert.equal(a.byKey.get('Pod/vault/api')!.ingress.class, 'open');
  const outs = run(objs);
  const perm = find(outs, 'net/permissive-networkpolicy', 'NetworkPolicy/vault/api-in')[0]!;
  assert.deepEqual([perm.pass, perm.field, perm.cde], [false, 'spec.ingress[1]', true]);
  const w = ctx.workloads[0]!;
  const generated = cdePolicyFor(ctx, a, w, 'ingress', []);
  assertValidPolicy(generated.policy);
  assert.deepEqual((generated.policy['spec'] as Json)['ingress'], [
    { from: [{ podSelector: { matchLabels: { app: 'gateway' } } }], ports: [{ port: 'https' }] },
  ]);
  assert.deepEqual(generated.notes, [
    'delete or narrow spec.ingress[1] of NetworkPolicy api-in: it allows every source',
  ]);
  // Egress unenforced on a CDE pod: a whole policy with DNS, valid against the schema.
  const eg = find(outs, 'net/no-egress-networkpolicy', 'Pod/vault/api')[0]!;
  assertValidPolicy(eg.patch);
});

test('inventory adapter: isolation classes and exposures as the inventory publishes them (Acme Pay)', async () => {
  const ctx = contextOf(await payments());
  const inv = networkInventory(ctx);
  const byName = (name: string) => inv.isolationOf(ctx.workloads.find((w) => w.name === name)!);
  assert.deepEqual(byName('payment-api'), {
    ingress: NetworkIsolation.RESTRICTED,
    egress: NetworkIsolation.OPEN,
  });
  assert.deepEqual(byName('checkout-web'), { ingress: NetworkIsolation.OPEN, egress: NetworkIsolation.OPEN });
  const external = inv.exposures
    .filter((e) => e.external)
    .map(
      (e) =>
        `${e.type} ${e.namespace}/${e.name} ${e.ports.map((p) => p.port).join(',')} ${e.hosts.join(',')} ${e.workloads.join(',')}`,
    );
  assert.deepEqual(external, [
    'LoadBalancer storefront/checkout-web 80  Deployment/storefront/checkout-web',
    'Ingress storefront/checkout-web 80 shop.acme-pay.example Deployment/storefront/checkout-web',
  ]);
});
