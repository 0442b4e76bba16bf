import { Severity } from '@vigil/contracts';
import { kindOf, nameOf, namespaceOf, obj, type LoadedObject } from '../model/k8s-object.js';
import { ESCALATION_CAPABILITIES, splitCapability } from '../rbac/capabilities.js';
import {
  bindingLabel,
  effectivePermissions,
  grantChain,
  roleLabel,
  subjectKey,
  type EffectivePermissions,
  type EffectiveRule,
  type RbacSubject,
  type ResolvedBinding,
} from '../rbac/effective.js';
import { narrowRules, rulesAsJson } from '../rbac/narrow.js';
import { parseRules } from '../rbac/policy-rule.js';
import { type AuditContext, type CheckDefinition, type CheckOutcome } from './check.model.js';

type Evidence = [string, string][];

const scopeText = (scope: string) => (scope === '*' ? 'all namespaces (cluster-wide)' : `namespace ${scope}`);

/** The binding's subjects the checks look at, and the ones they skip with the reason. */
function splitSubjects(perms: EffectivePermissions, b: ResolvedBinding) {
  const counted: RbacSubject[] = [];
  const skipped: Evidence = [];
  for (const s of b.subjects) {
    const why = perms.skipReason(b, s);
    if (why) skipped.push(['skipped-subject', `${subjectKey(s)}: ${why}`]);
    else counted.push(s);
  }
  return { counted, skipped };
}

/**
 * The narrowed rules of the binding's role as a strategic-merge patch of the role (rules has no merge key, so the
 * list is replaced whole), or why none is proposed.
 */
function rolePatch(b: ResolvedBinding): { patch?: Record<string, unknown>; note?: string } {
  const role = b.role;
  if (role.origin !== 'input' || !role.object)
    return { note: `${roleLabel(role)} is not in the input; bind a narrower role instead` };
  if (role.aggregated)
    return {
      note: `${roleLabel(role)} is aggregated: the controller rewrites its rules, so remove the aggregation labels from the ClusterRoles that contribute the rule (${role.aggregates.join(', ') || 'none in the input'})`,
    };
  return { patch: { rules: rulesAsJson(narrowRules(parseRules(role.object.raw['rules']))) } };
}

interface BindingFinding {
  /** Capabilities (of the binding's role, where the binding applies) that make the outcome fail. */
  capabilities: Map<string, EffectiveRule[]>;
  /** Further evidence for the failure, e.g. the ServiceAccounts a pod creator can become. */
  extra?: Evidence;
}

/**
 * One outcome per binding: fails when the binding gives any of the selected capabilities to a subject that is
 * not skipped, with the full chain per subject, capability and rule in the evidence.
 */
function bindingOutcome(
  ctx: AuditContext,
  object: LoadedObject,
  what: { expected: string; verb: string },
  select: (perms: EffectivePermissions, b: ResolvedBinding, counted: RbacSubject[]) => BindingFinding,
): CheckOutcome {
  const perms = effectivePermissions(ctx);
  const b = perms.bindingOf(object)!;
  const { counted, skipped } = splitSubjects(perms, b);
  const found: BindingFinding = counted.length ? select(perms, b, counted) : { capabilities: new Map() };
  const caps = [...found.capabilities.keys()];
  const bad = caps.length > 0;
  const evidence: Evidence = [];
  if (bad)
    for (const s of counted)
      for (const [cap, rules] of found.capabilities)
        for (const r of rules)
          evidence.push(
            ['subject', subjectKey(s)],
            ['capability', cap],
            ['granted-by', grantChain(b, r)],
            ['scope', scopeText(b.scope)],
          );
  if (bad) evidence.push(...implicitMembers(perms, counted));
  evidence.push(...(found.extra ?? []), ...skipped);
  let patchNote: string | undefined;
  if (bad) {
    const p = rolePatch(b);
    if (p.patch) evidence.push(['role-patch', `${roleLabel(b.role)}: ${JSON.stringify(p.patch)}`]);
    patchNote = p.note;
    if (p.note) evidence.push(['role-patch', p.note]);
  }
  if (b.role.origin === 'missing')
    evidence.push(['role-missing', `${roleLabel(b.role)}: its rules are unknown`]);
  const who = counted.map(subjectKey).join(', ');
  return {
    pass: !bad,
    subject: object,
    field: 'roleRef',
    expected: what.expected,
    actual: bad
      ? `${caps.join(', ')} via ${roleLabel(b.role)}`
      : counted.length
        ? `no ${what.verb} via ${roleLabel(b.role)}`
        : b.subjects.length
          ? 'only skipped system subjects'
          : 'no subjects',
    message: bad
      ? `${who} ${counted.length > 1 ? 'get' : 'gets'} ${caps.join(', ')} through ${bindingLabel(b)} -> ${roleLabel(b.role)} in ${scopeText(b.scope)}${patchNote ? `; ${patchNote}` : ''}`
      : `no ${what.verb}`,
    cde: b.kind === 'ClusterRoleBinding' || ctx.isCdeNamespace(b.namespace),
    evidence,
  };
}

