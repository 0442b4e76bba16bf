import { type AuditContext, type AuditOptions } from './checks/check.model.js';
import { kindOf, labelsOf, nameOf, type LoadedObject } from './model/k8s-object.js';
import { isWorkloadKind, topLevelWorkloads, toWorkload, type Workload } from './model/workload.js';

/** What every check reads: the objects by kind, the top-level workloads and the CDE scope. */
export function buildContext(objects: LoadedObject[], options: AuditOptions): AuditContext {
  const byKind = new Map<string, LoadedObject[]>();
  for (const o of objects) {
    const k = kindOf(o);
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k)!.push(o);
  }
  const workloads = topLevelWorkloads(
    objects
      .filter((o) => isWorkloadKind(kindOf(o)))
      .map((o) => toWorkload(o))
      .filter((w): w is Workload => Boolean(w)),
  );
  const { key, value } = options.cdeLabel;
  const cdeNamespaces = new Set(
    (byKind.get('Namespace') ?? []).filter((n) => labelsOf(n)[key] === value).map((n) => nameOf(n)),
  );
  return {
    options,
    objects,
    workloads,
    ofKind: (kind) => byKind.get(kind) ?? [],
    isCdeNamespace: (ns) => cdeNamespaces.has(ns),
    isCdeWorkload: (w) => cdeNamespaces.has(w.namespace) || w.podLabels[key] === value,
  };
}

/** A context with the audit's defaults, for analyses that run without the checks (explain, tests). */
export function defaultContext(
  objects: LoadedObject[],
  cdeLabel: { key: string; value: string } = { key: 'pci-scope', value: 'cde' },
): AuditContext {
  return buildContext(objects, { cluster: 'local', cdeLabel, requireCpuLimit: true });
}
