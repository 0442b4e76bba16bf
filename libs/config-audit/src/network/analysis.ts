import { type AuditContext } from '../checks/check.model.js';
import {
  arr,
  labelsOf,
  nameOf,
  namespaceOf,
  obj,
  str,
  stringMap,
  type Json,
  type LoadedObject,
} from '../model/k8s-object.js';
import { type Workload } from '../model/workload.js';
import { cidrContains, isEveryAddress, parseCidr } from './cidr.js';
import { compileSelector, LabelIndex, renderSelector, selectsEverything } from './selector.js';

export type Direction = 'ingress' | 'egress';

/** Pods chosen by label: podSelector, namespaceSelector, or both in one peer (both must match: AND). */
export interface SelectorPeer {
  type: 'selector';
  /** Rendered namespaceSelector; absent when the peer has none and so means the policy's own namespace. */
  namespaceSelector?: string;
  /** Rendered podSelector; absent when the peer has none (every pod of the chosen namespaces). */
  podSelector?: string;
  /** namespaceSelector: {} — every namespace, including ones created later. */
  allNamespaces: boolean;
  /** No podSelector or an empty one — every pod of the chosen namespaces. */
  allPods: boolean;
  /** Namespaces of the input that the peer matches. */
  namespaces: string[];
  /** Workloads of the input that the peer matches, as Kind/namespace/name. */
  workloads: string[];
}

/** Addresses by CIDR. Kubernetes means these for cluster-external addresses; pod IPs are not mapped onto them. */
export interface IpBlockPeer {
  type: 'ipBlock';
  cidr: string;
  except: string[];
  /** 0.0.0.0/0 or ::/0 — the except list still leaves the rest of the internet. */
  everyAddress: boolean;
}

export type Peer = SelectorPeer | IpBlockPeer;

export interface PortView {
  protocol: string;
  /** A number, or a container port name resolved at the destination pod. Absent: every port of the protocol. */
  port?: number | string;
  endPort?: number;
  /** For a named port: the number it resolves to at each destination workload that has a port of that name. */
  resolved?: { workload: string; port: number }[];
}

export interface AllowedRule {
  /** The NetworkPolicy's name (it is in the pod's namespace). */
  policy: string;
  rule: number;
  field: string;
  /** "any": the rule has no from/to (or an empty one), so every source or destination, in or out of the cluster. */
  peers: 'any' | Peer[];
  /** "all": the rule has no ports (or an empty list). */
  ports: 'all' | PortView[];
  raw: Json;
}

export interface DirectionView {
  /** Whether NetworkPolicy enforces this direction for the pod (some policy selecting it has the policy type). */
  isolated: boolean;
  /** NetworkPolicies selecting the pod that enforce this direction. */
  policies: string[];
  allowed: AllowedRule[];
  class: 'isolated' | 'restricted' | 'open';
  /** Why the class is open, e.g. "no NetworkPolicy enforces egress" or "allow-all spec.egress[0]". */
  openBecause: string[];
}

export interface WorkloadNetwork {
  workload: Workload;
  key: string;
  hostNetwork: boolean;
  /** Every NetworkPolicy selecting the pod, whatever it enforces. */
  selectedBy: string[];
  ingress: DirectionView;
  egress: DirectionView;
}

export interface PolicyView {
  object: LoadedObject;
  name: string;
  namespace: string;
  enforces: { ingress: boolean; egress: boolean };
  selected: Workload[];
  rules: { ingress: AllowedRule[]; egress: AllowedRule[] };
  /** Parts of the policy that are invalid (the API server would reject them) and were left out. */
  problems: string[];
}

export interface NetworkAnalysis {
  workloads: WorkloadNetwork[];
  of(w: Workload): WorkloadNetwork;
  byKey: ReadonlyMap<string, WorkloadNetwork>;
  policies: PolicyView[];
  /** Namespace labels as the API server sees them: the Namespace objects' plus kubernetes.io/metadata.name. */
  namespaceLabels: ReadonlyMap<string, Record<string, string>>;
  /** The workloads a selector peer matched (for reachability questions), by peer. */
  members(peer: SelectorPeer): ReadonlySet<Workload>;
  workloadsIn(namespace: string): readonly Workload[];
}

