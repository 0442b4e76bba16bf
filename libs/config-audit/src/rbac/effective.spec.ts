import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { corpusPath, repoRoot } from '@vigil/testing';
import { contextOfPaths, contextOfYaml } from './context.spec-helper.js';
import {
  effectivePermissions,
  serviceAccountRights,
  subjectKey,
  type EffectivePermissions,
  type RbacSubject,
} from './effective.js';
import { type AccessRequest } from './policy-rule.js';

const sa = (namespace: string, name: string): RbacSubject => ({ kind: 'ServiceAccount', namespace, name });
const user = (name: string): RbacSubject => ({ kind: 'User', name });
const group = (name: string): RbacSubject => ({ kind: 'Group', name });

/** Every known subject the request is allowed for, with the chains that allow it. */
function who(p: EffectivePermissions, request: AccessRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const s of p.subjects()) {
    const chains = p.can(s, request).map((g) => g.chain);
    if (chains.length) out[subjectKey(s)] = chains;
  }
  return out;
}

const bootstrap = () => contextOfPaths(corpusPath('k8s', 'manifests', 'k8s-bootstrap-rbac'));

test('bootstrap RBAC: system:masters is cluster-admin, through its binding and through the API server itself', async () => {
  const p = effectivePermissions(await bootstrap());
  const masters = group('system:masters');
  assert.ok(p.capabilitiesOf(masters).includes('cluster-admin'));
  const chains = p
    .can(masters, { verb: 'delete', group: 'apps', resource: 'deployments', namespace: 'x', name: 'y' })
    .map((g) => g.chain);
  assert.ok(
    chains.includes('ClusterRoleBinding/cluster-admin -> ClusterRole/cluster-admin rule 0'),
    chains.join('\n'),
  );
  assert.ok(chains.some((c) => c.startsWith('kube-apiserver: group system:masters')));
  // A plain authenticated user gets discovery and self-review only.
  assert.deepEqual(p.capabilitiesOf(user('alice')), []);
  assert.deepEqual(
    p.can(user('alice'), { verb: 'get', nonResourceURL: '/healthz' }).map((g) => g.chain),
    [
      'ClusterRoleBinding/system:discovery -> ClusterRole/system:discovery rule 0 [as member of Group system:authenticated]',
    ],
  );
});

test('bootstrap RBAC: who reads Secrets cluster-wide, and who in kube-system', async () => {
  const p = effectivePermissions(await bootstrap());
  // A list across all namespaces is decided by ClusterRoleBindings only.
  assert.deepEqual(who(p, { verb: 'list', group: '', resource: 'secrets' }), {
    'Group system:masters': [
      'kube-apiserver: group system:masters is allowed everything before RBAC is consulted (rule 0 of cluster-admin stands for it)',
      'ClusterRoleBinding/cluster-admin -> ClusterRole/cluster-admin rule 0',
    ],
    'User system:kube-controller-manager': [
      'ClusterRoleBinding/system:kube-controller-manager -> ClusterRole/system:kube-controller-manager rule 6',
    ],
  });
  const readers = p
    .subjects()
    .filter((s) => p.capabilitiesOf(s).includes('read-secrets:*'))
    .map(subjectKey);
  assert.deepEqual(readers, ['Group system:masters', 'User system:kube-controller-manager']);
  const inKubeSystem = who(p, {
    verb: 'get',
    group: '',
    resource: 'secrets',
    namespace: 'kube-system',
    name: 'bootstrap-token-abcdef',
  });
  assert.deepEqual(inKubeSystem['ServiceAccount kube-system/bootstrap-signer'], [
    'RoleBinding/kube-system/system:controller:bootstrap-signer -> Role/kube-system/system:controller:bootstrap-signer rule 0',
  ]);
  assert.deepEqual(p.forServiceAccount('kube-system', 'bootstrap-signer').capabilities, [
    'read-secrets:kube-system',
  ]);
  // The same ServiceAccount's RoleBinding in kube-public gives nothing in kube-system and vice versa.
  assert.deepEqual(
    p.can(sa('kube-system', 'bootstrap-signer'), {
      verb: 'get',
      group: '',
      resource: 'secrets',
      namespace: 'kube-public',
      name: 'x',
    }),
    [],
  );
});

