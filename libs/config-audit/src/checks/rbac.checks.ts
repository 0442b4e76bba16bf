import { Severity } from '@vigil/contracts';
import { arr, kindOf, nameOf, namespaceOf, obj, str, type LoadedObject } from '../model/k8s-object.js';
import { type AuditContext, type CheckDefinition, type CheckOutcome } from './check.model.js';

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames: string[];
  nonResourceURLs: string[];
}

function rulesOf(role: LoadedObject): Rule[] {
  return arr(role.raw['rules']).map((r) => {
    const o = obj(r) ?? {};
    const list = (k: string) => arr(o[k]).map((x) => String(x));
    return {
      apiGroups: list('apiGroups'),
      resources: list('resources'),
      verbs: list('verbs'),
      resourceNames: list('resourceNames'),
      nonResourceURLs: list('nonResourceURLs'),
    };
  });
}

// Built-in ClusterRoles that exist in every cluster and so are usually not in the input; their rules as far as the
// checks need them (kube-apiserver bootstrap policy).
const BUILTIN_CLUSTER_ROLES: Record<string, Rule[]> = {
  'cluster-admin': [
    { apiGroups: ['*'], resources: ['*'], verbs: ['*'], resourceNames: [], nonResourceURLs: [] },
  ],
  admin: [
    {
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      resourceNames: [],
      nonResourceURLs: [],
    },
  ],
  edit: [
    {
      apiGroups: [''],
      resources: ['secrets'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      resourceNames: [],
      nonResourceURLs: [],
    },
  ],
};

interface ResolvedRole {
  kind: string;
  name: string;
  rules: Rule[];
  /** "input", "built-in" or "unknown" (referenced but neither in the input nor built in). */
  origin: 'input' | 'built-in' | 'unknown';
}

function resolveRoleRef(ctx: AuditContext, binding: LoadedObject): ResolvedRole {
  const ref = obj(binding.raw['roleRef']) ?? {};
  const kind = str(ref['kind']) ?? 'ClusterRole';
  const name = str(ref['name']) ?? '';
  const found =
    kind === 'Role'
      ? ctx.ofKind('Role').find((r) => nameOf(r) === name && namespaceOf(r) === namespaceOf(binding))
      : ctx.ofKind('ClusterRole').find((r) => nameOf(r) === name);
  if (found) return { kind, name, rules: rulesOf(found), origin: 'input' };
  const builtin = kind === 'ClusterRole' ? BUILTIN_CLUSTER_ROLES[name] : undefined;
  if (builtin) return { kind, name, rules: builtin, origin: 'built-in' };
  return { kind, name, rules: [], origin: 'unknown' };
}

function subjectsOf(binding: LoadedObject): string[] {
  return arr(binding.raw['subjects']).map((s) => {
    const o = obj(s) ?? {};
    const ns = str(o['namespace']);
    return `${str(o['kind']) ?? '?'} ${ns ? `${ns}/` : ''}${str(o['name']) ?? ''}`;
  });
}

const has = (list: string[], v: string) => list.includes('*') || list.includes(v);
const bindings = (ctx: AuditContext) => [...ctx.ofKind('RoleBinding'), ...ctx.ofKind('ClusterRoleBinding')];
const chain = (b: LoadedObject, role: ResolvedRole) =>
  `${subjectsOf(b).join(', ') || 'no subjects'} via ${kindOf(b)} ${namespaceOf(b) ? `${namespaceOf(b)}/` : ''}${nameOf(b)} → ${role.kind} ${role.name}${role.origin === 'built-in' ? ' (built-in)' : role.origin === 'unknown' ? ' (not in the input)' : ''}`;

export const rbacWildcardCheck: CheckDefinition = {
  id: 'rbac/wildcard',
  version: 1,
  title: 'Role grants * on API groups, resources or verbs',
  severity: Severity.HIGH,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation: 'List the API groups, resources and verbs the subjects actually use instead of *.',
  concerns: (kind) => kind === 'Role' || kind === 'ClusterRole',
  run: (ctx) =>
    [...ctx.ofKind('Role'), ...ctx.ofKind('ClusterRole')].map((role): CheckOutcome => {
      const rules = rulesOf(role);
      const hits: string[] = [];
      rules.forEach((r, i) => {
        for (const f of ['apiGroups', 'resources', 'verbs'] as const)
          if (r[f].includes('*')) hits.push(`rules[${i}].${f}`);
      });
      return {
        pass: hits.length === 0,
        subject: role,
        detail: hits.map((h) => h.split('.').pop()).join(', '),
        field: hits[0] ?? 'rules',
        expected: 'no * in apiGroups, resources or verbs',
        actual: hits.length ? `* at ${hits.join(', ')}` : `${rules.length} rule(s) without *`,
        message: hits.length
          ? `${kindOf(role)} ${nameOf(role)} grants * (${hits.join(', ')}), including whatever resources and verbs are added to the cluster later`
          : 'no wildcard',
        cde: ctx.isCdeNamespace(namespaceOf(role)),
        evidence: hits.map((h) => ['wildcard', h] as [string, string]),
      };
    }),
};

/**
 * cluster-admin by name, or a ClusterRole with a rule of * groups, * resources and * verbs. A namespaced Role with
 * the same rule is only admin of its namespace (it can never reach cluster-scoped objects): rbac/wildcard covers it.
 */
function isClusterAdminEquivalent(role: ResolvedRole): boolean {
  if (role.kind !== 'ClusterRole') return false;
  if (role.name === 'cluster-admin') return true;
  return role.rules.some(
    (r) => r.apiGroups.includes('*') && r.resources.includes('*') && r.verbs.includes('*'),
  );
}

export const clusterAdminBindingCheck: CheckDefinition = {
  id: 'rbac/cluster-admin-binding',
  version: 1,
  title: 'Binding grants cluster-admin or an equivalent role',
  severity: Severity.CRITICAL,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation: 'Bind a role limited to what the subjects need; keep cluster-admin for break-glass accounts.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  run: (ctx) =>
    bindings(ctx).map((b) => {
      const role = resolveRoleRef(ctx, b);
      const bad = isClusterAdminEquivalent(role);
      return {
        pass: !bad,
        subject: b,
        field: 'roleRef',
        expected: 'a role narrower than cluster-admin',
        actual: `${role.kind} ${role.name}`,
        message: bad
          ? `${chain(b, role)} grants every verb on every resource${kindOf(b) === 'RoleBinding' ? ` in namespace ${namespaceOf(b)}` : ' in the cluster'}`
          : `${role.kind} ${role.name} is not cluster-admin equivalent`,
        cde: ctx.isCdeNamespace(namespaceOf(b)) || kindOf(b) === 'ClusterRoleBinding',
        evidence: [['chain', chain(b, role)]] as [string, string][],
      };
    }),
};

const READ_VERBS = ['get', 'list', 'watch'];

export const secretsAccessCheck: CheckDefinition = {
  id: 'rbac/secrets-access',
  version: 1,
  title: 'Binding grants read access to Secrets',
  severity: Severity.HIGH,
  pci: { key: 'k8s.rbac_secrets_read', use: 'all' },
  remediation:
    'Remove get/list/watch on secrets from the role, or restrict it with resourceNames to the one Secret used.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  run: (ctx) =>
    bindings(ctx).map((b) => {
      const role = resolveRoleRef(ctx, b);
      const grants = role.rules.filter((r) => has(r.apiGroups, '') && has(r.resources, 'secrets'));
      // watch alone streams full objects, so it reads secret contents as much as get does.
      const verbs = [
        ...new Set(grants.flatMap((r) => r.verbs.filter((v) => v === '*' || READ_VERBS.includes(v)))),
      ];
      const bad = verbs.length > 0;
      const scoped = grants.length > 0 && grants.every((r) => r.resourceNames.length > 0);
      return {
        pass: !bad,
        subject: b,
        field: 'roleRef',
        expected: 'no get, list or watch on secrets',
        actual: bad
          ? `${verbs.join(',')} on secrets${scoped ? ' (named Secrets only)' : ''}`
          : 'no read access to secrets',
        message: bad
          ? `${chain(b, role)} can ${verbs.join('/')} Secrets${kindOf(b) === 'RoleBinding' ? ` in namespace ${namespaceOf(b)}` : ' in every namespace'}`
          : 'no secrets access',
        cde: ctx.isCdeNamespace(namespaceOf(b)) || kindOf(b) === 'ClusterRoleBinding',
        evidence: [['chain', chain(b, role)]] as [string, string][],
      };
    }),
};

export const anonymousBindingCheck: CheckDefinition = {
  id: 'rbac/anonymous-binding',
  version: 1,
  title: 'Binding grants rights to anonymous or unauthenticated users',
  severity: Severity.CRITICAL,
  pci: { key: 'k8s.rbac_anonymous', use: 'all' },
  remediation: 'Remove system:anonymous and system:unauthenticated from the binding subjects.',
  concerns: (kind) => kind.endsWith('Binding'),
  run: (ctx) =>
    bindings(ctx).map((b) => {
      const anon = arr(b.raw['subjects'])
        .map((s) => obj(s) ?? {})
        .filter(
          (s) =>
            (s['kind'] === 'User' && s['name'] === 'system:anonymous') ||
            (s['kind'] === 'Group' &&
              (s['name'] === 'system:unauthenticated' || s['name'] === 'system:anonymous')),
        );
      const role = resolveRoleRef(ctx, b);
      return {
        pass: anon.length === 0,
        subject: b,
        field: 'subjects',
        expected: 'no system:anonymous or system:unauthenticated subject',
        actual: anon.length
          ? anon.map((s) => `${String(s['kind'])} ${String(s['name'])}`).join(', ')
          : `${subjectsOf(b).length} authenticated subject(s)`,
        message: anon.length
          ? `${chain(b, role)}: anyone who can reach the API server gets these rights without credentials`
          : 'no anonymous subject',
        cde: true,
        evidence: [['chain', chain(b, role)]] as [string, string][],
      };
    }),
};

/** Rights that let a subject read credentials, run code in pods or on nodes, change objects or escalate. */
function sensitiveRights(rules: Rule[]): string[] {
  const out: string[] = [];
  const covers = (resources: string[], target: string) =>
    resources.some(
      (r) => r === '*' || r === target || (r.endsWith('/*') && target.startsWith(r.slice(0, -1))),
    );
  for (const r of rules) {
    if (!has(r.apiGroups, '') && !r.apiGroups.includes('*')) {
      if (r.verbs.some((v) => ['*', 'escalate', 'bind', 'impersonate'].includes(v)))
        out.push(`${r.verbs.join(',')} on ${r.resources.join(',')}`);
      continue;
    }
    if (covers(r.resources, 'secrets') && r.verbs.some((v) => v === '*' || READ_VERBS.includes(v)))
      out.push('read secrets');
    // get on pods/exec is enough over a websocket; nodes/proxy reaches the kubelet API (exec, logs) directly.
    for (const sub of ['pods/exec', 'pods/attach', 'nodes/proxy'])
      if (covers(r.resources, sub) && r.verbs.some((v) => v === '*' || v === 'create' || v === 'get'))
        out.push(sub);
    if (
      r.verbs.some((v) =>
        [
          '*',
          'create',
          'update',
          'patch',
          'delete',
          'deletecollection',
          'escalate',
          'bind',
          'impersonate',
        ].includes(v),
      )
    )
      out.push(`${r.verbs.join(',')} on ${r.resources.join(',')}`);
  }
  return [...new Set(out)];
}

export const authenticatedGroupCheck: CheckDefinition = {
  id: 'rbac/authenticated-group',
  version: 1,
  title: 'Every authenticated user gets sensitive rights',
  severity: Severity.HIGH,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation:
    'Bind the role to the groups or service accounts that need it instead of system:authenticated.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  run: (ctx) =>
    bindings(ctx)
      .filter((b) =>
        arr(b.raw['subjects']).some(
          (s) => obj(s)?.['kind'] === 'Group' && obj(s)?.['name'] === 'system:authenticated',
        ),
      )
      .map((b) => {
        const role = resolveRoleRef(ctx, b);
        const rights = sensitiveRights(role.rules);
        return {
          pass: rights.length === 0,
          subject: b,
          field: 'subjects',
          expected: 'system:authenticated bound to non-sensitive rights only',
          actual: rights.length ? rights.join('; ') : 'no sensitive right',
          message: rights.length
            ? `${chain(b, role)} gives every authenticated identity (any service account of any pod) ${rights.join('; ')}`
            : 'no sensitive right',
          cde: true,
          evidence: [['chain', chain(b, role)]] as [string, string][],
        };
      }),
};

export const RBAC_CHECKS: readonly CheckDefinition[] = [
  rbacWildcardCheck,
  clusterAdminBindingCheck,
  secretsAccessCheck,
  anonymousBindingCheck,
  authenticatedGroupCheck,
];
