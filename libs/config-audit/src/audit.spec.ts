import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { assertKnownRequirementIds } from '@vigil/pci';
import { corpusPath, repoRoot } from '@vigil/testing';
import { join } from 'node:path';
import { auditManifests, auditObjects } from './audit.js';
import { CHECKS } from './checks/registry.js';
import { applyStrategicMerge } from './remediation/strategic-merge.js';
import { type Json, type LoadedObject } from './model/k8s-object.js';

function objects(yaml: string): LoadedObject[] {
  return parseAllDocuments(yaml).map((d, i) => ({
    raw: d.toJS() as Json,
    source: { file: 'test.yaml', document: i, line: undefined, item: undefined },
  }));
}

const audit = (yaml: string) =>
  auditObjects(objects(yaml), { cluster: 'test', clock: () => new Date('2026-12-01T00:00:00Z') });

function fails(result: Pick<ReturnType<typeof audit>, 'outcomes'>, checkId: string): string[] {
  return result.outcomes
    .filter((o) => o.checkId === checkId && !o.pass)
    .map((o) => `${o.resource}${o.container ? `:${o.container}` : ''}`);
}

const INSECURE_WORKLOADS = `apiVersion: apps/v1
kind: Deployment
metadata: { name: api, namespace: shop }
spec:
  template:
    metadata: { labels: { app: api } }
    spec:
      hostPID: true
      hostNetwork: true
      volumes:
      - name: host
        hostPath: { path: /var/run }
      initContainers:
      - name: init
        image: busybox:1.36
        securityContext: { capabilities: { add: [sys_admin, NET_BIND_SERVICE] } }
      containers:
      - name: app
        image: registry.example.com:5000/api
        env:
        - { name: DB_PASSWORD, value: hunter2 }
        - { name: DB_URL, value: "postgres://app:s3cret@db:5432/app" }
        - { name: LOG_LEVEL, value: debug }
        securityContext: { privileged: true, runAsUser: 0 }
        volumeMounts: [{ name: host, mountPath: /host }]
---
apiVersion: batch/v1
kind: CronJob
metadata: { name: report, namespace: shop }
spec:
  schedule: "0 * * * *"
  jobTemplate:
    spec:
      template:
        spec:
          securityContext: { runAsNonRoot: true, seccompProfile: { type: RuntimeDefault } }
          containers:
          - name: job
            image: report:2.0
            securityContext: { runAsNonRoot: false, seccompProfile: { type: Unconfined } }
`;

test('a Pod of a ReplicaSet of a Deployment is reported once, as the Deployment', () => {
  const r = audit(`apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: shop, uid: d-1 }
spec: { template: { spec: { containers: [{ name: c, image: "nginx:1.27", securityContext: { privileged: true } }] } } }
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: { name: web-5d4, namespace: shop, uid: rs-1, ownerReferences: [{ kind: Deployment, name: web, uid: d-1, controller: true }] }
spec: { template: { spec: { containers: [{ name: c, image: "nginx:1.27", securityContext: { privileged: true } }] } } }
---
apiVersion: v1
kind: Pod
metadata: { name: web-5d4-x9, namespace: shop, ownerReferences: [{ kind: ReplicaSet, name: web-5d4, uid: rs-1, controller: true }] }
spec: { containers: [{ name: c, image: "nginx:1.27", securityContext: { privileged: true } }] }
---
apiVersion: v1
kind: Pod
metadata: { name: orphan, namespace: shop, ownerReferences: [{ kind: ReplicaSet, name: gone, uid: rs-9, controller: true }] }
spec: { containers: [{ name: c, image: "nginx:1.27", securityContext: { privileged: true } }] }
`);
  assert.deepEqual(fails(r, 'k8s/privileged'), ['Deployment/shop/web:c', 'Pod/shop/orphan:c']);
});

test('container securityContext overrides the pod, pod values apply to containers that set none', () => {
  const r = audit(`apiVersion: v1
kind: Pod
metadata: { name: p, namespace: shop }
spec:
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: RuntimeDefault } }
  containers:
  - { name: inherits, image: "a:1" }
  - { name: root-uid, image: "a:1", securityContext: { runAsUser: 0 } }
  - { name: root-group, image: "a:1", securityContext: { runAsGroup: 0 } }
  - { name: unconfined, image: "a:1", securityContext: { seccompProfile: { type: Unconfined } } }
  ephemeralContainers:
  - { name: debug, image: "a:1", securityContext: { runAsNonRoot: false, runAsUser: 2000 } }
---
apiVersion: v1
kind: Pod
metadata: { name: q, namespace: shop }
spec:
  securityContext: { runAsNonRoot: true }
  containers:
  - { name: override, image: "a:1", securityContext: { runAsNonRoot: false } }
`);
  // runAsUser 2000 decides for "debug" although its runAsNonRoot is false: the uid is not 0.
  assert.deepEqual(fails(r, 'k8s/run-as-root'), [
    'Pod/shop/p:root-uid',
    'Pod/shop/p:root-group',
    'Pod/shop/q:override',
  ]);
  assert.deepEqual(fails(r, 'k8s/no-seccomp'), ['Pod/shop/p:unconfined', 'Pod/shop/q:override']);
});