export const workloadKey = (w: Workload): string => `${w.kind}/${w.namespace}/${w.name}`;

/** Which directions a NetworkPolicy enforces, per its policyTypes or, when absent, the Kubernetes defaults. */
export function enforcedDirections(policy: LoadedObject): { ingress: boolean; egress: boolean } {
  const spec = obj(policy.raw['spec']) ?? {};
  const types = spec['policyTypes'];
  if (Array.isArray(types)) return { ingress: types.includes('Ingress'), egress: types.includes('Egress') };
  return { ingress: true, egress: spec['egress'] !== undefined };
}

/** The ports a pod's containers declare, by name, for named-port resolution. */
const portCache = new WeakMap<Workload, Map<string, { port: number; protocol: string }>>();
function namedPorts(w: Workload): Map<string, { port: number; protocol: string }> {
  const cached = portCache.get(w);
  if (cached) return cached;
  const out = new Map<string, { port: number; protocol: string }>();
  for (const c of w.containers) {
    if (c.group === 'ephemeralContainers') continue; // ephemeral containers may not declare ports
    for (const p of arr(c.spec['ports'])) {
      const port = obj(p) ?? {};
      const name = str(port['name']);
      const n = port['containerPort'];
      if (name && typeof n === 'number' && !out.has(name))
        out.set(name, { port: n, protocol: str(port['protocol']) ?? 'TCP' });
    }
  }
  portCache.set(w, out);
  return out;
}

const analyses = new WeakMap<AuditContext, NetworkAnalysis>();

/**
 * The effective NetworkPolicy view of every workload: per direction whether it is isolated, by which policies,
 * and the union of the rules that allow traffic (policies are additive allow-lists). Computed once per context.
 *
 * Cost: policies are matched against a per-namespace label index, and each rule's peers are resolved once per
 * policy, then shared by every pod the policy selects; only rules with named ingress ports are copied per pod.
 */
export function analyzeNetwork(ctx: AuditContext): NetworkAnalysis {
  const cached = analyses.get(ctx);
  if (cached) return cached;
  const result = analyze(ctx);
  analyses.set(ctx, result);
  return result;
}

