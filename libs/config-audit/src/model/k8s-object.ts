/** Where an object was read from, so every error and finding can point back at the input. */
export interface SourcePosition {
  file: string;
  document: number;
  line: number | undefined;
  /** Index in a List's items, when the object came from one. */
  item: number | undefined;
}

export interface LoadedObject {
  raw: Record<string, unknown>;
  source: SourcePosition;
}

export type Json = Record<string, unknown>;

// Kinds without a namespace; the corpus writes them Kind//name even when a file gives them one.
const CLUSTER_SCOPED = new Set([
  'Namespace',
  'Node',
  'ClusterRole',
  'ClusterRoleBinding',
  'PersistentVolume',
  'StorageClass',
  'CustomResourceDefinition',
  'PriorityClass',
  'MutatingWebhookConfiguration',
  'ValidatingWebhookConfiguration',
  'APIService',
  'IngressClass',
  'PodSecurityPolicy',
  'RuntimeClass',
  'CSIDriver',
  'VolumeAttachment',
  'ComponentStatus',
]);

// The group/versions each audited kind has been served under; anything else is a typo or a kind of another group.
const API_VERSIONS: Record<string, readonly string[]> = {
  Pod: ['v1'],
  Service: ['v1'],
  ServiceAccount: ['v1'],
  Namespace: ['v1'],
  ConfigMap: ['v1'],
  Secret: ['v1'],
  ReplicationController: ['v1'],
  Deployment: ['apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1'],
  DaemonSet: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
  StatefulSet: ['apps/v1', 'apps/v1beta1', 'apps/v1beta2'],
  ReplicaSet: ['apps/v1', 'apps/v1beta2', 'extensions/v1beta1'],
  Job: ['batch/v1'],
  CronJob: ['batch/v1', 'batch/v1beta1', 'batch/v2alpha1'],
  DeploymentConfig: ['apps.openshift.io/v1', 'v1'],
  Role: ['rbac.authorization.k8s.io/v1', 'rbac.authorization.k8s.io/v1beta1'],
  ClusterRole: ['rbac.authorization.k8s.io/v1', 'rbac.authorization.k8s.io/v1beta1'],
  RoleBinding: ['rbac.authorization.k8s.io/v1', 'rbac.authorization.k8s.io/v1beta1'],
  ClusterRoleBinding: ['rbac.authorization.k8s.io/v1', 'rbac.authorization.k8s.io/v1beta1'],
  NetworkPolicy: ['networking.k8s.io/v1', 'extensions/v1beta1'],
  Ingress: ['networking.k8s.io/v1', 'networking.k8s.io/v1beta1', 'extensions/v1beta1'],
};

/** Why an audited kind's apiVersion is wrong, or undefined when it is fine or the kind is not one we audit. */
export function apiVersionProblem(kind: string, apiVersion: string): string | undefined {
  const known = API_VERSIONS[kind];
  if (!known || known.includes(apiVersion)) return undefined;
  return `apiVersion ${apiVersion} does not serve ${kind} (expected ${known.join(' or ')})`;
}

/** A kind the checks audit as an API object (component configuration files are not among them). */
export function isAuditedKind(kind: string): boolean {
  return Object.prototype.hasOwnProperty.call(API_VERSIONS, kind);
}

export function isClusterScoped(kind: string): boolean {
  return CLUSTER_SCOPED.has(kind);
}

export function obj(value: unknown): Json | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Json) : undefined;
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function kindOf(o: LoadedObject): string {
  return String(o.raw['kind']);
}

export function metadataOf(o: LoadedObject): Json {
  return obj(o.raw['metadata']) ?? {};
}

export function nameOf(o: LoadedObject): string {
  return str(metadataOf(o)['name']) ?? '';
}

/**
 * Component configuration files (KubeletConfiguration, EncryptionConfiguration, an audit Policy, ...) and scanner
 * host records are read from disk, never stored in the API, so they have no namespace.
 */
export function isConfigFile(o: LoadedObject): boolean {
  const apiVersion = str(o.raw['apiVersion']) ?? '';
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return group.endsWith('.config.k8s.io') || group === 'audit.k8s.io' || group === 'hostdata.kubescape.cloud';
}

/** The namespace as Kubernetes resolves it: "" for cluster-scoped kinds, "default" when a namespaced object omits it. */
export function namespaceOf(o: LoadedObject): string {
  if (isClusterScoped(kindOf(o)) || isConfigFile(o)) return '';
  return str(metadataOf(o)['namespace']) || 'default';
}

export function labelsOf(o: LoadedObject): Record<string, string> {
  return stringMap(metadataOf(o)['labels']);
}

export function stringMap(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(value) ?? {}))
    if (v !== null && v !== undefined) out[k] = String(v);
  return out;
}

/** "Kind/namespace/name", the identity the corpus and the reports use. */
export function resourceKey(o: LoadedObject): string {
  return `${kindOf(o)}/${namespaceOf(o)}/${nameOf(o)}`;
}
