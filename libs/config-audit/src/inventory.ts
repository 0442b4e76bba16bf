import {
  ContainerSchema,
  InventoryItemSchema,
  NamespaceSchema,
  NetworkIsolation,
  PodSchema,
  ServiceAccountSchema,
  WorkloadSchema,
  create,
  type InventoryItem,
  type Pod,
  type ServiceExposure,
} from '@vigil/contracts';
import { type AuditContext } from './checks/check.model.js';
import {
  arr,
  kindOf,
  labelsOf,
  metadataOf,
  nameOf,
  namespaceOf,
  obj,
  str,
  type LoadedObject,
} from './model/k8s-object.js';
import { isWorkloadKind, type Workload } from './model/workload.js';

/** What the network and RBAC analyses add to the inventory; each is optional so the inventory never waits on them. */
export interface InventoryAnalyses {
  isolationOf?: (w: Workload) => { ingress: NetworkIsolation; egress: NetworkIsolation };
  serviceAccount?: (namespace: string, name: string) => { capabilities: string[]; grantedBy: string[] };
  exposures?: ServiceExposure[];
}

const workloadRef = (w: Workload) => `${w.kind}/${w.namespace}/${w.name}`;

/**
 * The inventory of an audit: namespaces with their labels and CDE scope, top-level workloads with their isolation,
 * containers with image reference, digest and pull secrets, the service accounts workloads run as with their
 * effective rights, and how workloads are exposed. The image scanner and the correlator build on it.
 */
export function buildInventory(ctx: AuditContext, analyses: InventoryAnalyses = {}): InventoryItem[] {
  const items: InventoryItem[] = [];
  const namespaces = new Map<string, LoadedObject | undefined>();
  for (const n of ctx.ofKind('Namespace')) namespaces.set(nameOf(n), n);
  for (const w of ctx.workloads) if (!namespaces.has(w.namespace)) namespaces.set(w.namespace, undefined);
  for (const [name, n] of [...namespaces].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    items.push(
      item('namespace', {
        ...create(NamespaceSchema, {
          name,
          uid: n ? (str(metadataOf(n)['uid']) ?? '') : '',
          labels: n ? labelsOf(n) : {},
          cde: ctx.isCdeNamespace(name),
        }),
      }),
    );
  }

  const topOf = ownerChainOf(ctx);
  const digests = runningImageDigests(ctx, topOf);
  const serviceAccounts = new Map<
    string,
    { namespace: string; name: string; workloads: string[]; automount: boolean }
  >();
  for (const sa of ctx.ofKind('ServiceAccount')) {
    serviceAccounts.set(`${namespaceOf(sa)}/${nameOf(sa)}`, {
      namespace: namespaceOf(sa),
      name: nameOf(sa),
      workloads: [],
      automount: sa.raw['automountServiceAccountToken'] !== false,
    });
  }
  const pullSecretsOfSa = new Map<string, string[]>();
  for (const sa of ctx.ofKind('ServiceAccount'))
    pullSecretsOfSa.set(`${namespaceOf(sa)}/${nameOf(sa)}`, secretNames(sa.raw['imagePullSecrets']));

  for (const w of ctx.workloads) {
    const saName = str(w.podSpec['serviceAccountName']) ?? str(w.podSpec['serviceAccount']) ?? 'default';
    const saKey = `${w.namespace}/${saName}`;
    // The kubelet uses the pod's pull secrets; the service account's are merged into the pod at admission.
    const pullSecrets = [
      ...new Set([...secretNames(w.podSpec['imagePullSecrets']), ...(pullSecretsOfSa.get(saKey) ?? [])]),
    ].sort();
    const isolation = analyses.isolationOf?.(w);
    const meta = metadataOf(w.object);
    items.push(
      item('workload', {
        ...create(WorkloadSchema, {
          namespace: w.namespace,
          kind: w.kind,
          name: w.name,
          uid: str(meta['uid']) ?? '',
          labels: labelsOf(w.object),
          serviceAccount: saName,
          replicas: replicasOf(w),
          hostNetwork: w.podSpec['hostNetwork'] === true,
          hostPid: w.podSpec['hostPID'] === true,
          cde: ctx.isCdeWorkload(w),
          ingress: isolation?.ingress ?? NetworkIsolation.UNSPECIFIED,
          egress: isolation?.egress ?? NetworkIsolation.UNSPECIFIED,
          imagePullSecrets: pullSecrets,
        }),
      }),
    );
    for (const c of w.containers) {
      const image = str(c.spec['image']) ?? '';
      const sc = obj(c.spec['securityContext']) ?? {};
      items.push(
        item('container', {
          ...create(ContainerSchema, {
            namespace: w.namespace,
            workloadKind: w.kind,
            workloadName: w.name,
            name: c.name,
            imageRef: image,
            imageDigest: digestOfRef(image) ?? digests.get(`${workloadRef(w)}#${c.name}`) ?? '',
            init: c.group === 'initContainers',
            privileged: sc['privileged'] === true,
            imagePullSecrets: pullSecrets,
          }),
        }),
      );
    }
    const sa = serviceAccounts.get(saKey) ?? {
      namespace: w.namespace,
      name: saName,
      workloads: [],
      automount: true,
    };
    sa.workloads.push(workloadRef(w));
    serviceAccounts.set(saKey, sa);
  }

  for (const sa of [...serviceAccounts.values()].sort((a, b) =>
    `${a.namespace}/${a.name}` < `${b.namespace}/${b.name}` ? -1 : 1,
  )) {
    const rights = analyses.serviceAccount?.(sa.namespace, sa.name) ?? { capabilities: [], grantedBy: [] };
    items.push(
      item('serviceAccount', {
        ...create(ServiceAccountSchema, {
          namespace: sa.namespace,
          name: sa.name,
          capabilities: rights.capabilities,
          grantedBy: rights.grantedBy,
          automountToken: sa.automount,
          workloads: sa.workloads.sort(),
        }),
      }),
    );
  }
  for (const e of analyses.exposures ?? []) items.push(item('serviceExposure', e));
  for (const pod of podPlacements(ctx, topOf)) items.push(item('pod', pod));
  return items;
}

