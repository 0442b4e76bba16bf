/**
 * Corpus topic (../shared/corpus/k8s/cases/README.md) → the check that decides it. `null` marks a topic no check
 * covers yet, with the reason; the case runner reports those cases as uncovered instead of dropping them.
 */
export const TOPIC_TO_CHECK: Record<string, string | { uncovered: string }> = {
  privileged: 'k8s/privileged',
  'host-namespaces': 'k8s/host-namespaces',
  'host-path-mount': 'k8s/host-path-mount',
  'run-as-root': 'k8s/run-as-root',
  'privilege-escalation': 'k8s/privilege-escalation',
  'added-capabilities': 'k8s/added-capabilities',
  'no-readonly-rootfs': 'k8s/no-readonly-rootfs',
  'no-seccomp': 'k8s/no-seccomp',
  'secrets-in-env': 'k8s/secrets-in-env',
  'automount-sa-token': 'k8s/automount-sa-token',
  'latest-or-untagged-image': 'k8s/latest-or-untagged-image',
  'no-resource-limits': 'k8s/no-resource-limits',
  'default-namespace': 'k8s/default-namespace',
  'rbac-wildcard': 'rbac/wildcard',
  'rbac-cluster-admin-binding': 'rbac/cluster-admin-binding',
  'rbac-secrets-access': 'rbac/secrets-access',
  'rbac-anonymous-binding': 'rbac/anonymous-binding',
  'no-ingress-networkpolicy': 'net/no-ingress-networkpolicy',
  'no-egress-networkpolicy': 'net/no-egress-networkpolicy',
  'permissive-networkpolicy': 'net/permissive-networkpolicy',
  'service-exposed': 'net/service-exposed',
  'ingress-no-tls': 'net/ingress-no-tls',
  'other:secret-ref-in-env': { uncovered: 'no check yet (planned k8s/secret-ref-in-env)' },
  'other:capabilities-not-dropped': { uncovered: 'no check yet (planned k8s/capabilities-not-dropped)' },
  'other:container-runtime-socket': 'k8s/container-runtime-socket',
  'other:host-port': 'k8s/host-port',
  'other:image-not-pinned-by-digest': { uncovered: 'no check yet (planned k8s/image-not-pinned)' },
  'other:networkpolicy-selects-no-pods': 'net/policy-selects-no-pods',
  'other:rbac-authenticated-group-sensitive': 'rbac/authenticated-group',
  'other:workload-exposed-externally': { uncovered: 'no check yet; net/service-exposed reports the Service' },
};

/** Checks whose `detail` is part of the corpus assertion (README: the limit kind for no-resource-limits). */
export const DETAIL_ASSERTED_TOPICS = new Set(['no-resource-limits']);