test('bootstrap RBAC: the roles the bindings name but the input lacks are reported, not guessed', async () => {
  const p = effectivePermissions(await bootstrap());
  assert.deepEqual(p.problems(), [
    'ClusterRoleBinding system:public-info-viewer: ClusterRole system:public-info-viewer is not in the input and not a built-in role; its rights are unknown',
    'ClusterRoleBinding system:volume-scheduler: ClusterRole system:volume-scheduler is not in the input and not a built-in role; its rights are unknown',
  ]);
  // This revision of the defaults writes admin out by hand (no aggregationRule): the input's rules win over the
  // built-in fallback.
  const admin = p.clusterRole('admin')!;
  assert.equal(admin.origin, 'input');
  assert.equal(admin.aggregated, false);
  assert.ok(admin.rules[0]!.rule.resources.includes('pods/exec'));
});

const AGGREGATION = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: admin }
aggregationRule:
  clusterRoleSelectors: [{ matchLabels: { rbac.authorization.k8s.io/aggregate-to-admin: "true" } }]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: edit, labels: { rbac.authorization.k8s.io/aggregate-to-admin: "true" } }
aggregationRule:
  clusterRoleSelectors: [{ matchLabels: { rbac.authorization.k8s.io/aggregate-to-edit: "true" } }]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: view, labels: { rbac.authorization.k8s.io/aggregate-to-edit: "true" } }
aggregationRule:
  clusterRoleSelectors:
    - matchExpressions: [{ key: rbac.authorization.k8s.io/aggregate-to-view, operator: In, values: ["true"] }]
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: system:aggregate-to-edit, labels: { rbac.authorization.k8s.io/aggregate-to-edit: "true" } }
rules:
  - { apiGroups: [""], resources: [pods/exec, pods/attach], verbs: [create, get] }
  - { apiGroups: [""], resources: [secrets], verbs: [get, list, watch, create, update, patch, delete] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: crontabs-view, labels: { rbac.authorization.k8s.io/aggregate-to-view: "true" } }
rules:
  - { apiGroups: [stable.example.com], resources: [crontabs], verbs: [get, list, watch] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: shop-admins, namespace: shop }
subjects: [{ kind: Group, name: shop-team, apiGroup: rbac.authorization.k8s.io }]
roleRef: { kind: ClusterRole, name: admin, apiGroup: rbac.authorization.k8s.io }
`;

test('aggregated ClusterRoles pull in the rules of the roles their selectors match, transitively', () => {
  const p = effectivePermissions(contextOfYaml(AGGREGATION));
  const admin = p.clusterRole('admin')!;
  assert.deepEqual(admin.aggregates, ['crontabs-view', 'edit', 'system:aggregate-to-edit', 'view']);
  // admin <- edit <- view <- crontabs-view: the CRD's read rule reaches admin through two aggregation levels.
  const grants = p.can(group('shop-team'), {
    verb: 'list',
    group: 'stable.example.com',
    resource: 'crontabs',
    namespace: 'shop',
  });
  assert.deepEqual(
    grants.map((g) => g.chain),
    [
      'RoleBinding/shop/shop-admins -> ClusterRole/admin rule 2 (aggregated from ClusterRole/crontabs-view rule 0)',
    ],
  );
  assert.deepEqual(p.capabilitiesOf(group('shop-team')), ['exec-pods:shop', 'read-secrets:shop']);
  // view does not get edit's rules (the labels point one way only).
  assert.deepEqual(p.clusterRole('view')!.aggregates, ['crontabs-view']);
});

test('a RoleBinding to a ClusterRole grants only in its own namespace', () => {
  const p = effectivePermissions(contextOfYaml(AGGREGATION));
  const team = group('shop-team');
  const exec = (namespace?: string): AccessRequest => ({
    verb: 'create',
    group: '',
    resource: 'pods',
    subresource: 'exec',
    name: 'api-0',
    ...(namespace ? { namespace } : {}),
  });
  assert.equal(p.can(team, exec('shop')).length, 1);
  assert.deepEqual(p.can(team, exec('payments')), []);
  assert.deepEqual(p.can(team, exec()), []);
});

const EDGES = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: one-secret, namespace: shop }
rules:
  - { apiGroups: [""], resources: [secrets], resourceNames: [db-credentials], verbs: [get] }
  - { apiGroups: [""], resources: ["*/exec"], verbs: [create] }
  - { apiGroups: [""], resources: ["pods/*"], verbs: ["*"] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: one-secret, namespace: shop }
subjects: [{ kind: Group, name: "system:serviceaccounts:shop" }]
roleRef: { kind: Role, name: one-secret }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: metrics }
rules:
  - { nonResourceURLs: [/metrics, "/logs/*"], verbs: [get] }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: metrics }
subjects:
  - { kind: User, name: "system:serviceaccount:monitoring:scraper" }
roleRef: { kind: ClusterRole, name: metrics }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: editors, namespace: lab }
subjects: [{ kind: Group, name: system:authenticated }, { kind: ServiceAccount, name: no-namespace }]
roleRef: { kind: ClusterRole, name: edit }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: ghost, namespace: shop }
subjects: [{ kind: User, name: bob }]
roleRef: { kind: Role, name: not-there }
`;

