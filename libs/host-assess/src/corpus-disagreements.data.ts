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
 * Catalogue sections this engine does not implement: the CIS control-plane, etcd, control-plane-config and
 * policies sections (1.x, 2.x, 3.x, 5.x) are answered by the config auditor and the control-plane components,
 * not by a worker-node assessor. The case runner counts and lists them as not implemented.
 */
export const OUT_OF_SCOPE_PREFIXES = [
  'CIS-K8S-1.12 1.',
  'CIS-K8S-1.12 2.',
  'CIS-K8S-1.12 3.',
  'CIS-K8S-1.12 5.',
];
