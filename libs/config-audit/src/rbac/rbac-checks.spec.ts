import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { Severity } from '@vigil/contracts';
import { corpusPath, repoRoot } from '@vigil/testing';
import { auditManifests, auditObjects, type AuditResult } from '../audit.js';
import { loadManifests, DEFAULT_LOADER_LIMITS } from '../load/manifest-loader.js';
import { kindOf, resourceKey, type Json, type LoadedObject } from '../model/k8s-object.js';
import { contextOfYaml } from './context.spec-helper.js';

const payments = join(repoRoot(), 'examples', 'payments', 'k8s');

const fails = (r: Pick<AuditResult, 'outcomes'>, checkId: string) =>
  r.outcomes.filter((o) => o.checkId === checkId && !o.pass).map((o) => o.resource);

/** A strategic-merge patch of a role: `rules` has no merge key, so the patch's list replaces the role's. */
function applyRolePatch(raw: Json, patch: Json): Json {
  return { ...raw, ...patch };
}

test('Acme Pay: CDE Secret readers and pod exec get the CDE severity and PCI ids, with the chain as evidence', async () => {
  const r = await auditManifests({ paths: [payments], cluster: 'acme' });
  const finding = (rule: string, name: string) =>
    r.findings.find((f) => f.ruleId === rule && f.asset?.name === name);
  const reader = finding('rbac/secrets-access', 'payment-api-config-reader')!;
  assert.equal(reader.severity, Severity.CRITICAL);
  assert.deepEqual(reader.pciRequirements, ['7.2.5', '8.6.3', '7.2.2', '3.6.1', '3.6.1.3']);
  const ev = reader.evidence.map((e) => [e.key, e.value]);
  assert.deepEqual(ev.slice(1, 5), [
    ['subject', 'ServiceAccount payments/payment-api'],
    ['capability', 'read-secrets:payments'],
    [
      'granted-by',
      'RoleBinding/payments/payment-api-config-reader -> Role/payments/payment-api-config-reader rule 0',
    ],
    ['scope', 'namespace payments'],
  ]);
  // The proposed role keeps configmaps and drops secrets.
  assert.deepEqual(
    ev.find(([k]) => k === 'role-patch'),
    [
      'role-patch',
      'Role/payments/payment-api-config-reader: {"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get","list","watch"]}]}',
    ],
  );
  // Outside the CDE the same finding is high and only supports the requirements.
  const storefront = finding('rbac/secrets-access', 'storefront-ops')!;
  assert.equal(storefront.severity, Severity.HIGH);
  assert.deepEqual(storefront.pciRequirements, []);
  const exec = finding('rbac/pods-exec', 'ci-deployer-cluster-admin')!;
  assert.equal(exec.severity, Severity.HIGH);
  assert.ok(exec.pciRequirements.includes('7.2.2'));
  assert.ok(
    exec.evidence.some(
      (e) =>
        e.key === 'granted-by' &&
        e.value ===
          'ClusterRoleBinding/ci-deployer-cluster-admin -> ClusterRole/cluster-admin (built-in, not in the input) rule 0',
    ),
  );
  assert.equal(finding('rbac/pods-exec', 'storefront-ops')?.severity, Severity.MEDIUM);
  assert.deepEqual(fails(r, 'rbac/pods-exec'), [
    'RoleBinding/storefront/storefront-ops',
    'ClusterRoleBinding//ci-deployer-cluster-admin',
  ]);
  assert.deepEqual(fails(r, 'rbac/escalate-bind-impersonate'), [
    'RoleBinding/storefront/storefront-ops',
    'ClusterRoleBinding//ci-deployer-cluster-admin',
  ]);
  // node-agent's read-only cluster role passes every check.
  assert.deepEqual(
    r.outcomes.filter((o) => o.resource.endsWith('/node-agent-read') && !o.pass).map((o) => o.checkId),
    [],
  );
});