function item<C extends NonNullable<InventoryItem['item']['case']>>(
  kind: C,
  value: Extract<InventoryItem['item'], { case: C }>['value'],
): InventoryItem {
  return create(InventoryItemSchema, { item: { case: kind, value } as InventoryItem['item'] });
}

function secretNames(list: unknown): string[] {
  return arr(list)
    .map((s) => str(obj(s)?.['name']))
    .filter((s): s is string => Boolean(s));
}

function replicasOf(w: Workload): number {
  const spec = obj(w.object.raw['spec']) ?? {};
  if (w.kind === 'Pod') return 1;
  const r = spec['replicas'];
  // Deployments, StatefulSets and ReplicaSets default to one replica; DaemonSets and Jobs have no count.
  if (typeof r === 'number' && Number.isInteger(r) && r >= 0) return r;
  return ['Deployment', 'StatefulSet', 'ReplicaSet', 'ReplicationController'].includes(w.kind) ? 1 : 0;
}

function digestOfRef(image: string): string | undefined {
  const m = /@(sha256:[a-f0-9]{64})$/.exec(image);
  return m?.[1];
}

type TopOf = (o: LoadedObject) => LoadedObject;

/**
 * Follows controller owner references up to the top-level workload (Pod → ReplicaSet → Deployment), by uid, else by
 * kind and name in the same namespace; stops at the first owner the read does not hold.
 */
function ownerChainOf(ctx: AuditContext): TopOf {
  const byUid = new Map<string, LoadedObject>();
  const byName = new Map<string, LoadedObject>();
  for (const o of ctx.objects) {
    if (!isWorkloadKind(kindOf(o))) continue;
    const uid = str(metadataOf(o)['uid']);
    if (uid) byUid.set(uid, o);
    byName.set(`${kindOf(o)}/${namespaceOf(o)}/${nameOf(o)}`, o);
  }
  return (o) => {
    let cur = o;
    // Bounded: a cycle of owner references (a broken cluster or a crafted dump) must not hang the audit.
    for (let depth = 0; depth < 8; depth++) {
      const ref = arr(metadataOf(cur)['ownerReferences'])
        .map((r) => obj(r) ?? {})
        .find((r) => r['controller'] !== false);
      if (!ref) break;
      const uid = str(ref['uid']);
      const owner =
        (uid ? byUid.get(uid) : undefined) ??
        byName.get(`${str(ref['kind'])}/${namespaceOf(cur)}/${str(ref['name'])}`);
      if (!owner) break;
      cur = owner;
    }
    return cur;
  };
}

/**
 * Where each pod of the read runs (spec.nodeName), attributed to its top-level workload: the correlator places a
 * workload on the nodes its pods are on. Manifests carry no pods with a node, so they yield none.
 */
function podPlacements(ctx: AuditContext, topOf: TopOf): Pod[] {
  const out: Pod[] = [];
  for (const pod of ctx.ofKind('Pod')) {
    const spec = obj(pod.raw['spec']) ?? {};
    const status = obj(pod.raw['status']) ?? {};
    const nodeName = str(spec['nodeName']) ?? '';
    const phase = str(status['phase']) ?? '';
    // A manifest's bare pod template is not a placement; a live pod always has a phase.
    if (!nodeName && !phase) continue;
    const top = topOf(pod);
    out.push(
      create(PodSchema, {
        namespace: namespaceOf(pod),
        name: nameOf(pod),
        uid: str(metadataOf(pod)['uid']) ?? '',
        workloadKind: kindOf(top),
        workloadName: nameOf(top),
        nodeName,
        phase,
      }),
    );
  }
  const keyOf = (p: Pod) => `${p.namespace}/${p.name}`;
  return out.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/**
 * Digests the kubelet resolved for running pods (status.containerStatuses[].imageID), attributed to the pod's
 * top-level workload through its owner chain: a Deployment's template names a tag, its pods know the digest.
 */
function runningImageDigests(ctx: AuditContext, topOf: TopOf): Map<string, string> {
  const out = new Map<string, string>();
  for (const pod of ctx.ofKind('Pod')) {
    const status = obj(pod.raw['status']) ?? {};
    const top = topOf(pod);
    const ref = `${kindOf(top)}/${namespaceOf(top)}/${nameOf(top)}`;
    for (const group of ['containerStatuses', 'initContainerStatuses', 'ephemeralContainerStatuses']) {
      for (const s of arr(status[group])) {
        const cs = obj(s) ?? {};
        const digest = /(sha256:[a-f0-9]{64})$/.exec(str(cs['imageID']) ?? '')?.[1];
        const name = str(cs['name']);
        if (digest && name && !out.has(`${ref}#${name}`)) out.set(`${ref}#${name}`, digest);
      }
    }
  }
  return out;
}