/** Who is in the implicit groups a binding names, as far as the input shows (its ServiceAccounts). */
function implicitMembers(perms: EffectivePermissions, subjects: RbacSubject[]): Evidence {
  const out: Evidence = [];
  for (const s of subjects) {
    if (s.kind !== 'Group') continue;
    const all = perms.subjects().filter((x) => x.kind === 'ServiceAccount');
    const members =
      s.name === 'system:serviceaccounts'
        ? all
        : s.name.startsWith('system:serviceaccounts:')
          ? all.filter((x) => x.namespace === s.name.slice('system:serviceaccounts:'.length))
          : undefined;
    if (s.name === 'system:authenticated')
      out.push(['members', `${subjectKey(s)}: every authenticated user and every ServiceAccount`]);
    else if (members)
      out.push([
        'members',
        `${subjectKey(s)}: ${members.map(subjectKey).join(', ') || 'no ServiceAccount in the input'}`,
      ]);
  }
  return out;
}

const bindingsOf = (ctx: AuditContext) => [...ctx.ofKind('RoleBinding'), ...ctx.ofKind('ClusterRoleBinding')];

const pick = (all: Map<string, EffectiveRule[]>, keep: (cap: string) => boolean) =>
  new Map([...all].filter(([cap]) => keep(cap)));

/** Whether holding `caps` already gives `cap` (the same right here or in every namespace, or cluster-admin). */
function covered(caps: Set<string>, cap: string): boolean {
  if (caps.has(cap) || caps.has('cluster-admin')) return true;
  const [name, scope] = splitCapability(cap);
  if (scope === undefined) return false;
  if (caps.has(`${name}:*`)) return true;
  if (name === 'read-secret') {
    const ns = scope.slice(0, scope.indexOf('/'));
    return caps.has('read-secrets:*') || caps.has(`read-secrets:${ns}`);
  }
  return false;
}

export const rbacWildcardCheck: CheckDefinition = {
  id: 'rbac/wildcard',
  version: 2,
  title: 'Role grants * on API groups, resources or verbs',
  severity: Severity.HIGH,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation:
    'List the API groups, resources and verbs the subjects actually use instead of *. The patch proposes read-only rules within what the built-in view role reads; widen it to what the workload needs.',
  concerns: (kind) => kind === 'Role' || kind === 'ClusterRole' || kind.endsWith('Binding'),
  run: (ctx) => {
    const perms = effectivePermissions(ctx);
    return [...ctx.ofKind('Role'), ...ctx.ofKind('ClusterRole')].map((role): CheckOutcome => {
      const rules = parseRules(role.raw['rules']);
      const hits: string[] = [];
      rules.forEach((r, i) => {
        for (const f of ['apiGroups', 'resources', 'verbs'] as const)
          if (r[f].includes('*')) hits.push(`rules[${i}].${f}`);
      });
      const users = perms.bindings().filter((b) => b.role.object === role);
      const aggregated = Boolean(obj(role.raw['aggregationRule']));
      return {
        pass: hits.length === 0,
        subject: role,
        detail: hits.map((h) => h.split('.').pop()).join(', '),
        field: hits[0] ?? 'rules',
        expected: 'no * in apiGroups, resources or verbs',
        actual: hits.length ? `* at ${hits.join(', ')}` : `${rules.length} rule(s) without *`,
        message: hits.length
          ? `${kindOf(role)} ${nameOf(role)} grants * (${hits.join(', ')}), including whatever resources and verbs are added to the cluster later${users.length ? `; bound by ${users.map(bindingLabel).join(', ')}` : '; not bound in the input'}`
          : 'no wildcard',
        cde:
          ctx.isCdeNamespace(namespaceOf(role)) ||
          users.some((b) => b.kind === 'ClusterRoleBinding' || ctx.isCdeNamespace(b.namespace)),
        evidence: [
          ...hits.map((h) => ['wildcard', h] as [string, string]),
          ...users.map((b) => ['bound-by', bindingLabel(b)] as [string, string]),
        ],
        ...(hits.length && !aggregated ? { patch: { rules: rulesAsJson(narrowRules(rules)) } } : {}),
      };
    });
  },
};