function analyze(ctx: AuditContext): NetworkAnalysis {
  const byNamespace = new Map<string, LabelIndex<Workload>>();
  const indexOf = (ns: string): LabelIndex<Workload> => {
    let idx = byNamespace.get(ns);
    if (!idx) byNamespace.set(ns, (idx = new LabelIndex<Workload>()));
    return idx;
  };
  for (const w of ctx.workloads) indexOf(w.namespace).add(w, w.podLabels);

  const namespaceLabels = new Map<string, Record<string, string>>();
  const policies = ctx.ofKind('NetworkPolicy');
  for (const n of ctx.ofKind('Namespace'))
    namespaceLabels.set(nameOf(n), { ...labelsOf(n), 'kubernetes.io/metadata.name': nameOf(n) });
  // A namespace that only appears in objects' metadata still exists on the cluster with its automatic label.
  for (const ns of [...byNamespace.keys(), ...policies.map(namespaceOf)])
    if (!namespaceLabels.has(ns)) namespaceLabels.set(ns, { 'kubernetes.io/metadata.name': ns });

  const members = new WeakMap<SelectorPeer, Set<Workload>>();
  const labelsOfWorkload = (w: Workload) => w.podLabels;
  const namespaceCache = new Map<string, string[]>();
  const matchNamespaces = (selector: unknown): string[] => {
    const key = JSON.stringify(selector ?? {});
    let hit = namespaceCache.get(key);
    if (!hit) {
      const matches = compileSelector(selector);
      hit = [...namespaceLabels].filter(([, labels]) => matches(labels)).map(([n]) => n);
      namespaceCache.set(key, hit);
    }
    return hit;
  };

  function parsePeer(raw: unknown, ns: string, problems: string[], where: string): Peer | undefined {
    const p = obj(raw);
    if (!p) {
      problems.push(`${where}: not an object`);
      return undefined;
    }
    const ip = obj(p['ipBlock']);
    const nsSel = p['namespaceSelector'];
    const podSel = p['podSelector'];
    if (ip) {
      if (nsSel !== undefined || podSel !== undefined) {
        problems.push(`${where}: ipBlock cannot be combined with selectors`);
        return undefined;
      }
      const cidr = str(ip['cidr']) ?? '';
      const parsed = parseCidr(cidr);
      if (!parsed) {
        problems.push(`${where}: ipBlock.cidr "${cidr}" is not a CIDR`);
        return undefined;
      }
      const except = arr(ip['except']).map(String);
      // The API server refuses an except that is not a CIDR inside the block.
      for (const [i, e] of except.entries()) {
        const inner = parseCidr(e);
        if (!inner) problems.push(`${where}: ipBlock.except[${i}] "${e}" is not a CIDR`);
        else if (!cidrContains(parsed, inner))
          problems.push(`${where}: ipBlock.except[${i}] ${e} is not inside ${cidr}`);
      }
      return { type: 'ipBlock', cidr, except, everyAddress: isEveryAddress(parsed) };
    }
    if (nsSel === undefined && podSel === undefined) {
      problems.push(`${where}: a peer needs podSelector, namespaceSelector or ipBlock`);
      return undefined;
    }
    const namespaces = nsSel === undefined ? (namespaceLabels.has(ns) ? [ns] : []) : matchNamespaces(nsSel);
    // Traffic of a hostNetwork pod leaves with the node's address, so pod selectors never match it as a peer.
    const matched = namespaces.flatMap((n) =>
      (byNamespace.get(n)?.select(podSel, labelsOfWorkload) ?? []).filter(
        (w) => w.podSpec['hostNetwork'] !== true,
      ),
    );
    const peer: SelectorPeer = {
      type: 'selector',
      ...(nsSel !== undefined ? { namespaceSelector: renderSelector(nsSel) } : {}),
      ...(podSel !== undefined ? { podSelector: renderSelector(podSel) } : {}),
      allNamespaces: nsSel !== undefined && selectsEverything(nsSel),
      allPods: podSel === undefined || selectsEverything(podSel),
      namespaces,
      workloads: matched.map(workloadKey),
    };
    members.set(peer, new Set(matched));
    return peer;
  }

  function parsePorts(raw: unknown, problems: string[], where: string): 'all' | PortView[] {
    const list = arr(raw);
    if (list.length === 0) return 'all';
    const out: PortView[] = [];
    list.forEach((x, i) => {
      const p = obj(x) ?? {};
      const protocol = str(p['protocol']) ?? 'TCP';
      const port = p['port'];
      const endPort = typeof p['endPort'] === 'number' ? p['endPort'] : undefined;
      if (port === undefined) out.push({ protocol });
      else if (typeof port === 'number') out.push({ protocol, port, ...(endPort ? { endPort } : {}) });
      else if (typeof port === 'string' && /^\d+$/.test(port)) out.push({ protocol, port: Number(port) });
      else if (typeof port === 'string') {
        if (endPort) problems.push(`${where}.ports[${i}]: endPort needs a numeric port`);
        out.push({ protocol, port });
      } else problems.push(`${where}.ports[${i}]: port must be a number or a name`);
    });
    return out;
  }

  const policyViews: PolicyView[] = policies.map((p) => {
    const ns = namespaceOf(p);
    const spec = obj(p.raw['spec']) ?? {};
    const problems: string[] = [];
    const enforces = enforcedDirections(p);
    const selected = byNamespace.get(ns)?.select(spec['podSelector'], labelsOfWorkload) ?? [];
    const rulesOf = (dir: Direction): AllowedRule[] => {
      if (!enforces[dir]) return []; // rules of a direction the policy does not enforce have no effect
      const peersField = dir === 'ingress' ? 'from' : 'to';
      return arr(spec[dir]).map((r, i): AllowedRule => {
        const rule = obj(r) ?? {};
        const field = `spec.${dir}[${i}]`;
        const rawPeers = arr(rule[peersField]);
        const peers =
          rawPeers.length === 0
            ? ('any' as const)
            : rawPeers
                .map((x, j) => parsePeer(x, ns, problems, `${field}.${peersField}[${j}]`))
                .filter((x): x is Peer => Boolean(x));
        return {
          policy: nameOf(p),
          rule: i,
          field,
          peers,
          ports: parsePorts(rule['ports'], problems, field),
          raw: rule,
        };
      });
    };
    const rules = { ingress: rulesOf('ingress'), egress: rulesOf('egress') };
    // Egress named ports resolve at the destination: the pods the rule's peers matched.
    for (const rule of rules.egress) {
      if (rule.ports === 'all' || rule.peers === 'any') continue;
      const destinations = rule.peers.flatMap((peer) =>
        peer.type === 'selector' ? [...members.get(peer)!] : [],
      );
      rule.ports = rule.ports.map((port) =>
        typeof port.port === 'string' ? { ...port, resolved: resolveNamed(port, destinations) } : port,
      );
    }
    return { object: p, name: nameOf(p), namespace: ns, enforces, selected, rules, problems };
  });

  const views = new Map<Workload, WorkloadNetwork>();
  const byKey = new Map<string, WorkloadNetwork>();
  const pending = new Map<Workload, { ingress: PolicyView[]; egress: PolicyView[]; any: PolicyView[] }>();
  for (const pv of policyViews)
    for (const w of pv.selected) {
      let e = pending.get(w);
      if (!e) pending.set(w, (e = { ingress: [], egress: [], any: [] }));
      e.any.push(pv);
      if (pv.enforces.ingress) e.ingress.push(pv);
      if (pv.enforces.egress) e.egress.push(pv);
    }
  for (const w of ctx.workloads) {
    const e = pending.get(w) ?? { ingress: [], egress: [], any: [] };
    const hostNetwork = w.podSpec['hostNetwork'] === true;
    const direction = (dir: Direction): DirectionView => {
      const enforcing = e[dir];
      let allowed = enforcing.flatMap((pv) => pv.rules[dir]);
      if (
        dir === 'ingress' &&
        allowed.some((r) => r.ports !== 'all' && r.ports.some((x) => typeof x.port === 'string'))
      )
        allowed = allowed.map((r) =>
          r.ports !== 'all' && r.ports.some((x) => typeof x.port === 'string')
            ? {
                ...r,
                ports: r.ports.map((x) =>
                  typeof x.port === 'string' ? { ...x, resolved: resolveNamed(x, [w]) } : x,
                ),
              }
            : r,
        );
      const openBecause: string[] = [];
      if (hostNetwork) openBecause.push('the pod uses hostNetwork, which NetworkPolicy does not isolate');
      if (enforcing.length === 0) openBecause.push(`no NetworkPolicy selecting the pod enforces ${dir}`);
      for (const r of allowed) {
        const everyone = r.peers === 'any' || r.peers.some((p) => p.type === 'ipBlock' && p.everyAddress);
        if (everyone && r.ports === 'all')
          openBecause.push(
            `${r.policy} ${r.field} allows every ${dir === 'ingress' ? 'source' : 'destination'} on every port`,
          );
      }
      const isolated = enforcing.length > 0 && !hostNetwork;
      return {
        isolated,
        policies: enforcing.map((pv) => pv.name),
        allowed,
        class: openBecause.length ? 'open' : allowed.length === 0 ? 'isolated' : 'restricted',
        openBecause,
      };
    };
    const view: WorkloadNetwork = {
      workload: w,
      key: workloadKey(w),
      hostNetwork,
      selectedBy: e.any.map((pv) => pv.name),
      ingress: direction('ingress'),
      egress: direction('egress'),
    };
    views.set(w, view);
    byKey.set(view.key, view);
  }

  return {
    workloads: [...views.values()],
    of: (w) => {
      const v = views.get(w);
      if (!v) throw new Error(`workload ${workloadKey(w)} is not part of this audit context`);
      return v;
    },
    byKey,
    policies: policyViews,
    namespaceLabels,
    members: (peer) => members.get(peer) ?? new Set(),
    workloadsIn: (ns) => byNamespace.get(ns)?.items ?? [],
  };
}

