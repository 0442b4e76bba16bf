import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { corpusPath } from '@vigil/testing';
import { auditObjects } from '../audit.js';
import { DEFAULT_LOADER_LIMITS, loadManifests } from '../load/manifest-loader.js';
import { nameOf } from '../model/k8s-object.js';
import { narrowRules, rulesAsJson } from './narrow.js';
import { parseRules } from './policy-rule.js';

test('checkov wildcard roles: the narrowed rules are valid Roles without wildcards', async () => {
  const { objects } = await loadManifests(
    [corpusPath('k8s', 'cases', 'checkov', 'wildcard-roles', 'input')],
    DEFAULT_LOADER_LIMITS,
  );
  const narrowed: Record<string, unknown[]> = Object.fromEntries(
    objects.map((o) => [nameOf(o), rulesAsJson(narrowRules(parseRules(o.raw['rules'])))]),
  );
  assert.deepEqual(narrowed, {
    // * resources with the empty verb "": grants nothing today, so nothing is proposed.
    'test-should-fail-1': [],
    'test-should-fail-2': [
      { apiGroups: ['', 'extensions', 'apps'], resources: ['example'], verbs: ['get', 'list', 'watch'] },
    ],
    'test-should-pass-3': [{ apiGroups: ['extensions', 'apps'], resources: ['example'], verbs: ['example'] }],
  });
  const patched = objects.map((o) => ({
    ...o,
    raw: { ...o.raw, rules: (narrowed as Record<string, unknown[]>)[nameOf(o)] },
  }));
  for (const o of patched) new Role(o.raw as ConstructorParameters<typeof Role>[0]).validate();
  const r = auditObjects(patched, { cluster: 'c' });
  assert.deepEqual(
    r.outcomes.filter((o) => o.checkId === 'rbac/wildcard' && !o.pass).map((o) => o.resource),
    [],
  );
});

test('bootstrap admin: narrowing keeps the namespace workload rights and drops exec, Secrets reads and RBAC writes', async () => {
  const { objects } = await loadManifests(
    [corpusPath('k8s', 'manifests', 'k8s-bootstrap-rbac', 'cluster-roles.yaml')],
    DEFAULT_LOADER_LIMITS,
  );
  const admin = objects.find((o) => nameOf(o) === 'admin')!;
  const before = parseRules(admin.raw['rules']);
  const after = narrowRules(before);
  const grants = (rules: typeof after, group: string, resource: string, verb: string) =>
    rules.some(
      (r) =>
        (r.apiGroups.includes(group) || r.apiGroups.includes('*')) &&
        (r.resources.includes(resource) || r.resources.includes('*')) &&
        (r.verbs.includes(verb) || r.verbs.includes('*')),
    );
  for (const [g, res, v] of [
    ['', 'pods/exec', 'create'],
    ['', 'secrets', 'get'],
    ['', 'secrets', 'list'],
    ['rbac.authorization.k8s.io', 'rolebindings', 'create'],
  ] as const) {
    assert.ok(grants(before, g, res, v), `admin grants ${v} ${res} before`);
    assert.ok(!grants(after, g, res, v), `narrowed admin grants no ${v} ${res}`);
  }
  assert.ok(grants(after, '', 'pods', 'create'));
  assert.ok(grants(after, '', 'secrets', 'create'));
  assert.ok(grants(after, 'rbac.authorization.k8s.io', 'rolebindings', 'get'));
});