export const clusterAdminBindingCheck: CheckDefinition = {
  id: 'rbac/cluster-admin-binding',
  version: 2,
  title: 'Binding grants cluster-admin or an equivalent role',
  severity: Severity.CRITICAL,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation:
    'Bind a role limited to what the subjects need; keep cluster-admin for break-glass accounts. No patch: removing a binding is a decision about people and pipelines, not a field change.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  // cluster-admin by name (whatever the file says its rules are), or a ClusterRole whose effective rules include
  // * groups, * resources and * verbs. A namespaced Role with that rule is admin of its namespace only and can
  // never reach cluster-scoped objects: rbac/wildcard covers it.
  run: (ctx) =>
    bindingsOf(ctx).map((o) =>
      bindingOutcome(
        ctx,
        o,
        { expected: 'a role narrower than cluster-admin', verb: 'cluster-admin rights' },
        (perms, b) => {
          const caps = perms.bindingCapabilities(b);
          if (b.role.kind !== 'ClusterRole') return { capabilities: new Map() };
          const found = pick(caps, (c) => c === 'cluster-admin' || c.startsWith('namespace-admin:'));
          if (found.size === 0 && b.role.name === 'cluster-admin')
            found.set(
              b.scope === '*' ? 'cluster-admin' : `namespace-admin:${b.scope}`,
              b.role.rules.slice(0, 1),
            );
          return { capabilities: found };
        },
      ),
    ),
};

export const secretsAccessCheck: CheckDefinition = {
  id: 'rbac/secrets-access',
  version: 2,
  title: 'Binding grants read access to Secrets',
  severity: Severity.HIGH,
  cdeSeverity: Severity.CRITICAL,
  pci: { key: 'k8s.rbac_secrets_read', use: 'secondary' },
  cdePci: { key: 'k8s.rbac_secrets_read', use: 'all' },
  remediation:
    'Remove get/list/watch on secrets from the role (the evidence proposes the narrowed rules), or restrict get to the one Secret used with resourceNames.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  // get, list or watch on Secrets of any name: list and watch return the data as get does. A rule restricted by
  // resourceNames passes (least privilege done right); the named Secrets are listed in the passing evidence.
  run: (ctx) =>
    bindingsOf(ctx).map((o) => {
      const outcome = bindingOutcome(
        ctx,
        o,
        { expected: 'no get, list or watch on Secrets of any name', verb: 'read access to Secrets' },
        (perms, b) => ({
          capabilities: pick(perms.bindingCapabilities(b), (c) => c.startsWith('read-secrets:')),
        }),
      );
      if (outcome.pass) {
        const perms = effectivePermissions(ctx);
        const named = [...perms.bindingCapabilities(perms.bindingOf(o)!).keys()].filter((c) =>
          c.startsWith('read-secret:'),
        );
        if (named.length) {
          outcome.actual = `named Secrets only: ${named.join(', ')}`;
          outcome.evidence = [
            ...(outcome.evidence ?? []),
            ...named.map((c) => ['named-secret', c] as [string, string]),
          ];
        }
      }
      return outcome;
    }),
};

export const podsExecCheck: CheckDefinition = {
  id: 'rbac/pods-exec',
  version: 1,
  title: 'Binding lets subjects run commands in pods (exec, attach, ephemeral containers)',
  severity: Severity.MEDIUM,
  cdeSeverity: Severity.HIGH,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'secondary' },
  cdePci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation:
    'Remove pods/exec, pods/attach and pods/ephemeralcontainers from the role; give interactive access through a break-glass role bound for the time it is needed, and audit-log it.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  // create on pods/exec or pods/attach, or get on them (the websocket upgrade is a GET), or update/patch on
  // pods/ephemeralcontainers (a debug container in the pod's namespaces).
  run: (ctx) =>
    bindingsOf(ctx).map((o) =>
      bindingOutcome(
        ctx,
        o,
        { expected: 'no exec, attach or ephemeral containers in pods', verb: 'exec into pods' },
        (perms, b) => ({
          capabilities: pick(perms.bindingCapabilities(b), (c) => c.startsWith('exec-pods:')),
        }),
      ),
    ),
};

