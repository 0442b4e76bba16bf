import { type PolicyRule } from './policy-rule.js';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({
  apiGroups,
  resources,
  verbs,
  resourceNames: [],
  nonResourceURLs: [],
});

// What the kube-apiserver's bootstrap policy aggregates into view, edit and admin today (the
// system:aggregate-to-{view,edit,admin} roles), written out once so a cluster whose dump or manifests omit the
// defaults is still analysed. CRDs usually add to these through the aggregation labels; those additions are only
// known when the input holds the contributing ClusterRoles.
const VIEW: PolicyRule[] = [
  rule(
    [''],
    [
      'pods',
      'pods/log',
      'pods/status',
      'configmaps',
      'endpoints',
      'persistentvolumeclaims',
      'persistentvolumeclaims/status',
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'replicationcontrollers/status',
      'serviceaccounts',
      'services',
      'services/status',
      'bindings',
      'events',
      'limitranges',
      'namespaces',
      'namespaces/status',
      'resourcequotas',
      'resourcequotas/status',
    ],
    READ,
  ),
  rule(['discovery.k8s.io'], ['endpointslices'], READ),
  rule(
    ['apps'],
    [
      'controllerrevisions',
      'daemonsets',
      'daemonsets/status',
      'deployments',
      'deployments/scale',
      'deployments/status',
      'replicasets',
      'replicasets/scale',
      'replicasets/status',
      'statefulsets',
      'statefulsets/scale',
      'statefulsets/status',
    ],
    READ,
  ),
  rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], READ),
  rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], READ),
  rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], READ),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], READ),
];

const EDIT_ONLY: PolicyRule[] = [
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['pods', 'pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward'], WRITE),
  rule([''], ['pods/eviction'], ['create']),
  rule(
    [''],
    [
      'replicationcontrollers',
      'replicationcontrollers/scale',
      'serviceaccounts',
      'services',
      'services/proxy',
      'persistentvolumeclaims',
      'configmaps',
      'secrets',
      'events',
    ],
    WRITE,
  ),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(
    ['apps'],
    [
      'daemonsets',
      'deployments',
      'deployments/rollback',
      'deployments/scale',
      'replicasets',
      'replicasets/scale',
      'statefulsets',
      'statefulsets/scale',
    ],
    WRITE,
  ),
  rule(['autoscaling'], ['horizontalpodautoscalers'], WRITE),
  rule(['batch'], ['cronjobs', 'jobs'], WRITE),
  rule(['policy'], ['poddisruptionbudgets'], WRITE),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], WRITE),
  // edit may read what it may write that view may not: the attach/exec/proxy subresources and Secrets.
  rule(
    [''],
    ['pods/attach', 'pods/proxy', 'pods/exec', 'pods/portforward', 'secrets', 'services/proxy'],
    READ,
  ),
];

const ADMIN_ONLY: PolicyRule[] = [
  rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']),
  rule(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], [...READ, ...WRITE]),
];

/**
 * Built-in ClusterRoles that exist in every cluster and so are usually not in the input. Used only when the input
 * does not hold a ClusterRole of that name; the analysis says so on every grant that comes from here.
 */
export const BUILTIN_CLUSTER_ROLES: Readonly<Record<string, readonly PolicyRule[]>> = {
  'cluster-admin': [
    rule(['*'], ['*'], ['*']),
    { apiGroups: [], resources: [], verbs: ['*'], resourceNames: [], nonResourceURLs: ['*'] },
  ],
  admin: [...ADMIN_ONLY, ...EDIT_ONLY, ...VIEW],
  edit: [...EDIT_ONLY, ...VIEW],
  view: VIEW,
};

/** The read-only resources of the built-in view role per API group: what a narrowed wildcard rule falls back to. */
export const VIEW_RESOURCES_BY_GROUP: Readonly<Record<string, readonly string[]>> = Object.fromEntries(
  VIEW.map((r) => [r.apiGroups[0]!, r.resources]),
);
