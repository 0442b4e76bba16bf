import { type CheckDefinition } from './check.model.js';
import { CLUSTER_CHECKS } from './cluster.checks.js';
import { NETWORK_CHECKS } from './network.checks.js';
import { RBAC_CHECKS } from './rbac.checks.js';
import { WORKLOAD_CHECKS } from './workload.checks.js';

/** Every check the auditor runs, in report order. Ids are stable: dashboards, exceptions and findings key on them. */
export const CHECKS: readonly CheckDefinition[] = [
  ...WORKLOAD_CHECKS,
  ...RBAC_CHECKS,
  ...NETWORK_CHECKS,
  ...CLUSTER_CHECKS,
];

export function checkById(id: string): CheckDefinition | undefined {
  return CHECKS.find((c) => c.id === id);
}