function resolveNamed(port: PortView, destinations: Workload[]): { workload: string; port: number }[] {
  const out: { workload: string; port: number }[] = [];
  for (const d of destinations) {
    const hit = namedPorts(d).get(String(port.port));
    // A named port matches only a container port of that name with the rule's protocol.
    if (hit && hit.protocol === port.protocol) out.push({ workload: workloadKey(d), port: hit.port });
  }
  return out;
}

export interface ServicePortView {
  name?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
  protocol: string;
}

export interface ServiceExposure {
  service: LoadedObject;
  key: string;
  namespace: string;
  name: string;
  type: string;
  /** Reachable from outside the cluster: LoadBalancer, NodePort or externalIPs. */
  external: boolean;
  externalIPs: string[];
  loadBalancerSourceRanges: string[];
  ports: ServicePortView[];
  /** The Service's selector; undefined when it has none (endpoints managed by hand). */
  selector: Record<string, string> | undefined;
  workloads: Workload[];
}

export interface IngressBackend {
  host: string;
  path: string;
  service: string;
  port: number | string | undefined;
  tls: boolean;
  workloads: Workload[];
}

export interface IngressExposure {
  ingress: LoadedObject;
  key: string;
  namespace: string;
  name: string;
  hosts: string[];
  /** Whether the Ingress has a tls section at all. */
  tls: boolean;
  /** Hosts of its rules that no tls entry covers ("*" for the rule without a host). */
  hostsWithoutTls: string[];
  backends: IngressBackend[];
  /** An Ingress is the cluster's public entry by purpose. */
  external: true;
}

