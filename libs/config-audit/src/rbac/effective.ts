import { type AuditContext } from '../checks/check.model.js';
import {
  arr,
  kindOf,
  labelsOf,
  nameOf,
  namespaceOf,
  obj,
  str,
  stringMap,
  type LoadedObject,
} from '../model/k8s-object.js';
import { BUILTIN_CLUSTER_ROLES } from './builtin-roles.data.js';
import { capabilitiesOfRule, finalizeCapabilities } from './capabilities.js';
import {
  isNonResourceRequest,
  parseRules,
  ruleAllows,
  sameRule,
  type AccessRequest,
  type PolicyRule,
} from './policy-rule.js';
import { CONTROLLER_SERVICE_ACCOUNTS, SYSTEM_SUBJECTS } from './system-subjects.data.js';

export type SubjectKind = 'User' | 'Group' | 'ServiceAccount';

export interface RbacSubject {
  kind: SubjectKind;
  name: string;
  /** ServiceAccounts only. */
  namespace?: string;
}

/** "User alice", "Group system:masters", "ServiceAccount payments/payment-api". */
export function subjectKey(s: RbacSubject): string {
  return s.kind === 'ServiceAccount'
    ? `ServiceAccount ${s.namespace ?? '?'}/${s.name}`
    : `${s.kind} ${s.name}`;
}

export interface EffectiveRule {
  rule: PolicyRule;
  /** Position in the role's effective rules (its stored rules when it is not aggregated). */
  index: number;
  /** For an aggregated ClusterRole: the ClusterRole and index the rule was pulled in from. */
  aggregatedFrom?: { role: string; index: number };
}

export interface ResolvedRole {
  kind: 'Role' | 'ClusterRole';
  /** "" for a ClusterRole. */
  namespace: string;
  name: string;
  /** "built-in": not in the input, taken from the bootstrap policy; "missing": neither, so its rights are unknown. */
  origin: 'input' | 'built-in' | 'missing';
  object?: LoadedObject;
  rules: EffectiveRule[];
  /** ClusterRoles whose rules the aggregation pulled in (transitively), by name. */
  aggregates: string[];
  /** Whether the role has an aggregationRule (its rules are then written by the controller, not by hand). */
  aggregated: boolean;
}

export interface ResolvedBinding {
  object: LoadedObject;
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  /** "" for a ClusterRoleBinding. */
  namespace: string;
  name: string;
  subjects: RbacSubject[];
  role: ResolvedRole;
  /** Where the binding grants: its namespace for a RoleBinding (even to a ClusterRole), "*" for a ClusterRoleBinding. */
  scope: string;
  /** Created by the cluster itself: labelled kubernetes.io/bootstrapping=rbac-defaults or named system:... */
  bootstrap: boolean;
}

export interface Grant {
  /** The subject asked about. */
  subject: RbacSubject;
  /** Absent only for the API server's own superuser group (system:masters), which RBAC never consults. */
  binding?: ResolvedBinding;
  /** The subject as the binding names it (the group, when the subject is in it implicitly). */
  boundAs: RbacSubject;
  /** The implicit group the subject is in that the binding names: system:serviceaccounts[:<ns>], system:authenticated, system:unauthenticated. */
  implicitGroup?: string;
  role: ResolvedRole;
  ruleIndex: number;
  rule: PolicyRule;
  aggregatedFrom?: { role: string; index: number };
  /** A namespace, or "*" for every namespace. */
  scope: string;
  /** "ClusterRoleBinding/x -> ClusterRole/y rule 2", with how the subject is in the binding when it is implicit. */
  chain: string;
}