test('the workload checks find what is wrong, and applying their patches makes them pass', () => {
  const input = objects(INSECURE_WORKLOADS);
  const before = auditObjects(input, { cluster: 'test' });
  const expectFail: Record<string, string[]> = {
    'k8s/privileged': ['Deployment/shop/api:app'],
    'k8s/host-namespaces': ['Deployment/shop/api', 'Deployment/shop/api'],
    'k8s/host-path-mount': ['Deployment/shop/api'],
    'k8s/run-as-root': ['Deployment/shop/api:app', 'Deployment/shop/api:init', 'CronJob/shop/report:job'],
    'k8s/privilege-escalation': [
      'Deployment/shop/api:app',
      'Deployment/shop/api:init',
      'CronJob/shop/report:job',
    ],
    'k8s/added-capabilities': ['Deployment/shop/api:init'],
    'k8s/no-seccomp': ['Deployment/shop/api:app', 'Deployment/shop/api:init', 'CronJob/shop/report:job'],
    'k8s/secrets-in-env': ['Deployment/shop/api:app', 'Deployment/shop/api:app'],
    'k8s/latest-or-untagged-image': ['Deployment/shop/api:app'],
  };
  for (const [id, want] of Object.entries(expectFail)) assert.deepEqual(fails(before, id), want, id);
  const env = before.outcomes
    .filter((o) => o.checkId === 'k8s/secrets-in-env' && !o.pass)
    .map((o) => o.detail);
  assert.deepEqual(env, ['DB_PASSWORD', 'DB_URL']);
  // The credential itself never reaches a finding.
  assert.ok(
    !JSON.stringify(before.findings.map((f) => [f.description, f.evidence, f.detection])).includes('hunter2'),
  );

  const patched = input.map((o) => {
    let raw: unknown = o.raw;
    for (const out of before.outcomes)
      if (!out.pass && out.patch && out.subject.raw === o.raw)
        raw = applyStrategicMerge(raw as Json, out.patch, String(o.raw['kind']));
    return { ...o, raw: raw as Json };
  });
  const after = auditObjects(patched, { cluster: 'test' });
  const patchable = [
    'k8s/privileged',
    'k8s/host-namespaces',
    'k8s/host-path-mount',
    'k8s/run-as-root',
    'k8s/privilege-escalation',
    'k8s/added-capabilities',
    'k8s/no-readonly-rootfs',
    'k8s/no-seccomp',
    'k8s/secrets-in-env',
    'k8s/automount-sa-token',
    'k8s/no-resource-limits',
  ];
  for (const id of patchable) assert.deepEqual(fails(after, id), [], `${id} after its patch`);
  // The init container keeps the capability it may have.
  const spec = (patched[0]!.raw['spec'] as Json)['template'] as Json;
  assert.deepEqual(JSON.stringify(spec).match(/"add":\[[^\]]*\]/)?.[0], '"add":["NET_BIND_SERVICE"]');
});

test('every finding has a deterministic id, known PCI ids, a location, a remediation and its detection', async () => {
  const input = {
    paths: [corpusPath('k8s', 'manifests')],
    cluster: 'corpus',
    clock: () => new Date('2026-12-01T00:00:00Z'),
  };
  const a = await auditManifests(input);
  const b = await auditManifests(input);
  assert.deepEqual(
    a.findings.map((f) => f.id),
    b.findings.map((f) => f.id),
  );
  assert.ok(a.findings.length > 500);
  for (const f of a.findings) {
    assertKnownRequirementIds(f.pciRequirements, `${f.ruleId} ${f.id}`);
    assert.match(f.id, /^config-[0-9a-f]{32}$/);
    assert.ok(f.locations[0] && f.remediation?.summary && f.detection?.unit?.id === f.ruleId, f.id);
  }
  for (const p of a.passing) assertKnownRequirementIds(p.pciRequirements, `passing ${p.checkId}`);
  assert.equal(a.units.length, CHECKS.length);
});

