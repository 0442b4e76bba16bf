// Corpus expectations vigil deliberately does not follow, each with the standard or fact it follows instead.
// The corpus runner reports these separately and does not count them against the quality gate.
export interface KnownDisagreement {
  /** `<family>/<case>#<item>.<field>` exactly as the runner names a comparison. */
  key: string;
  reason: string;
}

const EXEC_TARGET_POD =
  "Falco's k8s_audit alert has no k8s.pod.name, so the corpus lists k8s_pod null; vigil attributes an Attach/Exec Pod detection to the target pod in ka.target.name, because that is the workload the shell runs in and the asset the finding belongs to.";

export const KNOWN_DISAGREEMENTS: readonly KnownDisagreement[] = [
  { key: 'falco-alerts/k8s-audit-source-alerts#line4.k8s_pod', reason: EXEC_TARGET_POD },
  { key: 'falco-alerts/k8s-audit-source-alerts#line6.k8s_pod', reason: EXEC_TARGET_POD },
];