test('the narrowing patch is a valid Role and ClusterRole and makes the RBAC checks pass', async () => {
  const loaded = await loadManifests([payments], DEFAULT_LOADER_LIMITS);
  const before = auditObjects(loaded.objects, { cluster: 'acme' });
  const wildcard = before.outcomes.find((o) => o.checkId === 'rbac/wildcard' && !o.pass)!;
  assert.equal(wildcard.resource, 'Role/storefront/storefront-ops');
  const patched = applyRolePatch(wildcard.subject.raw, wildcard.patch!);
  new Role(patched as ConstructorParameters<typeof Role>[0]).validate();
  const objects: LoadedObject[] = loaded.objects.map((o) =>
    o === wildcard.subject ? { ...o, raw: patched } : o,
  );
  const after = auditObjects(objects, { cluster: 'acme' });
  const storefront = after.outcomes.filter(
    (o) => o.resource.includes('/storefront/storefront-ops') && !o.pass,
  );
  assert.deepEqual(
    storefront.map((o) => o.checkId),
    [],
  );
  // Nothing else changed.
  assert.deepEqual(fails(after, 'rbac/secrets-access'), [
    'RoleBinding/payments/payment-api-config-reader',
    'ClusterRoleBinding//ci-deployer-cluster-admin',
  ]);

  // kubescape's cluster-admin-like ClusterRole: every wildcard, a CRD-free read-only proposal.
  const ks = await auditManifests({
    paths: [corpusPath('k8s', 'cases', 'kubescape', 'cluster-admins-wildcard-clusterrole', 'input')],
    cluster: 'c',
  });
  const role = ks.outcomes.find((o) => o.checkId === 'rbac/wildcard' && !o.pass)!;
  const fixed = applyRolePatch(role.subject.raw, role.patch!);
  new ClusterRole(fixed as ConstructorParameters<typeof ClusterRole>[0]).validate();
  const rerun = auditObjects(
    ks.outcomes
      .map((o) => o.subject)
      .filter((o, i, all) => all.indexOf(o) === i)
      .map((o) => (o === role.subject ? { ...o, raw: fixed } : o)),
    { cluster: 'c' },
  );
  for (const id of [
    'rbac/wildcard',
    'rbac/cluster-admin-binding',
    'rbac/secrets-access',
    'rbac/pods-exec',
    'rbac/escalate-bind-impersonate',
  ])
    assert.deepEqual(fails(rerun, id), [], id);
});

test('bootstrap RBAC: control-plane subjects on the cluster’s own bindings are skipped and say why', async () => {
  const r = await auditManifests({
    paths: [corpusPath('k8s', 'manifests', 'k8s-bootstrap-rbac')],
    cluster: 'c',
  });
  const admin = r.outcomes.find(
    (o) => o.checkId === 'rbac/cluster-admin-binding' && o.resource === 'ClusterRoleBinding//cluster-admin',
  )!;
  assert.equal(admin.pass, true);
  assert.equal(admin.actual, 'only skipped system subjects');
  assert.match(admin.evidence!.find(([k]) => k === 'skipped-subject')![1], /^Group system:masters: /);
  const kcm = r.outcomes.find(
    (o) =>
      o.checkId === 'rbac/secrets-access' &&
      o.resource === 'ClusterRoleBinding//system:kube-controller-manager',
  )!;
  assert.equal(kcm.pass, true);
  // Defaults that give everyone something are not skipped: the anonymous public-info-viewer binding fails.
  assert.deepEqual(fails(r, 'rbac/anonymous-binding'), ['ClusterRoleBinding//system:public-info-viewer']);
  for (const id of [
    'rbac/secrets-access',
    'rbac/pods-exec',
    'rbac/escalate-bind-impersonate',
    'rbac/cluster-admin-binding',
  ])
    assert.deepEqual(fails(r, id), [], id);
});