test('the Acme Pay example gives the configuration findings its README lists', async () => {
  const r = await auditManifests({
    paths: [join(repoRoot(), 'examples', 'payments', 'k8s')],
    cluster: 'acme',
  });
  assert.deepEqual(r.errors, []);
  const got = new Set(
    r.outcomes
      .filter((o) => !o.pass)
      .map((o) => `${o.checkId} ${o.resource}${o.container ? ` ${o.container}` : ''}`),
  );
  const readme = [
    'k8s/secrets-in-env Deployment/payments/payment-api api',
    'k8s/secrets-in-configmap ConfigMap/payments/payment-api-config',
    'k8s/no-readonly-rootfs Deployment/payments/payment-api api',
    'k8s/no-readonly-rootfs StatefulSet/payments/ledger-db postgres',
    'k8s/no-readonly-rootfs DaemonSet/monitoring/node-agent agent',
    'k8s/run-as-root Deployment/payments/payment-api api',
    'k8s/run-as-root Deployment/payments/payment-api log-shipper',
    'k8s/run-as-root DaemonSet/monitoring/node-agent agent',
    'k8s/no-seccomp Deployment/payments/payment-api api',
    'k8s/no-seccomp Deployment/payments/payment-api log-shipper',
    'k8s/no-seccomp DaemonSet/monitoring/node-agent agent',
    'k8s/automount-sa-token Deployment/payments/payment-api',
    'k8s/automount-sa-token DaemonSet/monitoring/node-agent',
    'k8s/latest-or-untagged-image Deployment/payments/payment-api log-shipper',
    'k8s/no-resource-limits Deployment/payments/payment-api log-shipper',
    'k8s/privileged DaemonSet/monitoring/node-agent agent',
    'k8s/host-namespaces DaemonSet/monitoring/node-agent',
    'k8s/host-path-mount DaemonSet/monitoring/node-agent',
    'k8s/privilege-escalation DaemonSet/monitoring/node-agent agent',
    'rbac/secrets-access RoleBinding/payments/payment-api-config-reader',
    'rbac/cluster-admin-binding ClusterRoleBinding//ci-deployer-cluster-admin',
    'rbac/wildcard Role/storefront/storefront-ops',
    'net/no-egress-networkpolicy Deployment/payments/payment-api',
    'net/no-egress-networkpolicy Deployment/payments/tokenizer',
    'net/no-egress-networkpolicy StatefulSet/payments/ledger-db',
    'net/no-egress-networkpolicy Deployment/storefront/checkout-web',
    'net/no-egress-networkpolicy DaemonSet/monitoring/node-agent',
    'net/no-ingress-networkpolicy Deployment/storefront/checkout-web',
    'net/no-ingress-networkpolicy DaemonSet/monitoring/node-agent',
    'net/permissive-networkpolicy NetworkPolicy/payments/ledger-db-from-cluster',
    'net/service-exposed Service/storefront/checkout-web',
    'net/ingress-no-tls Ingress/storefront/checkout-web',
  ];
  assert.deepEqual(
    readme.filter((x) => !got.has(x)),
    [],
  );
  // Reported beyond the README's table, each true of the input: the two wider bindings also read Secrets, exec
  // into pods and can grant themselves more (cluster-admin; a wildcard Role includes escalate and bind).
  assert.deepEqual([...got].filter((x) => !readme.includes(x)).sort(), [
    'rbac/escalate-bind-impersonate ClusterRoleBinding//ci-deployer-cluster-admin',
    'rbac/escalate-bind-impersonate RoleBinding/storefront/storefront-ops',
    'rbac/pods-exec ClusterRoleBinding//ci-deployer-cluster-admin',
    'rbac/pods-exec RoleBinding/storefront/storefront-ops',
    'rbac/secrets-access ClusterRoleBinding//ci-deployer-cluster-admin',
    'rbac/secrets-access RoleBinding/storefront/storefront-ops',
  ]);
  // Passing on purpose: the hardened tokenizer and the payments namespace's default-deny ingress.
  const tokenizer = r.outcomes
    .filter((o) => o.resource === 'Deployment/payments/tokenizer' && !o.pass)
    .map((o) => o.checkId);
  assert.deepEqual(tokenizer, ['net/no-egress-networkpolicy']);
  const cde = r.findings.find(
    (f) => f.ruleId === 'net/no-egress-networkpolicy' && f.asset?.name === 'tokenizer',
  );
  assert.ok(cde?.pciRequirements.includes('1.3.2'));
  const outside = r.findings.find(
    (f) => f.ruleId === 'net/no-egress-networkpolicy' && f.asset?.name === 'checkout-web',
  );
  assert.deepEqual(outside?.pciRequirements, []);
  // Outside the CDE it still names what it is evidence for, as ids it only supports.
  assert.deepEqual(outside?.supportingPciRequirements, ['1.2.1', '11.5.1.1']);
  assert.deepEqual(cde?.supportingPciRequirements, []);
  for (const f of r.findings) {
    assertKnownRequirementIds(f.supportingPciRequirements, `${f.ruleId} ${f.id} supporting`);
    assert.ok(
      f.pciRequirements.length + f.supportingPciRequirements.length > 0,
      `${f.ruleId} ${f.id} names no requirement`,
    );
  }
  // The open ingress rule to the ledger is a gap in inbound restriction (1.3.1), not outbound.
  const open = r.findings.find((f) => f.ruleId === 'net/permissive-networkpolicy');
  assert.deepEqual(open?.pciRequirements, ['1.3.1', '1.2.1', '1.4.1', '11.4.5']);
});

