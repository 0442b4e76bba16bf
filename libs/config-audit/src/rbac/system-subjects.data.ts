/**
 * Subjects a working cluster needs to hold broad rights, as the bootstrap policy grants them. Findings about them
 * cannot be fixed in RBAC without breaking the control plane, so the checks skip them, the way Kubescape's
 * exception list skips the control-plane identities. Two limits keep this from hiding anything:
 *  - a subject is skipped only on a binding the cluster created itself (labelled kubernetes.io/bootstrapping:
 *    rbac-defaults, or named system:...); the same subject on a user-created binding is reported;
 *  - a skipped subject still appears in the outcome's evidence ("skipped-subject"), so the passing result says why.
 * system:authenticated, system:unauthenticated, system:anonymous and system:serviceaccounts are deliberately not
 * here: rights given to everyone are always worth reporting, defaults included.
 */
export const SYSTEM_SUBJECTS: Readonly<Record<string, string>> = {
  'User system:kube-controller-manager':
    'runs the controllers; manages Secrets, tokens and pods of every namespace by design',
  'User system:kube-scheduler': 'binds pods to nodes and reads what scheduling needs',
  'User system:kube-proxy': 'programs node networking from Services and EndpointSlices',
  'User system:apiserver': 'the API server itself (loopback client)',
  'Group system:masters':
    'the API server allows this group everything before RBAC is consulted; a binding adds nothing and removing it removes nothing (control who holds system:masters certificates instead)',
  'Group system:nodes': 'kubelets, further limited by the Node authorizer and NodeRestriction admission',
  'Group system:bootstrappers': 'node bootstrap tokens, limited to creating CSRs',
  'Group system:monitoring': 'reads health and metrics endpoints',
};

/**
 * ServiceAccounts of kube-system that kube-controller-manager (with --use-service-account-credentials) and the
 * cloud controller manager run their controllers as, each bound by the bootstrap policy to its own
 * system:controller:<name> role.
 */
export const CONTROLLER_SERVICE_ACCOUNTS: readonly string[] = [
  'attachdetach-controller',
  'bootstrap-signer',
  'certificate-controller',
  'cloud-provider',
  'clusterrole-aggregation-controller',
  'cronjob-controller',
  'daemon-set-controller',
  'deployment-controller',
  'disruption-controller',
  'endpoint-controller',
  'endpointslice-controller',
  'endpointslicemirroring-controller',
  'ephemeral-volume-controller',
  'expand-controller',
  'generic-garbage-collector',
  'horizontal-pod-autoscaler',
  'job-controller',
  'kube-controller-manager',
  'kube-dns',
  'kube-scheduler',
  'legacy-service-account-token-cleaner',
  'namespace-controller',
  'node-controller',
  'persistent-volume-binder',
  'pod-garbage-collector',
  'pv-protection-controller',
  'pvc-protection-controller',
  'replicaset-controller',
  'replication-controller',
  'resourcequota-controller',
  'root-ca-cert-publisher',
  'route-controller',
  'service-account-controller',
  'service-controller',
  'statefulset-controller',
  'token-cleaner',
  'ttl-after-finished-controller',
  'ttl-controller',
  'validatingadmissionpolicy-status-controller',
];