test('a user-created binding to a control-plane identity is reported', () => {
  const ctx = contextOfYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: extra-controller-rights }
subjects: [{ kind: User, name: system:kube-controller-manager }]
roleRef: { kind: ClusterRole, name: cluster-admin }
`);
  const r = auditObjects(ctx.objects, { cluster: 'c' });
  assert.deepEqual(fails(r, 'rbac/cluster-admin-binding'), ['ClusterRoleBinding//extra-controller-rights']);
});

const DEPLOYER = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: deployer, namespace: shop }
rules:
  - { apiGroups: [apps], resources: [deployments], verbs: [get, list, create, update, patch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: deployer, namespace: shop }
subjects: [{ kind: User, name: dev }]
roleRef: { kind: Role, name: deployer }
---
apiVersion: v1
kind: ServiceAccount
metadata: { name: backup, namespace: shop }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: secret-reader, namespace: shop }
rules:
  - { apiGroups: [""], resources: [secrets], verbs: [list] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: backup, namespace: shop }
subjects: [{ kind: ServiceAccount, name: backup, namespace: shop }]
roleRef: { kind: Role, name: secret-reader }
`;

test('creating pods escalates when a ServiceAccount of the namespace holds more', () => {
  const r = auditObjects(contextOfYaml(DEPLOYER).objects, { cluster: 'c' });
  const o = r.outcomes.find(
    (x) => x.checkId === 'rbac/escalate-bind-impersonate' && x.resource === 'RoleBinding/shop/deployer',
  )!;
  assert.equal(o.pass, false);
  assert.equal(o.actual, 'create-pods:shop via Role/shop/deployer');
  assert.deepEqual(
    o.evidence!.filter(([k]) => k === 'reachable-service-account'),
    [['reachable-service-account', 'User dev -> ServiceAccount shop/backup: read-secrets:shop']],
  );
  // Once dev may read the Secrets itself, the backup ServiceAccount gives nothing more.
  const more = `${DEPLOYER}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: dev-reads, namespace: shop }
subjects: [{ kind: User, name: dev }]
roleRef: { kind: Role, name: secret-reader }
`;
  const r2 = auditObjects(contextOfYaml(more).objects, { cluster: 'c' });
  assert.deepEqual(fails(r2, 'rbac/escalate-bind-impersonate'), []);
});

test('Secrets named by resourceNames pass secrets-access; an aggregated role gets no rules patch', () => {
  const r = auditObjects(
    contextOfYaml(`
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: one, namespace: pay }
rules: [{ apiGroups: [""], resources: [secrets], resourceNames: [tls], verbs: [get] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: one, namespace: pay }
subjects: [{ kind: ServiceAccount, name: api, namespace: pay }]
roleRef: { kind: Role, name: one }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: everything }
aggregationRule: { clusterRoleSelectors: [{ matchLabels: { team: ops } }] }
rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: ops-secrets, labels: { team: ops } }
rules: [{ apiGroups: [""], resources: [secrets], verbs: [watch] }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ops, namespace: pay }
subjects: [{ kind: Group, name: ops }]
roleRef: { kind: ClusterRole, name: everything }
`).objects,
    { cluster: 'c' },
  );
  const one = r.outcomes.find(
    (o) => o.checkId === 'rbac/secrets-access' && o.resource === 'RoleBinding/pay/one',
  )!;
  assert.equal(one.pass, true);
  assert.equal(one.actual, 'named Secrets only: read-secret:pay/tls');
  const wildcard = r.outcomes.find(
    (o) => o.checkId === 'rbac/wildcard' && o.resource === 'ClusterRole//everything',
  )!;
  assert.equal(wildcard.pass, false);
  assert.equal(wildcard.patch, undefined);
  const ops = r.outcomes.find(
    (o) => o.checkId === 'rbac/secrets-access' && o.resource === 'RoleBinding/pay/ops',
  )!;
  assert.equal(ops.pass, false);
  assert.deepEqual(
    ops.evidence!.filter(([k]) => k === 'granted-by').map(([, v]) => v),
    [
      'RoleBinding/pay/ops -> ClusterRole/everything rule 0 (aggregated from ClusterRole/ops-secrets rule 0)',
      'RoleBinding/pay/ops -> ClusterRole/everything rule 1',
    ],
  );
  assert.match(
    ops.message,
    /is aggregated: the controller rewrites its rules, so remove the aggregation labels from the ClusterRoles that contribute the rule \(ops-secrets\)/,
  );
  assert.equal(kindOf(ops.subject), 'RoleBinding');
  assert.equal(resourceKey(ops.subject), 'RoleBinding/pay/ops');
});

test('a binding to an implicit group lists the ServiceAccounts it reaches', () => {
  const r = auditObjects(
    contextOfYaml(`
apiVersion: v1
kind: ServiceAccount
metadata: { name: api, namespace: pay }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: worker, namespace: pay }
spec:
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec: { serviceAccountName: worker, containers: [{ name: w, image: "w:1" }] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: all-pay-sas, namespace: pay }
subjects: [{ kind: Group, name: "system:serviceaccounts:pay" }]
roleRef: { kind: ClusterRole, name: view }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: all-pay-sas-edit, namespace: pay }
subjects: [{ kind: Group, name: "system:serviceaccounts:pay" }]
roleRef: { kind: ClusterRole, name: edit }
`).objects,
    { cluster: 'c' },
  );
  assert.deepEqual(fails(r, 'rbac/secrets-access'), ['RoleBinding/pay/all-pay-sas-edit']);
  const o = r.outcomes.find((x) => x.checkId === 'rbac/secrets-access' && !x.pass)!;
  assert.deepEqual(
    o.evidence!.find(([k]) => k === 'members'),
    [
      'members',
      'Group system:serviceaccounts:pay: ServiceAccount pay/api, ServiceAccount pay/default, ServiceAccount pay/worker',
    ],
  );
  assert.ok(
    o.evidence!.some(
      ([k, v]) =>
        k === 'granted-by' &&
        v.startsWith(
          'RoleBinding/pay/all-pay-sas-edit -> ClusterRole/edit (built-in, not in the input) rule ',
        ),
    ),
  );
});
