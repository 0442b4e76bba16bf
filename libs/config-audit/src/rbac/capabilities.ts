import { type PolicyRule, type ResourceRequest, ruleAllows } from './policy-rule.js';

/**
 * Capabilities: what a subject can do that matters for an assessment, as plain strings for the inventory.
 * `<scope>` is a namespace, or `*` when the right holds in every namespace (a ClusterRoleBinding).
 *
 *   cluster-admin                every verb on every resource of every group, cluster-wide
 *   namespace-admin:<ns>         the same, inside one namespace (a RoleBinding to such a role)
 *   read-secrets:<scope>         get, list or watch on Secrets of any name (list and watch return the data too)
 *   read-secret:<scope>/<name>   get/list/watch on Secrets restricted by resourceNames to that name
 *   exec-pods:<scope>            run commands in pods: create or get (websocket) on pods/exec or pods/attach, or
 *                                update/patch on pods/ephemeralcontainers (add a debug container)
 *   create-pods:<scope>          start pods, so run as any ServiceAccount of the namespace: create pods, or
 *                                create/update/patch a pod-template owner (Deployment, ReplicaSet, StatefulSet,
 *                                DaemonSet, Job, CronJob, ReplicationController)
 *   create-tokens:<scope>        create on serviceaccounts/token: mint a token for a ServiceAccount
 *   impersonate-serviceaccounts:<scope>  impersonate on serviceaccounts
 *   impersonate                  impersonate on users, groups or uids (cluster-scoped; only a ClusterRoleBinding
 *                                grants it)
 *   escalate:<scope>             escalate on roles (or clusterroles, cluster-wide): write rules one does not hold
 *   bind:<scope>                 bind on roles or clusterroles: bind roles one does not hold
 *   modify-rbac:<scope>          create/update/patch on roles and rolebindings (clusterroles and
 *                                clusterrolebindings with scope *)
 *   nodes-proxy                  get or create on nodes/proxy: the kubelet API, which runs commands in any pod of
 *                                the node and is not subject to admission
 *   approve-csr                  update on certificatesigningrequests/approval together with approve on signers:
 *                                issue client certificates, e.g. for system:masters
 *   modify-admission-webhooks    create/update/patch on mutating/validating webhook configurations: see or change
 *                                every object written to the API, Secrets included
 */
export const CAPABILITY_NAMES = [
  'cluster-admin',
  'namespace-admin',
  'read-secrets',
  'read-secret',
  'exec-pods',
  'create-pods',
  'create-tokens',
  'impersonate-serviceaccounts',
  'impersonate',
  'escalate',
  'bind',
  'modify-rbac',
  'nodes-proxy',
  'approve-csr',
  'modify-admission-webhooks',
] as const;

/** The capabilities that let a subject gain rights it was not given (the escalate-bind-impersonate check). */
export const ESCALATION_CAPABILITIES = new Set([
  'cluster-admin',
  'namespace-admin',
  'create-tokens',
  'impersonate-serviceaccounts',
  'impersonate',
  'escalate',
  'bind',
  'modify-rbac',
  'nodes-proxy',
  'approve-csr',
  'modify-admission-webhooks',
]);

// Two halves of CSR approval that may come from different rules; joined by finalizeCapabilities.
const CSR_APPROVAL = '#csr-approval';
const CSR_SIGNER = '#csr-signer';

const POD_TEMPLATE_OWNERS: [string, string][] = [
  ['apps', 'deployments'],
  ['apps', 'replicasets'],
  ['apps', 'statefulsets'],
  ['apps', 'daemonsets'],
  ['batch', 'jobs'],
  ['batch', 'cronjobs'],
  ['', 'replicationcontrollers'],
];

const RBAC = 'rbac.authorization.k8s.io';

/**
 * The capabilities one rule gives where it applies (`scope`: a namespace, or "*" for a ClusterRoleBinding).
 * A RoleBinding never reaches cluster-scoped resources, so those capabilities come only with scope "*".
 * resourceNames never narrow a create of a new object (the request has no name yet), so a named rule gives no
 * create-pods or modify-rbac; they do narrow exec, tokens, impersonation and binding to the named objects, which
 * still counts.
 */
