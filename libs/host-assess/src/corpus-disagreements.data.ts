/**
 * Corpus cases (../shared/corpus/host/fixtures/<case>/expected.json) where this assessor deliberately reaches a
 * different verdict, because the case disagrees with the standard it claims to follow. Each entry is scored as a
 * disagreement by the case runner and listed with its reason; none is silently skipped.
 */
export interface KnownDisagreement {
  fixture: string;
  /** The expected.json id: a Linux check id, or "CIS-K8S-1.12 <n>". */
  check: string;
  expected: string;
  ours: string;
  reason: string;
}

export const KNOWN_DISAGREEMENTS: KnownDisagreement[] = [];

/**
 * Catalogue sections this engine does not implement: the CIS control-plane configuration (3.x: authentication and
 * audit policy documents) and policies (5.x: RBAC, pod security, network policies) sections are answered by the
 * config auditor from the cluster's API objects, not from a node's files. The case runner counts and lists them as
 * not implemented. 1.2.20 (--request-timeout) is a manual review with nothing on the node to inspect.
 */
export const OUT_OF_SCOPE_PREFIXES = ['CIS-K8S-1.12 3.', 'CIS-K8S-1.12 5.'];