test('resourceNames narrow get to the named object and allow no list', () => {
  const p = effectivePermissions(contextOfYaml(EDGES));
  const api = sa('shop', 'api');
  const can = (r: AccessRequest) => p.can(api, r);
  const get = (name: string): AccessRequest => ({
    verb: 'get',
    group: '',
    resource: 'secrets',
    namespace: 'shop',
    name,
  });
  assert.equal(can(get('db-credentials')).length, 1);
  assert.deepEqual(can(get('tls')), []);
  assert.deepEqual(can({ verb: 'list', group: '', resource: 'secrets', namespace: 'shop' }), []);
  assert.ok(p.capabilitiesOf(api).includes('read-secret:shop/db-credentials'));
});

test('subresource wildcards: */exec matches every exec, pods/* matches nothing', () => {
  const p = effectivePermissions(contextOfYaml(EDGES));
  const api = sa('shop', 'api');
  const exec = p.can(api, {
    verb: 'create',
    group: '',
    resource: 'pods',
    subresource: 'exec',
    namespace: 'shop',
    name: 'x',
  });
  assert.deepEqual(
    exec.map((g) => `${g.chain} / ${g.implicitGroup}`),
    [
      'RoleBinding/shop/one-secret -> Role/shop/one-secret rule 1 [as member of Group system:serviceaccounts:shop] / system:serviceaccounts:shop',
    ],
  );
  assert.deepEqual(
    p
      .can(api, {
        verb: 'get',
        group: '',
        resource: 'pods',
        subresource: 'log',
        namespace: 'shop',
        name: 'x',
      })
      .filter((g) => g.role.name === 'one-secret'),
    [],
  );
  assert.deepEqual(
    p
      .can(api, { verb: 'delete', group: '', resource: 'pods', namespace: 'shop', name: 'x' })
      .filter((g) => g.role.name === 'one-secret'),
    [],
  );
});

test('ServiceAccounts are in system:serviceaccounts[:<ns>] and system:authenticated; a user name can name one too', () => {
  const p = effectivePermissions(contextOfYaml(EDGES));
  const secret = { verb: 'get', group: '', resource: 'secrets', namespace: 'shop', name: 'db-credentials' };
  assert.equal(p.can(sa('shop', 'api'), secret).filter((g) => g.role.name === 'one-secret').length, 1);
  assert.deepEqual(
    p.can(sa('other', 'api'), secret).filter((g) => g.role.name === 'one-secret'),
    [],
  );
  assert.deepEqual(
    p.can(user('alice'), secret).filter((g) => g.role.name === 'one-secret'),
    [],
  );
  // Every authenticated identity is an editor in lab (built-in edit, not in the input); anonymous is not.
  assert.deepEqual(p.capabilitiesOf(user('alice')), [
    'create-pods:lab',
    'create-tokens:lab',
    'exec-pods:lab',
    'impersonate-serviceaccounts:lab',
    'read-secrets:lab',
  ]);
  assert.equal(
    p.can(user('alice'), {
      verb: 'create',
      group: '',
      resource: 'serviceaccounts',
      subresource: 'token',
      namespace: 'lab',
      name: 'api',
    })[0]?.role.origin,
    'built-in',
  );
  assert.deepEqual(p.capabilitiesOf(user('system:anonymous')), []);
  // Non-resource URLs: exact and prefix, cluster bindings only; the User subject matches the ServiceAccount.
  const scraper = sa('monitoring', 'scraper');
  assert.equal(p.can(scraper, { verb: 'get', nonResourceURL: '/metrics' }).length, 1);
  assert.equal(p.can(scraper, { verb: 'get', nonResourceURL: '/logs/kube-apiserver.log' }).length, 1);
  assert.deepEqual(p.can(scraper, { verb: 'get', nonResourceURL: '/debug/pprof' }), []);
  assert.match(
    p.can(scraper, { verb: 'get', nonResourceURL: '/metrics' })[0]!.chain,
    /\[as User system:serviceaccount:monitoring:scraper\]$/,
  );
  assert.deepEqual(p.problems(), [
    'RoleBinding lab/editors subjects[1]: ServiceAccount no-namespace without a namespace (the API server rejects it); ignored',
    'RoleBinding shop/ghost: Role shop/not-there is not in the input; its rights are unknown',
  ]);
  assert.deepEqual(p.capabilitiesOf(user('bob')), p.capabilitiesOf(user('alice')));
});