export function capabilitiesOfRule(rule: PolicyRule, scope: string): string[] {
  if (rule.nonResourceURLs.length > 0 && rule.resources.length === 0) return [];
  const cluster = scope === '*';
  const named = rule.resourceNames.length > 0;
  // Any name the rule allows stands for "some object"; a rule without names allows every name.
  const probeName = named ? rule.resourceNames[0] : 'any';
  const allows = (verbs: string[], group: string, resource: string, subresource?: string, nameless = false) =>
    !(nameless && named) &&
    verbs.some((verb) => {
      const req: ResourceRequest = { verb, group, resource, name: nameless ? undefined : probeName };
      if (subresource !== undefined) req.subresource = subresource;
      return ruleAllows(rule, req);
    });
  const out: string[] = [];
  if (!named && rule.verbs.includes('*') && rule.apiGroups.includes('*') && rule.resources.includes('*'))
    out.push(cluster ? 'cluster-admin' : `namespace-admin:${scope}`);
  if (allows(['get', 'list', 'watch'], '', 'secrets')) {
    if (named) out.push(...rule.resourceNames.map((n) => `read-secret:${scope}/${n}`));
    else out.push(`read-secrets:${scope}`);
  }
  if (
    allows(['create', 'get'], '', 'pods', 'exec') ||
    allows(['create', 'get'], '', 'pods', 'attach') ||
    allows(['update', 'patch'], '', 'pods', 'ephemeralcontainers')
  )
    out.push(`exec-pods:${scope}`);
  if (
    allows(['create'], '', 'pods', undefined, true) ||
    POD_TEMPLATE_OWNERS.some(
      ([g, r]) => allows(['create'], g, r, undefined, true) || allows(['update', 'patch'], g, r),
    )
  )
    out.push(`create-pods:${scope}`);
  if (allows(['create'], '', 'serviceaccounts', 'token')) out.push(`create-tokens:${scope}`);
  if (allows(['impersonate'], '', 'serviceaccounts')) out.push(`impersonate-serviceaccounts:${scope}`);
  if (
    cluster &&
    (allows(['impersonate'], '', 'users') ||
      allows(['impersonate'], '', 'groups') ||
      allows(['impersonate'], 'authentication.k8s.io', 'uids'))
  )
    out.push('impersonate');
  if (allows(['escalate'], RBAC, 'roles') || (cluster && allows(['escalate'], RBAC, 'clusterroles')))
    out.push(`escalate:${scope}`);
  // A RoleBinding that references a ClusterRole is checked for bind on clusterroles in its own namespace.
  if (allows(['bind'], RBAC, 'roles') || allows(['bind'], RBAC, 'clusterroles')) out.push(`bind:${scope}`);
  const rbacWrite = (resource: string) =>
    allows(['create'], RBAC, resource, undefined, true) || allows(['update', 'patch'], RBAC, resource);
  if (
    rbacWrite('roles') ||
    rbacWrite('rolebindings') ||
    (cluster && (rbacWrite('clusterroles') || rbacWrite('clusterrolebindings')))
  )
    out.push(`modify-rbac:${scope}`);
  if (cluster && allows(['get', 'create'], '', 'nodes', 'proxy')) out.push('nodes-proxy');
  if (cluster && allows(['update', 'patch'], 'certificates.k8s.io', 'certificatesigningrequests', 'approval'))
    out.push(CSR_APPROVAL);
  if (cluster && allows(['approve'], 'certificates.k8s.io', 'signers')) out.push(CSR_SIGNER);
  if (
    cluster &&
    ['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'].some(
      (r) =>
        allows(['create'], 'admissionregistration.k8s.io', r, undefined, true) ||
        allows(['update', 'patch'], 'admissionregistration.k8s.io', r),
    )
  )
    out.push('modify-admission-webhooks');
  return out;
}

/**
 * Joins per-rule capabilities into a subject's or binding's: both halves of CSR approval make approve-csr, and a
 * namespaced capability is dropped when the same one holds in every namespace (read-secret:<ns>/<name> also when
 * the namespace's Secrets are all readable). Keeps each capability's sources, merged.
 */
export function finalizeCapabilities<T>(raw: Map<string, T[]>): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const [cap, sources] of raw) if (!cap.startsWith('#')) out.set(cap, sources);
  if (raw.has(CSR_APPROVAL) && raw.has(CSR_SIGNER))
    out.set('approve-csr', [...new Set([...raw.get(CSR_APPROVAL)!, ...raw.get(CSR_SIGNER)!])]);
  for (const cap of [...out.keys()]) {
    const [name, scoped] = splitCapability(cap);
    if (scoped === undefined || scoped === '*') continue;
    if (name === 'read-secret') {
      const [ns, secret] = [scoped.slice(0, scoped.indexOf('/')), scoped.slice(scoped.indexOf('/') + 1)];
      if (
        out.has('read-secrets:*') ||
        out.has(`read-secrets:${ns}`) ||
        (ns !== '*' && out.has(`read-secret:*/${secret}`))
      )
        out.delete(cap);
    } else if (out.has(`${name}:*`) || (name === 'namespace-admin' && out.has('cluster-admin')))
      out.delete(cap);
  }
  return new Map([...out.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** "read-secrets:payments" → ["read-secrets", "payments"]; "impersonate" → ["impersonate", undefined]. */
export function splitCapability(cap: string): [string, string | undefined] {
  const i = cap.indexOf(':');
  return i < 0 ? [cap, undefined] : [cap.slice(0, i), cap.slice(i + 1)];
}