export interface Exposures {
  services: ServiceExposure[];
  ingresses: IngressExposure[];
  /** Every Service and Ingress that reaches the workload. */
  of(w: Workload): { services: ServiceExposure[]; ingresses: IngressExposure[] };
}

const exposureCache = new WeakMap<AuditContext, Exposures>();

/** Every Service and Ingress with the workloads behind it: what the inventory publishes as exposure. */
export function exposuresOf(ctx: AuditContext): Exposures {
  const cached = exposureCache.get(ctx);
  if (cached) return cached;
  const byNamespace = new Map<string, LabelIndex<Workload>>();
  for (const w of ctx.workloads) {
    let idx = byNamespace.get(w.namespace);
    if (!idx) byNamespace.set(w.namespace, (idx = new LabelIndex<Workload>()));
    idx.add(w, w.podLabels);
  }
  const services: ServiceExposure[] = ctx.ofKind('Service').map((s) => {
    const spec = obj(s.raw['spec']) ?? {};
    const type = str(spec['type']) ?? 'ClusterIP';
    const externalIPs = arr(spec['externalIPs']).map(String);
    const rawSelector = obj(spec['selector']);
    const selector = rawSelector ? stringMap(rawSelector) : undefined;
    // A Service selects by equality on its map; an empty or absent map selects no pod (manual endpoints).
    const workloads =
      selector && Object.keys(selector).length && type !== 'ExternalName'
        ? (byNamespace.get(namespaceOf(s))?.select({ matchLabels: selector }, (w) => w.podLabels) ?? [])
        : [];
    return {
      service: s,
      key: `Service/${namespaceOf(s)}/${nameOf(s)}`,
      namespace: namespaceOf(s),
      name: nameOf(s),
      type,
      external: type === 'LoadBalancer' || type === 'NodePort' || externalIPs.length > 0,
      externalIPs,
      loadBalancerSourceRanges: arr(spec['loadBalancerSourceRanges']).map(String),
      ports: arr(spec['ports']).map((x) => {
        const p = obj(x) ?? {};
        const targetPort = p['targetPort'];
        return {
          ...(str(p['name']) ? { name: str(p['name'])! } : {}),
          port: Number(p['port']),
          ...(typeof targetPort === 'number' || typeof targetPort === 'string' ? { targetPort } : {}),
          ...(typeof p['nodePort'] === 'number' ? { nodePort: p['nodePort'] } : {}),
          protocol: str(p['protocol']) ?? 'TCP',
        };
      }),
      selector,
      workloads,
    };
  });
  const serviceByKey = new Map(services.map((s) => [`${s.namespace}/${s.name}`, s]));
  const ingresses: IngressExposure[] = ctx.ofKind('Ingress').map((ing) => {
    const ns = namespaceOf(ing);
    const spec = obj(ing.raw['spec']) ?? {};
    const tlsEntries = arr(spec['tls']).map((t) => arr(obj(t)?.['hosts']).map(String));
    const covered = (host: string) =>
      tlsEntries.some(
        (hosts) =>
          hosts.length === 0 ||
          hosts.includes(host) ||
          hosts.some(
            (h) =>
              h.startsWith('*.') &&
              host.endsWith(h.slice(1)) &&
              host.split('.').length === h.split('.').length,
          ),
      );
    const backendOf = (b: unknown): { service: string; port: number | string | undefined } | undefined => {
      const x = obj(b) ?? {};
      const svc = obj(x['service']);
      if (svc) {
        const port = obj(svc['port']) ?? {};
        return {
          service: str(svc['name']) ?? '',
          port: (port['number'] as number | undefined) ?? str(port['name']),
        };
      }
      // networking.k8s.io/v1beta1 and extensions/v1beta1 spell the backend differently.
      if (str(x['serviceName']))
        return { service: str(x['serviceName'])!, port: x['servicePort'] as number | string | undefined };
      return undefined;
    };
    const backends: IngressBackend[] = [];
    const add = (host: string, path: string, b: unknown) => {
      const be = backendOf(b);
      if (!be) return;
      backends.push({
        host,
        path,
        ...be,
        tls: covered(host === '*' ? '' : host) && (host !== '*' || tlsEntries.some((h) => h.length === 0)),
        workloads: serviceByKey.get(`${ns}/${be.service}`)?.workloads ?? [],
      });
    };
    const defaultBackend = spec['defaultBackend'] ?? spec['backend'];
    if (defaultBackend) add('*', '/', defaultBackend);
    const hosts: string[] = [];
    for (const r of arr(spec['rules'])) {
      const rule = obj(r) ?? {};
      const host = str(rule['host']) ?? '*';
      if (host !== '*') hosts.push(host);
      for (const p of arr(obj(rule['http'])?.['paths']))
        add(host, str(obj(p)?.['path']) ?? '/', obj(p)?.['backend']);
    }
    const allHosts = [...new Set(backends.map((b) => b.host))];
    return {
      ingress: ing,
      key: `Ingress/${ns}/${nameOf(ing)}`,
      namespace: ns,
      name: nameOf(ing),
      hosts,
      tls: tlsEntries.length > 0,
      hostsWithoutTls: allHosts.filter((h) => !backends.some((b) => b.host === h && b.tls)),
      backends,
      external: true,
    };
  });
  const svcOf = new Map<Workload, ServiceExposure[]>();
  for (const s of services) for (const w of s.workloads) svcOf.set(w, [...(svcOf.get(w) ?? []), s]);
  const ingOf = new Map<Workload, IngressExposure[]>();
  for (const i of ingresses)
    for (const w of new Set(i.backends.flatMap((b) => b.workloads)))
      ingOf.set(w, [...(ingOf.get(w) ?? []), i]);
  const result: Exposures = {
    services,
    ingresses,
    of: (w) => ({ services: svcOf.get(w) ?? [], ingresses: ingOf.get(w) ?? [] }),
  };
  exposureCache.set(ctx, result);
  return result;
}
