import { type HostCheck } from './check.model.js';
import { CONTAINER_RUNTIME_CHECKS } from './checks/container-runtime.checks.js';
import { CONTROL_PLANE_CHECKS } from './checks/control-plane.checks.js';
import { KUBERNETES_CHECKS } from './checks/kubernetes.checks.js';
import { OS_CHECKS } from './checks/os.checks.js';
import { SSHD_CHECKS } from './checks/sshd.checks.js';

/**
 * Every host check, in report order: the CIS Kubernetes Benchmark 1.12 control-plane and etcd checks (sections 1
 * and 2, not applicable where those components do not run), the worker-node checks (section 4), the container runtime (containerd), then vigil's Linux
 * host checks (ssh, password policy, sysctl, time, audit) with the ids of the host check catalogue.
 */
export const HOST_CHECKS: readonly HostCheck[] = [
  ...CONTROL_PLANE_CHECKS,
  ...KUBERNETES_CHECKS,
  ...CONTAINER_RUNTIME_CHECKS,
  ...SSHD_CHECKS,
  ...OS_CHECKS,
];

const seen = new Set<string>();
for (const c of HOST_CHECKS) {
  if (seen.has(c.id)) throw new Error(`host-assess registry: duplicate check id ${c.id}`);
  seen.add(c.id);
}

export function hostCheck(id: string): HostCheck | undefined {
  return HOST_CHECKS.find((c) => c.id === id);
}