export interface EffectivePermissions {
  /** The grants that allow the request for the subject (empty when nothing does), each with its binding chain. */
  can(subject: RbacSubject, request: AccessRequest): Grant[];
  /** Every subject a binding names, and every ServiceAccount the input declares or a workload runs as, sorted. */
  subjects(): RbacSubject[];
  /** Everything a ServiceAccount holds: its capabilities and every grant (rule of a binding) that applies to it. */
  forServiceAccount(namespace: string, name: string): SubjectPermissions;
  /** The subject's capabilities (see capabilities.ts for the list), sorted. */
  capabilitiesOf(subject: RbacSubject): string[];
  /** Each capability of the subject with the grants it comes from. */
  capabilityGrants(subject: RbacSubject): Map<string, Grant[]>;
  /** Each capability a binding gives (whoever its subjects are), with the rules it comes from. */
  bindingCapabilities(binding: ResolvedBinding): Map<string, EffectiveRule[]>;
  /** Every grant of every binding that applies to the subject. */
  grantsOf(subject: RbacSubject): Grant[];
  bindings(): ResolvedBinding[];
  bindingOf(object: LoadedObject): ResolvedBinding | undefined;
  clusterRole(name: string): ResolvedRole | undefined;
  /** The ServiceAccounts known in a namespace (declared, bound, or run as by a workload; "default" always). */
  serviceAccountsIn(namespace: string): RbacSubject[];
  /** Why a subject of a binding is skipped by the checks, or undefined (see system-subjects.data.ts). */
  skipReason(binding: ResolvedBinding, subject: RbacSubject): string | undefined;
  /** Input problems met on the way: missing roles, subjects the API server would reject, duplicate roles. */
  problems(): string[];
}

export interface SubjectPermissions {
  subject: RbacSubject;
  capabilities: string[];
  grants: Grant[];
}

const cache = new WeakMap<AuditContext, EffectivePermissions>();

/** The RBAC analysis of an audit's input, computed once per context. */
export function effectivePermissions(ctx: AuditContext): EffectivePermissions {
  let found = cache.get(ctx);
  if (!found) {
    found = analyse(ctx);
    cache.set(ctx, found);
  }
  return found;
}

