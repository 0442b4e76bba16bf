/** The kinds the checks read from a live cluster, and where the API server serves each. */
export type LiveKind =
  | 'Namespace'
  | 'Node'
  | 'Pod'
  | 'Deployment'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'ReplicaSet'
  | 'Job'
  | 'CronJob'
  | 'ReplicationController'
  | 'Service'
  | 'Ingress'
  | 'NetworkPolicy'
  | 'ServiceAccount'
  | 'ConfigMap'
  | 'Role'
  | 'ClusterRole'
  | 'RoleBinding'
  | 'ClusterRoleBinding';

export interface LiveKindInfo {
  kind: LiveKind;
  /** API group, "" for the core group. */
  group: string;
  /** Versions in order of preference; the first one the server serves is read. */
  versions: readonly string[];
  /** The resource name in URLs and RBAC rules. */
  resource: string;
  namespaced: boolean;
}

// Older versions stay listed so a cluster that predates the GA version is still read (CronJob batch/v1 is 1.21+,
// Ingress networking.k8s.io/v1 is 1.19+); every version here is one API_VERSIONS in the model accepts.
export const LIVE_KINDS: readonly LiveKindInfo[] = [
  { kind: 'Namespace', group: '', versions: ['v1'], resource: 'namespaces', namespaced: false },
  { kind: 'Node', group: '', versions: ['v1'], resource: 'nodes', namespaced: false },
  { kind: 'Pod', group: '', versions: ['v1'], resource: 'pods', namespaced: true },
  {
    kind: 'ReplicationController',
    group: '',
    versions: ['v1'],
    resource: 'replicationcontrollers',
    namespaced: true,
  },
  { kind: 'Service', group: '', versions: ['v1'], resource: 'services', namespaced: true },
  { kind: 'ServiceAccount', group: '', versions: ['v1'], resource: 'serviceaccounts', namespaced: true },
  { kind: 'ConfigMap', group: '', versions: ['v1'], resource: 'configmaps', namespaced: true },
  { kind: 'Deployment', group: 'apps', versions: ['v1'], resource: 'deployments', namespaced: true },
  { kind: 'StatefulSet', group: 'apps', versions: ['v1'], resource: 'statefulsets', namespaced: true },
  { kind: 'DaemonSet', group: 'apps', versions: ['v1'], resource: 'daemonsets', namespaced: true },
  { kind: 'ReplicaSet', group: 'apps', versions: ['v1'], resource: 'replicasets', namespaced: true },
  { kind: 'Job', group: 'batch', versions: ['v1'], resource: 'jobs', namespaced: true },
  { kind: 'CronJob', group: 'batch', versions: ['v1', 'v1beta1'], resource: 'cronjobs', namespaced: true },
  {
    kind: 'Ingress',
    group: 'networking.k8s.io',
    versions: ['v1', 'v1beta1'],
    resource: 'ingresses',
    namespaced: true,
  },
  {
    kind: 'NetworkPolicy',
    group: 'networking.k8s.io',
    versions: ['v1'],
    resource: 'networkpolicies',
    namespaced: true,
  },
  { kind: 'Role', group: 'rbac.authorization.k8s.io', versions: ['v1'], resource: 'roles', namespaced: true },
  {
    kind: 'ClusterRole',
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    resource: 'clusterroles',
    namespaced: false,
  },
  {
    kind: 'RoleBinding',
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    resource: 'rolebindings',
    namespaced: true,
  },
  {
    kind: 'ClusterRoleBinding',
    group: 'rbac.authorization.k8s.io',
    versions: ['v1'],
    resource: 'clusterrolebindings',
    namespaced: false,
  },
];

/** The kinds asked for, in the table's order; an unknown name is a caller mistake and throws naming it. */
export function selectKinds(kinds: readonly string[] | undefined): LiveKindInfo[] {
  if (!kinds) return [...LIVE_KINDS];
  const known = new Map(LIVE_KINDS.map((k) => [k.kind as string, k]));
  const unknown = kinds.filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new Error(
      `unknown kind(s) ${unknown.join(', ')} for a live read (known: ${LIVE_KINDS.map((k) => k.kind).join(', ')})`,
    );
  }
  return LIVE_KINDS.filter((k) => kinds.includes(k.kind));
}

/** "/api/v1" or "/apis/<group>/<version>". */
export function groupVersionPath(group: string, version: string): string {
  return group ? `/apis/${group}/${version}` : `/api/${version}`;
}

export function apiVersionString(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}