test('CSR approval needs both the approval subresource and the signer', () => {
  const roles = (rules: string) => `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: { name: approver }
rules: ${rules}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: { name: approver }
subjects: [{ kind: User, name: carol }]
roleRef: { kind: ClusterRole, name: approver }
`;
  const approval =
    '{ apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update] }';
  const signer =
    '{ apiGroups: [certificates.k8s.io], resources: [signers], resourceNames: [kubernetes.io/kube-apiserver-client], verbs: [approve] }';
  const caps = (rules: string) =>
    effectivePermissions(contextOfYaml(roles(rules))).capabilitiesOf(user('carol'));
  assert.deepEqual(caps(`[${approval}]`), []);
  assert.deepEqual(caps(`[${signer}]`), []);
  assert.deepEqual(caps(`[${approval}, ${signer}]`), ['approve-csr']);
});

test('the analysis is computed once per audit context', () => {
  const ctx = contextOfYaml(EDGES);
  assert.equal(effectivePermissions(ctx), effectivePermissions(ctx));
  assert.notEqual(effectivePermissions(ctx), effectivePermissions(contextOfYaml(EDGES)));
});

test('Acme Pay: who reads the CDE namespace Secrets and who runs commands in its pods, with the chain', async () => {
  const ctx = await contextOfPaths(join(repoRoot(), 'examples', 'payments', 'k8s'));
  const p = effectivePermissions(ctx);
  assert.deepEqual(serviceAccountRights(ctx, 'payments', 'payment-api'), {
    capabilities: ['read-secrets:payments'],
    grantedBy: [
      'read-secrets:payments: RoleBinding/payments/payment-api-config-reader -> Role/payments/payment-api-config-reader rule 0',
    ],
  });
  assert.deepEqual(
    who(p, {
      verb: 'get',
      group: '',
      resource: 'secrets',
      namespace: 'payments',
      name: 'ledger-db-credentials',
    }),
    {
      'ServiceAccount payments/payment-api': [
        'RoleBinding/payments/payment-api-config-reader -> Role/payments/payment-api-config-reader rule 0',
      ],
      'User ci-deployer@acme-pay.example': [
        'ClusterRoleBinding/ci-deployer-cluster-admin -> ClusterRole/cluster-admin (built-in, not in the input) rule 0',
      ],
    },
  );
  assert.deepEqual(
    Object.keys(
      who(p, {
        verb: 'create',
        group: '',
        resource: 'pods',
        subresource: 'exec',
        namespace: 'payments',
        name: 'payment-api-0',
      }),
    ),
    ['User ci-deployer@acme-pay.example'],
  );
  // The storefront operators are all-powerful in storefront and nowhere else.
  assert.deepEqual(
    who(p, { verb: 'get', group: '', resource: 'secrets', namespace: 'payments', name: 'x' })[
      'Group storefront-developers'
    ],
    undefined,
  );
  assert.deepEqual(p.forServiceAccount('payments', 'payment-api').capabilities, ['read-secrets:payments']);
  assert.deepEqual(p.forServiceAccount('payments', 'tokenizer').capabilities, []);
  assert.deepEqual(p.forServiceAccount('monitoring', 'node-agent').capabilities, []);
  assert.deepEqual(p.capabilitiesOf(group('storefront-developers')), [
    'bind:storefront',
    'create-pods:storefront',
    'create-tokens:storefront',
    'escalate:storefront',
    'exec-pods:storefront',
    'impersonate-serviceaccounts:storefront',
    'modify-rbac:storefront',
    'namespace-admin:storefront',
    'read-secrets:storefront',
  ]);
  assert.deepEqual(p.subjects().map(subjectKey), [
    'Group storefront-developers',
    'ServiceAccount monitoring/default',
    'ServiceAccount monitoring/node-agent',
    'ServiceAccount payments/default',
    'ServiceAccount payments/ledger-db',
    'ServiceAccount payments/payment-api',
    'ServiceAccount payments/tokenizer',
    'ServiceAccount storefront/checkout-web',
    'ServiceAccount storefront/default',
    'User ci-deployer@acme-pay.example',
  ]);
});