/** The identity an API request of the subject would carry: user name and groups, the implicit ones included. */
function identityOf(s: RbacSubject): { user?: string; groups: string[] } {
  if (s.kind === 'ServiceAccount') {
    const ns = s.namespace ?? '';
    return {
      user: `system:serviceaccount:${ns}:${s.name}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
    };
  }
  if (s.kind === 'User')
    return {
      user: s.name,
      groups: [s.name === 'system:anonymous' ? 'system:unauthenticated' : 'system:authenticated'],
    };
  // A member of a group: only what every member has is known, i.e. the group and the groups implied by it.
  if (s.name === 'system:unauthenticated' || s.name === 'system:anonymous')
    return { user: 'system:anonymous', groups: [s.name, 'system:unauthenticated'] };
  const groups = [s.name, 'system:authenticated'];
  if (s.name.startsWith('system:serviceaccounts:')) groups.push('system:serviceaccounts');
  return { groups: [...new Set(groups)] };
}

function appliesTo(bound: RbacSubject, id: { user?: string; groups: string[] }): boolean {
  if (bound.kind === 'User') return id.user !== undefined && bound.name === id.user;
  if (bound.kind === 'Group') return id.groups.includes(bound.name);
  return (
    bound.namespace !== undefined && id.user === `system:serviceaccount:${bound.namespace}:${bound.name}`
  );
}

function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const sel = obj(selector) ?? {};
  for (const [k, v] of Object.entries(stringMap(sel['matchLabels']))) if (labels[k] !== v) return false;
  for (const e of arr(sel['matchExpressions'])) {
    const x = obj(e) ?? {};
    const key = str(x['key']) ?? '';
    const values = arr(x['values']).map(String);
    const op = str(x['operator']);
    const has = key in labels;
    if (op === 'In' && !(has && values.includes(labels[key]!))) return false;
    if (op === 'NotIn' && has && values.includes(labels[key]!)) return false;
    if (op === 'Exists' && !has) return false;
    if (op === 'DoesNotExist' && has) return false;
  }
  return true;
}

const CONTROLLER_SAS = new Set(CONTROLLER_SERVICE_ACCOUNTS);

function analyse(ctx: AuditContext): EffectivePermissions {
  const problems: string[] = [];
  const clusterRoleObjects = new Map<string, LoadedObject>();
  for (const r of ctx.ofKind('ClusterRole')) {
    if (clusterRoleObjects.has(nameOf(r)))
      problems.push(`ClusterRole ${nameOf(r)} appears twice; the first is used`);
    else clusterRoleObjects.set(nameOf(r), r);
  }
  const roleObjects = new Map<string, LoadedObject>();
  for (const r of ctx.ofKind('Role')) {
    const key = `${namespaceOf(r)}/${nameOf(r)}`;
    if (roleObjects.has(key)) problems.push(`Role ${key} appears twice; the first is used`);
    else roleObjects.set(key, r);
  }

  const resolvedClusterRoles = new Map<string, ResolvedRole>();

  // The aggregation controller writes into an aggregated role the rules of every other ClusterRole one of its
  // selectors matches, and keeps doing so until nothing changes: an aggregated role that matches another
  // aggregated role gets that role's aggregated rules too. Stored rules of an aggregated role are kept as well:
  // in a dump of a live cluster they are the controller's output, and in a partial input they are the only
  // record of roles the input lacks.
  function aggregatedRules(
    name: string,
    visiting: Set<string>,
  ): { rules: EffectiveRule[]; aggregates: string[] } {
    const role = clusterRoleObjects.get(name)!;
    const own = parseRules(role.raw['rules']);
    const aggregation = obj(role.raw['aggregationRule']);
    if (!aggregation) return { rules: own.map((rule, index) => ({ rule, index })), aggregates: [] };
    const selectors = arr(aggregation['clusterRoleSelectors']);
    const rules: EffectiveRule[] = [];
    const aggregates: string[] = [];
    const add = (rule: PolicyRule, from?: { role: string; index: number }) => {
      if (rules.some((r) => sameRule(r.rule, rule))) return;
      rules.push({ rule, index: rules.length, ...(from ? { aggregatedFrom: from } : {}) });
    };
    const next = new Set([...visiting, name]);
    const matched = [...clusterRoleObjects.keys()]
      .filter((n) => !next.has(n))
      .filter((n) => selectors.some((s) => selectorMatches(s, labelsOf(clusterRoleObjects.get(n)!))))
      .sort();
    for (const other of matched) {
      const sub = aggregatedRules(other, next);
      aggregates.push(other, ...sub.aggregates);
      for (const r of sub.rules) add(r.rule, r.aggregatedFrom ?? { role: other, index: r.index });
    }
    own.forEach((rule) => add(rule));
    return { rules, aggregates: [...new Set(aggregates)].sort() };
  }

  function clusterRole(name: string): ResolvedRole | undefined {
    const cached = resolvedClusterRoles.get(name);
    if (cached) return cached;
    const object = clusterRoleObjects.get(name);
    let role: ResolvedRole | undefined;
    if (object) {
      const { rules, aggregates } = aggregatedRules(name, new Set());
      role = {
        kind: 'ClusterRole',
        namespace: '',
        name,
        origin: 'input',
        object,
        rules,
        aggregates,
        aggregated: Boolean(obj(object.raw['aggregationRule'])),
      };
    } else if (BUILTIN_CLUSTER_ROLES[name]) {
      role = {
        kind: 'ClusterRole',
        namespace: '',
        name,
        origin: 'built-in',
        rules: BUILTIN_CLUSTER_ROLES[name].map((rule, index) => ({ rule, index })),
        aggregates: [],
        aggregated: name !== 'cluster-admin',
      };
    }
    if (role) resolvedClusterRoles.set(name, role);
    return role;
  }

  function resolveRoleRef(binding: LoadedObject): ResolvedRole {
    const ref = obj(binding.raw['roleRef']) ?? {};
    const kind = str(ref['kind']) === 'Role' ? 'Role' : 'ClusterRole';
    const name = str(ref['name']) ?? '';
    const where = `${kindOf(binding)} ${namespaceOf(binding) ? `${namespaceOf(binding)}/` : ''}${nameOf(binding)}`;
    if (str(ref['kind']) !== 'Role' && str(ref['kind']) !== 'ClusterRole')
      problems.push(
        `${where}: roleRef.kind ${String(ref['kind'])} is neither Role nor ClusterRole; read as ClusterRole`,
      );
    if (kind === 'Role') {
      // A ClusterRoleBinding cannot reference a Role: the API server rejects it, so it grants nothing.
      const object =
        kindOf(binding) === 'RoleBinding' ? roleObjects.get(`${namespaceOf(binding)}/${name}`) : undefined;
      if (kindOf(binding) !== 'RoleBinding')
        problems.push(`${where}: a ClusterRoleBinding cannot reference a Role`);
      if (object)
        return {
          kind,
          namespace: namespaceOf(binding),
          name,
          origin: 'input',
          object,
          rules: parseRules(object.raw['rules']).map((rule, index) => ({ rule, index })),
          aggregates: [],
          aggregated: false,
        };
      if (kindOf(binding) === 'RoleBinding')
        problems.push(
          `${where}: Role ${namespaceOf(binding)}/${name} is not in the input; its rights are unknown`,
        );
      return {
        kind,
        namespace: namespaceOf(binding),
        name,
        origin: 'missing',
        rules: [],
        aggregates: [],
        aggregated: false,
      };
    }
    const role = clusterRole(name);
    if (role) return role;
    problems.push(
      `${where}: ClusterRole ${name} is not in the input and not a built-in role; its rights are unknown`,
    );
    return { kind, namespace: '', name, origin: 'missing', rules: [], aggregates: [], aggregated: false };
  }

  const resolvedBindings: ResolvedBinding[] = [];
  const byObject = new Map<LoadedObject, ResolvedBinding>();
  for (const b of [...ctx.ofKind('RoleBinding'), ...ctx.ofKind('ClusterRoleBinding')]) {
    const kind = kindOf(b) as 'RoleBinding' | 'ClusterRoleBinding';
    const namespace = namespaceOf(b);
    const where = `${kind} ${namespace ? `${namespace}/` : ''}${nameOf(b)}`;
    const subjects: RbacSubject[] = [];
    arr(b.raw['subjects']).forEach((s, i) => {
      const o = obj(s) ?? {};
      const k = str(o['kind']);
      const name = str(o['name']) ?? '';
      if (k === 'ServiceAccount') {
        const ns = str(o['namespace']);
        if (!ns)
          problems.push(
            `${where} subjects[${i}]: ServiceAccount ${name} without a namespace (the API server rejects it); ignored`,
          );
        else subjects.push({ kind: 'ServiceAccount', name, namespace: ns });
      } else if (k === 'User' || k === 'Group') subjects.push({ kind: k, name });
      else problems.push(`${where} subjects[${i}]: unknown subject kind ${String(k)}; ignored`);
    });
    const labels = labelsOf(b);
    const rb: ResolvedBinding = {
      object: b,
      kind,
      namespace,
      name: nameOf(b),
      subjects,
      role: resolveRoleRef(b),
      scope: kind === 'ClusterRoleBinding' ? '*' : namespace,
      bootstrap: labels['kubernetes.io/bootstrapping'] === 'rbac-defaults' || nameOf(b).startsWith('system:'),
    };
    resolvedBindings.push(rb);
    byObject.set(b, rb);
  }

  const serviceAccounts = new Map<string, RbacSubject>();
  const addSa = (namespace: string, name: string) =>
    serviceAccounts.set(`${namespace}/${name}`, { kind: 'ServiceAccount', name, namespace });
  for (const sa of ctx.ofKind('ServiceAccount')) addSa(namespaceOf(sa), nameOf(sa));
  for (const w of ctx.workloads)
    addSa(w.namespace, str(w.podSpec['serviceAccountName']) || str(w.podSpec['serviceAccount']) || 'default');
  for (const b of resolvedBindings)
    for (const s of b.subjects) if (s.kind === 'ServiceAccount') addSa(s.namespace!, s.name);
  const namespaces = new Set<string>([
    ...ctx.ofKind('Namespace').map(nameOf),
    ...[...serviceAccounts.values()].map((s) => s.namespace!),
    ...resolvedBindings.filter((b) => b.namespace).map((b) => b.namespace),
  ]);
  for (const ns of namespaces) addSa(ns, 'default');

  const clusterAdminRole = (): ResolvedRole =>
    clusterRole('cluster-admin') ?? {
      kind: 'ClusterRole',
      namespace: '',
      name: 'cluster-admin',
      origin: 'built-in',
      rules: BUILTIN_CLUSTER_ROLES['cluster-admin']!.map((rule, index) => ({ rule, index })),
      aggregates: [],
      aggregated: false,
    };

  // Bindings by the user names and groups their subjects stand for, so a subject's grants touch only its own
  // bindings (a cluster of thousands of bindings asks this for every service account).
  const bindingsByIdentity = new Map<string, ResolvedBinding[]>();
  for (const b of resolvedBindings) {
    const keys = new Set(
      b.subjects.map((s) =>
        s.kind === 'Group'
          ? `group:${s.name}`
          : s.kind === 'User'
            ? `user:${s.name}`
            : `user:system:serviceaccount:${s.namespace ?? ''}:${s.name}`,
      ),
    );
    for (const k of keys) bindingsByIdentity.set(k, [...(bindingsByIdentity.get(k) ?? []), b]);
  }
  function bindingsFor(id: { user?: string; groups: string[] }): ResolvedBinding[] {
    const found = new Set<ResolvedBinding>();
    if (id.user !== undefined) for (const b of bindingsByIdentity.get(`user:${id.user}`) ?? []) found.add(b);
    for (const g of id.groups) for (const b of bindingsByIdentity.get(`group:${g}`) ?? []) found.add(b);
    // Keep the input's binding order, so chains and evidence read the same as before the index.
    return resolvedBindings.filter((b) => found.has(b));
  }

  const grantsMemo = new Map<string, Grant[]>();
  const capabilityMemo = new Map<string, Map<string, Grant[]>>();
  const capabilityNames = new Map<string, string[]>();

  function grantsOf(subject: RbacSubject): Grant[] {
    const key = subjectKey(subject);
    const memo = grantsMemo.get(key);
    if (memo) return memo;
    const computed = computeGrants(subject);
    grantsMemo.set(key, computed);
    return computed;
  }

  function computeGrants(subject: RbacSubject): Grant[] {
    const id = identityOf(subject);
    const out: Grant[] = [];
    if (id.groups.includes('system:masters')) {
      const role = clusterAdminRole();
      role.rules.forEach((r) =>
        out.push({
          subject,
          boundAs: { kind: 'Group', name: 'system:masters' },
          role,
          ruleIndex: r.index,
          rule: r.rule,
          scope: '*',
          chain: `kube-apiserver: group system:masters is allowed everything before RBAC is consulted (rule ${r.index} of cluster-admin stands for it)`,
        }),
      );
    }
    for (const b of bindingsFor(id)) {
      const bound = b.subjects.find((s) => appliesTo(s, id));
      if (!bound) continue;
      const implicit =
        bound.kind === 'Group' && !(subject.kind === 'Group' && subject.name === bound.name)
          ? bound.name
          : undefined;
      for (const r of b.role.rules)
        out.push({
          subject,
          binding: b,
          boundAs: bound,
          ...(implicit ? { implicitGroup: implicit } : {}),
          role: b.role,
          ruleIndex: r.index,
          rule: r.rule,
          ...(r.aggregatedFrom ? { aggregatedFrom: r.aggregatedFrom } : {}),
          scope: b.scope,
          chain: grantChain(b, r, implicit, bound),
        });
    }
    return out;
  }

  function can(subject: RbacSubject, request: AccessRequest): Grant[] {
    return grantsOf(subject).filter((g) => {
      if (isNonResourceRequest(request)) {
        if (g.scope !== '*') return false;
      } else if (g.scope !== '*' && g.scope !== (request.namespace ?? '')) return false;
      return ruleAllows(g.rule, request);
    });
  }

  function capabilityGrants(subject: RbacSubject): Map<string, Grant[]> {
    const key = subjectKey(subject);
    const memo = capabilityMemo.get(key);
    if (memo) return memo;
    const computed = computeCapabilityGrants(subject);
    capabilityMemo.set(key, computed);
    return computed;
  }

  function computeCapabilityGrants(subject: RbacSubject): Map<string, Grant[]> {
    const raw = new Map<string, Grant[]>();
    for (const g of grantsOf(subject))
      for (const cap of capabilitiesOfRule(g.rule, g.scope)) raw.set(cap, [...(raw.get(cap) ?? []), g]);
    return finalizeCapabilities(raw);
  }

  function bindingCapabilities(b: ResolvedBinding): Map<string, EffectiveRule[]> {
    const raw = new Map<string, EffectiveRule[]>();
    for (const r of b.role.rules)
      for (const cap of capabilitiesOfRule(r.rule, b.scope)) raw.set(cap, [...(raw.get(cap) ?? []), r]);
    return finalizeCapabilities(raw);
  }

  const subjectList = (() => {
    const all = new Map<string, RbacSubject>();
    for (const b of resolvedBindings) for (const s of b.subjects) all.set(subjectKey(s), s);
    for (const s of serviceAccounts.values()) all.set(subjectKey(s), s);
    return [...all.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, s]) => s);
  })();

  function skipReason(b: ResolvedBinding, s: RbacSubject): string | undefined {
    if (!b.bootstrap) return undefined;
    const known = SYSTEM_SUBJECTS[subjectKey(s)];
    if (known) return known;
    if (s.kind === 'ServiceAccount' && s.namespace === 'kube-system' && CONTROLLER_SAS.has(s.name))
      return `kube-system controller ServiceAccount, bound by the bootstrap policy to the rights its controller needs`;
    return undefined;
  }

  return {
    can,
    subjects: () => subjectList,
    forServiceAccount: (namespace, name) => {
      const subject: RbacSubject = { kind: 'ServiceAccount', name, namespace };
      return { subject, capabilities: [...capabilityGrants(subject).keys()], grants: grantsOf(subject) };
    },
    capabilitiesOf: (subject) => {
      const key = subjectKey(subject);
      let names = capabilityNames.get(key);
      if (!names) capabilityNames.set(key, (names = [...capabilityGrants(subject).keys()]));
      return names;
    },
    capabilityGrants,
    bindingCapabilities,
    grantsOf,
    bindings: () => resolvedBindings,
    bindingOf: (o) => byObject.get(o),
    clusterRole,
    serviceAccountsIn: (ns) =>
      [...serviceAccounts.values()]
        .filter((s) => s.namespace === ns)
        .sort((a, b) => (a.name < b.name ? -1 : 1)),
    skipReason,
    problems: () => [...problems],
  };
}

/** "Role/ns/name" or "ClusterRole/name", marked when the role is built in or missing from the input. */
export function roleLabel(role: ResolvedRole): string {
  return `${role.kind}/${role.namespace ? `${role.namespace}/` : ''}${role.name}${role.origin === 'built-in' ? ' (built-in)' : role.origin === 'missing' ? ' (not in the input)' : ''}`;
}

export function bindingLabel(b: ResolvedBinding): string {
  return `${b.kind}/${b.namespace ? `${b.namespace}/` : ''}${b.name}`;
}

/** "RoleBinding/ns/b -> ClusterRole/r rule 2", plus aggregation and implicit membership when they apply. */
export function grantChain(
  b: ResolvedBinding,
  r: EffectiveRule,
  implicit?: string,
  boundAs?: RbacSubject,
): string {
  const bind = `${b.kind}/${b.namespace ? `${b.namespace}/` : ''}${b.name}`;
  const role = `${b.role.kind}/${b.role.namespace ? `${b.role.namespace}/` : ''}${b.role.name}`;
  const origin = b.role.origin === 'built-in' ? ' (built-in, not in the input)' : '';
  const agg = r.aggregatedFrom
    ? ` (aggregated from ClusterRole/${r.aggregatedFrom.role} rule ${r.aggregatedFrom.index})`
    : '';
  const via = implicit
    ? ` [as member of Group ${implicit}]`
    : boundAs?.kind === 'User' && boundAs.name.startsWith('system:serviceaccount:')
      ? ` [as User ${boundAs.name}]`
      : '';
  return `${bind} -> ${role}${origin} rule ${r.index}${agg}${via}`;
}

/**
 * A ServiceAccount's capabilities and the chains that grant them, in the shape the inventory publishes
 * (InventoryAnalyses.serviceAccount): `grantedBy` holds "<capability>: <chain>" entries, sorted.
 */
export function serviceAccountRights(
  ctx: AuditContext,
  namespace: string,
  name: string,
): { capabilities: string[]; grantedBy: string[] } {
  const grants = effectivePermissions(ctx).capabilityGrants({ kind: 'ServiceAccount', namespace, name });
  const grantedBy = new Set<string>();
  for (const [cap, list] of grants) for (const g of list) grantedBy.add(`${cap}: ${g.chain}`);
  return { capabilities: [...grants.keys()], grantedBy: [...grantedBy].sort() };
}