test('credentials are recognised by name word by word and by value, not by substrings', () => {
  const r = audit(`apiVersion: v1
kind: ConfigMap
metadata: { name: cfg, namespace: shop }
data:
  TOKENIZER_URL: http://tokenizer:8080
  TOKEN_TTL: "900"
  SECRET_NAME: db-credentials
  LOG_LEVEL: info
  apiKey: abc123
  DB_URL: "postgres://u:p4ss@db/x"
  REGION_HINT: AKIAIOSFODNN7EXAMPLE
`);
  const hits = r.outcomes
    .filter((o) => o.checkId === 'k8s/secrets-in-configmap' && !o.pass)
    .map((o) => o.detail);
  assert.deepEqual(hits, ['apiKey', 'DB_URL', 'REGION_HINT']);
  const patch = r.findings.find((f) => f.ruleId === 'k8s/secrets-in-configmap')?.remediation?.patch;
  assert.deepEqual(JSON.parse(patch ?? '{}'), { data: { apiKey: null } });
});

test('Service and Ingress remediation patches, applied as merge patches, make their checks pass', () => {
  const input = objects(`apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { type: NodePort, externalIPs: [203.0.113.7], selector: { app: web }, ports: [{ port: 80, nodePort: 30080 }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: shop }
spec: { rules: [{ host: shop.example, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }] }
`);
  const before = auditObjects(input, { cluster: 'test' });
  assert.deepEqual(fails(before, 'net/service-exposed'), ['Service/shop/web']);
  assert.deepEqual(fails(before, 'net/ingress-no-tls'), ['Ingress/shop/web']);
  const patched = input.map((o) => {
    let raw: unknown = o.raw;
    for (const out of before.outcomes)
      if (!out.pass && out.patch && out.subject.raw === o.raw)
        raw = applyStrategicMerge(raw as Json, out.patch, String(o.raw['kind']));
    return { ...o, raw: raw as Json };
  });
  const after = auditObjects(patched, { cluster: 'test' });
  assert.deepEqual(fails(after, 'net/service-exposed'), []);
  assert.deepEqual(fails(after, 'net/ingress-no-tls'), []);
  assert.deepEqual((patched[1]!.raw['spec'] as Json)['tls'], [
    { hosts: ['shop.example'], secretName: 'web-tls' },
  ]);
});

test('a NetworkPolicy the API server would refuse is a finding naming what is wrong, not silently ignored', () => {
  const r = audit(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: bad, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: { cidr: 10.0.0.0/33 }
        - ipBlock: { cidr: 10.0.0.0/8, except: [999.1.1.1/8, 192.168.0.0/16] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: good, namespace: shop }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
    - to:
        - ipBlock: { cidr: 10.0.0.0/8, except: [10.1.0.0/16] }
`);
  const outcomes = r.outcomes.filter((o) => o.checkId === 'net/invalid-networkpolicy');
  assert.deepEqual(
    outcomes.map((o) => [o.resource, o.pass]),
    [
      ['NetworkPolicy/shop/bad', false],
      ['NetworkPolicy/shop/good', true],
    ],
  );
  assert.match(outcomes[0]!.actual, /ipBlock\.cidr "10\.0\.0\.0\/33" is not a CIDR/);
  assert.match(outcomes[0]!.actual, /except\[0\] "999\.1\.1\.1\/8" is not a CIDR/);
  assert.match(outcomes[0]!.actual, /except\[1\] 192\.168\.0\.0\/16 is not inside 10\.0\.0\.0\/8/);
});