export const escalateBindImpersonateCheck: CheckDefinition = {
  id: 'rbac/escalate-bind-impersonate',
  version: 1,
  title: 'Binding lets subjects gain rights they were not given',
  severity: Severity.HIGH,
  cdeSeverity: Severity.CRITICAL,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'secondary' },
  cdePci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation:
    'Remove escalate, bind and impersonate, create on serviceaccounts/token, writes to RBAC objects, nodes/proxy, CSR approval and webhook configuration writes from the role; run workloads that need more rights than their deployers under ServiceAccounts in a namespace the deployers cannot create pods in.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role') || kind === 'ServiceAccount',
  // Escalation paths: escalate/bind on roles, impersonation, minting ServiceAccount tokens, writing RBAC objects,
  // the kubelet API through nodes/proxy, approving CSRs, admission webhooks; and starting pods where a
  // ServiceAccount holds a right the subject lacks (the pod runs as that ServiceAccount).
  run: (ctx) =>
    bindingsOf(ctx).map((o) =>
      bindingOutcome(
        ctx,
        o,
        { expected: 'no way to gain rights beyond the role', verb: 'escalation path' },
        (perms, b, counted) => {
          const all = perms.bindingCapabilities(b);
          const found = pick(all, (c) => ESCALATION_CAPABILITIES.has(splitCapability(c)[0]));
          const extra: Evidence = [];
          for (const [cap, rules] of all) {
            const [name, scope] = splitCapability(cap);
            if (name !== 'create-pods' || scope === undefined) continue;
            for (const subject of counted) {
              const reach = reachableAccounts(perms, subject, scope);
              if (reach.count === 0) continue;
              found.set(cap, rules);
              // A cluster-wide pod creator reaches every service account: name a few, count the rest.
              for (const line of reach.shown) extra.push(['reachable-service-account', line]);
              if (reach.count > reach.shown.length)
                extra.push([
                  'reachable-service-account',
                  `${subjectKey(subject)} -> ${reach.count - reach.shown.length} more service account(s) with rights it lacks`,
                ]);
            }
          }
          return { capabilities: found, extra };
        },
      ),
    ),
};

const REACHABLE_SHOWN = 10;

// The same subject creates pods in the same scope through many bindings: work out once which service accounts
// (and so which rights) that reaches.
const reachCache = new WeakMap<EffectivePermissions, Map<string, { count: number; shown: string[] }>>();
// The service accounts of a scope grouped by what they hold, in their order: thousands of accounts share a few
// sets of rights (most hold none), so a subject is compared with each set once.
const accountSets = new WeakMap<EffectivePermissions, Map<string, AccountSet[]>>();
interface AccountSet {
  caps: string[];
  accounts: RbacSubject[];
}

function accountSetsIn(perms: EffectivePermissions, scope: string): AccountSet[] {
  let byScope = accountSets.get(perms);
  if (!byScope) accountSets.set(perms, (byScope = new Map()));
  const hit = byScope.get(scope);
  if (hit) return hit;
  const sas =
    scope === '*'
      ? perms.subjects().filter((s) => s.kind === 'ServiceAccount')
      : perms.serviceAccountsIn(scope);
  const sets = new Map<string, AccountSet>();
  for (const sa of sas) {
    const caps = perms.capabilitiesOf(sa);
    if (caps.length === 0) continue;
    const signature = caps.join('\n');
    let set = sets.get(signature);
    if (!set) sets.set(signature, (set = { caps, accounts: [] }));
    set.accounts.push(sa);
  }
  const list = [...sets.values()];
  byScope.set(scope, list);
  return list;
}

