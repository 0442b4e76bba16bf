import { type HostCheck } from './check.model.js';
import { KUBERNETES_CHECKS } from './checks/kubernetes.checks.js';
import { OS_CHECKS } from './checks/os.checks.js';
import { SSHD_CHECKS } from './checks/sshd.checks.js';

/**
 * Every host check, in report order: the CIS Kubernetes Benchmark 1.12 worker-node checks (section 4), then vigil's
 * Linux host checks (ssh, password policy, sysctl, time, audit) with the ids of the host check catalogue.
 */
export const HOST_CHECKS: readonly HostCheck[] = [...KUBERNETES_CHECKS, ...SSHD_CHECKS, ...OS_CHECKS];

const seen = new Set<string>();
for (const c of HOST_CHECKS) {
  if (seen.has(c.id)) throw new Error(`host-assess registry: duplicate check id ${c.id}`);
  seen.add(c.id);
}

export function hostCheck(id: string): HostCheck | undefined {
  return HOST_CHECKS.find((c) => c.id === id);
}
