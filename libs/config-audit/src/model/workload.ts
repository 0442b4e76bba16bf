import {
  arr,
  kindOf,
  labelsOf,
  metadataOf,
  nameOf,
  namespaceOf,
  obj,
  str,
  stringMap,
  type Json,
  type LoadedObject,
} from './k8s-object.js';

export type ContainerGroup = 'containers' | 'initContainers' | 'ephemeralContainers';

export interface ContainerView {
  /** The container's name, or "#<index>" for an unnamed one (position in its list). */
  name: string;
  named: boolean;
  group: ContainerGroup;
  spec: Json;
  /** Resource path of the container, e.g. "spec.template.spec.containers[name=api]". */
  path: string;
}

/** A pod-producing object reduced to its pod template: the one shape every workload check reads. */
export interface Workload {
  object: LoadedObject;
  kind: string;
  namespace: string;
  name: string;
  /** Path segments from the object to its pod spec, e.g. ["spec", "template", "spec"]. */
  podSpecPath: string[];
  podSpec: Json;
  podMetadata: Json;
  podLabels: Record<string, string>;
  containers: ContainerView[];
}

// Where each kind keeps its pod spec.
const POD_SPEC_PATHS: Record<string, string[]> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  ReplicationController: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  DeploymentConfig: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

export function isWorkloadKind(kind: string): boolean {
  return kind in POD_SPEC_PATHS;
}

/**
 * A workload's pod spec or container list of the wrong type (`containers: "x"`), which the API server's decoding
 * refuses: audited as it was, it came out clean (no container, so no container check could fail). Fields left out
 * are not refused: snippets without names or containers are linted as the peer tools lint them.
 */
export function podSpecProblem(kind: string, raw: Json): string | undefined {
  const path = POD_SPEC_PATHS[kind];
  if (!path) return undefined;
  let node: unknown = raw;
  for (let i = 0; i < path.length; i++) {
    const next = obj(node);
    if (!next) return `${path.slice(0, i).join('.')} is not a mapping`;
    node = next[path[i]!];
    if (node === undefined || node === null) return undefined;
  }
  const at = path.join('.');
  const podSpec = obj(node);
  if (!podSpec) return `${at} is not a mapping`;
  for (const field of ['containers', 'initContainers', 'ephemeralContainers']) {
    const list = podSpec[field];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) return `${at}.${field} is not a list`;
    for (let i = 0; i < list.length; i++) if (!obj(list[i])) return `${at}.${field}[${i}] is not a mapping`;
  }
  return undefined;
}

/** Normalizes one object into a Workload, or undefined when it has no pod template. */
export function toWorkload(o: LoadedObject): Workload | undefined {
  const kind = kindOf(o);
  const path = POD_SPEC_PATHS[kind];
  if (!path) return undefined;
  let node: unknown = o.raw;
  for (const seg of path) node = obj(node)?.[seg];
  const podSpec = obj(node) ?? {};
  // The pod's own metadata (labels NetworkPolicies select on): the object's for a Pod, the template's otherwise.
  let podMetadata: Json;
  if (kind === 'Pod') podMetadata = metadataOf(o);
  else {
    let t: unknown = o.raw;
    for (const seg of path.slice(0, -1)) t = obj(t)?.[seg];
    podMetadata = obj(obj(t)?.['metadata']) ?? {};
  }
  const prefix = path.join('.');
  const containers: ContainerView[] = [];
  for (const group of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    arr(podSpec[group]).forEach((c, index) => {
      const spec = obj(c) ?? {};
      const name = str(spec['name']);
      const label = name || `#${index}`;
      containers.push({
        name: label,
        named: Boolean(name),
        group,
        spec,
        path: name ? `${prefix}.${group}[name=${name}]` : `${prefix}.${group}[${index}]`,
      });
    });
  }
  return {
    object: o,
    kind,
    namespace: namespaceOf(o),
    name: nameOf(o),
    podSpecPath: path,
    podSpec,
    podMetadata,
    podLabels: kind === 'Pod' ? labelsOf(o) : stringMap(podMetadata['labels']),
    containers,
  };
}

/**
 * Drops objects whose controller is also in the input (a Pod of a ReplicaSet of a Deployment is the Deployment's
 * problem, reported once there). Matches the owner by uid when both sides have one, else by kind and name in the
 * same namespace. An owner that is not in the input cannot report for its pods, so those pods stay.
 */
export function topLevelWorkloads(workloads: Workload[]): Workload[] {
  const byUid = new Map<string, Workload>();
  const byName = new Map<string, Workload>();
  for (const w of workloads) {
    const uid = str(metadataOf(w.object)['uid']);
    if (uid) byUid.set(uid, w);
    byName.set(`${w.kind}/${w.namespace}/${w.name}`, w);
  }
  const ownedByInput = (w: Workload): boolean =>
    arr(metadataOf(w.object)['ownerReferences']).some((ref) => {
      const r = obj(ref);
      if (!r || r['controller'] === false) return false;
      const uid = str(r['uid']);
      if (uid && byUid.has(uid)) return true;
      return byName.has(`${str(r['kind'])}/${w.namespace}/${str(r['name'])}`);
    });
  return workloads.filter((w) => !ownedByInput(w));
}

/** A container's securityContext value, falling back to the pod's for the fields Kubernetes inherits. */
export interface EffectiveSecurity {
  runAsNonRoot: { value: boolean | undefined; from: 'container' | 'pod' | 'unset' };
  runAsUser: { value: number | undefined; from: 'container' | 'pod' | 'unset' };
  runAsGroup: { value: number | undefined; from: 'container' | 'pod' | 'unset' };
  seccomp: { value: string | undefined; from: 'container' | 'pod' | 'annotation' | 'unset' };
}

export function effectiveSecurity(w: Workload, c: ContainerView): EffectiveSecurity {
  const pod = obj(w.podSpec['securityContext']) ?? {};
  const ctr = obj(c.spec['securityContext']) ?? {};
  function pick<T>(field: string, is: (v: unknown) => v is T) {
    if (is(ctr[field])) return { value: ctr[field] as T, from: 'container' as const };
    if (is(pod[field])) return { value: pod[field] as T, from: 'pod' as const };
    return { value: undefined, from: 'unset' as const };
  }
  const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
  const isNum = (v: unknown): v is number => typeof v === 'number';
  const ctrSeccomp = str(obj(ctr['seccompProfile'])?.['type']);
  const podSeccomp = str(obj(pod['seccompProfile'])?.['type']);
  // The pre-1.19 annotations still work on older clusters and in many charts.
  const ann = stringMap(w.podMetadata['annotations']);
  const annValue =
    ann[`container.seccomp.security.alpha.kubernetes.io/${c.name}`] ??
    ann['seccomp.security.alpha.kubernetes.io/pod'];
  const seccomp = ctrSeccomp
    ? { value: ctrSeccomp, from: 'container' as const }
    : podSeccomp
      ? { value: podSeccomp, from: 'pod' as const }
      : annValue
        ? {
            value:
              annValue === 'unconfined'
                ? 'Unconfined'
                : annValue === 'runtime/default' || annValue === 'docker/default'
                  ? 'RuntimeDefault'
                  : 'Localhost',
            from: 'annotation' as const,
          }
        : { value: undefined, from: 'unset' as const };
  return {
    runAsNonRoot: pick('runAsNonRoot', isBool),
    runAsUser: pick('runAsUser', isNum),
    runAsGroup: pick('runAsGroup', isNum),
    seccomp,
  };
}