function reachableAccounts(
  perms: EffectivePermissions,
  subject: RbacSubject,
  scope: string,
): { count: number; shown: string[] } {
  let cache = reachCache.get(perms);
  if (!cache) reachCache.set(perms, (cache = new Map()));
  const key = `${subjectKey(subject)}\n${scope}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const held = new Set(perms.capabilitiesOf(subject));
  const self = subject.kind === 'ServiceAccount' ? subjectKey(subject) : undefined;
  const result = { count: 0, shown: [] as string[] };
  for (const set of accountSetsIn(perms, scope)) {
    const more = set.caps.filter((c) => !covered(held, c));
    if (more.length === 0) continue;
    for (const sa of set.accounts) {
      if (self !== undefined && subjectKey(sa) === self) continue;
      if (++result.count <= REACHABLE_SHOWN)
        result.shown.push(`${subjectKey(subject)} -> ${subjectKey(sa)}: ${more.join(', ')}`);
    }
  }
  cache.set(key, result);
  return result;
}

export const anonymousBindingCheck: CheckDefinition = {
  id: 'rbac/anonymous-binding',
  version: 2,
  title: 'Binding grants rights to anonymous or unauthenticated users',
  severity: Severity.CRITICAL,
  pci: { key: 'k8s.rbac_anonymous', use: 'all' },
  remediation: 'Remove system:anonymous and system:unauthenticated from the binding subjects.',
  concerns: (kind) => kind.endsWith('Binding'),
  run: (ctx) => {
    const perms = effectivePermissions(ctx);
    return bindingsOf(ctx).map((o) => {
      const b = perms.bindingOf(o)!;
      const anon = b.subjects.filter(
        (s) =>
          (s.kind === 'User' && s.name === 'system:anonymous') ||
          (s.kind === 'Group' && (s.name === 'system:unauthenticated' || s.name === 'system:anonymous')),
      );
      const caps = [...perms.bindingCapabilities(b).keys()];
      return {
        pass: anon.length === 0,
        subject: o,
        field: 'subjects',
        expected: 'no system:anonymous or system:unauthenticated subject',
        actual: anon.length
          ? anon.map(subjectKey).join(', ')
          : `${b.subjects.length} authenticated subject(s)`,
        message: anon.length
          ? `${anon.map(subjectKey).join(', ')} via ${bindingLabel(b)} -> ${roleLabel(b.role)}: anyone who can reach the API server gets these rights without credentials${caps.length ? ` (${caps.join(', ')})` : ''}`
          : 'no anonymous subject',
        cde: true,
        evidence: anon.flatMap((s) => [
          ['subject', subjectKey(s)] as [string, string],
          ...b.role.rules.map((r) => ['granted-by', grantChain(b, r)] as [string, string]),
          ['scope', scopeText(b.scope)] as [string, string],
        ]),
      };
    });
  },
};

const EVERYONE = new Set(['system:authenticated', 'system:serviceaccounts']);

/** Rules written "<resource>/*": the API server matches them literally (they grant nothing), tools and people read them as every subresource. */
function literalSubresourceWildcards(b: ResolvedBinding): string[] {
  const sensitive = ['pods/*', 'nodes/*', 'serviceaccounts/*', '*/*'];
  return b.role.rules.flatMap((r) =>
    r.rule.resources.filter((x) => sensitive.includes(x)).map((x) => `${x} (rule ${r.index})`),
  );
}

export const authenticatedGroupCheck: CheckDefinition = {
  id: 'rbac/authenticated-group',
  version: 2,
  title: 'Every authenticated user gets sensitive rights',
  severity: Severity.HIGH,
  pci: { key: 'k8s.rbac_wildcard_or_cluster_admin', use: 'all' },
  remediation:
    'Bind the role to the groups or service accounts that need it instead of system:authenticated or system:serviceaccounts.',
  concerns: (kind) => kind.endsWith('Binding') || kind.endsWith('Role'),
  // Any capability given to every identity (system:authenticated, or every pod through system:serviceaccounts)
  // fails. So does a rule written pods/* or nodes/*: the API server grants nothing for it today, but it is
  // written to give everyone pods/exec and nodes/proxy, and Kubescape, KubiScan and rbac-police all read it so.
  run: (ctx) => {
    const perms = effectivePermissions(ctx);
    return bindingsOf(ctx)
      .map((o) => perms.bindingOf(o)!)
      .filter((b) => b.subjects.some((s) => s.kind === 'Group' && EVERYONE.has(s.name)))
      .map((b): CheckOutcome => {
        const caps = perms.bindingCapabilities(b);
        const literal = literalSubresourceWildcards(b);
        const bad = caps.size > 0 || literal.length > 0;
        const groups = b.subjects.filter((s) => s.kind === 'Group' && EVERYONE.has(s.name)).map(subjectKey);
        const rights = [
          ...caps.keys(),
          ...(literal.length ? [`subresource patterns written as wildcards: ${literal.join(', ')}`] : []),
        ];
        return {
          pass: !bad,
          subject: b.object,
          field: 'subjects',
          expected: 'system:authenticated and system:serviceaccounts bound to non-sensitive rights only',
          actual: bad ? rights.join('; ') : 'no sensitive right',
          message: bad
            ? `${groups.join(', ')} via ${bindingLabel(b)} -> ${roleLabel(b.role)} gives every authenticated identity (any service account of any pod) ${rights.join('; ')}`
            : 'no sensitive right',
          cde: true,
          evidence: [
            ...groups.map((g) => ['subject', g] as [string, string]),
            ...[...caps].flatMap(([cap, rules]) =>
              rules.map((r) => ['granted-by', `${cap}: ${grantChain(b, r)}`] as [string, string]),
            ),
            ...literal.map((l) => ['literal-subresource-pattern', l] as [string, string]),
            ['scope', scopeText(b.scope)],
          ],
        };
      });
  },
};

export const RBAC_CHECKS: readonly CheckDefinition[] = [
  rbacWildcardCheck,
  clusterAdminBindingCheck,
  secretsAccessCheck,
  anonymousBindingCheck,
  authenticatedGroupCheck,
  podsExecCheck,
  escalateBindImpersonateCheck,
];
