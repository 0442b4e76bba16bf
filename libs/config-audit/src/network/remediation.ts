import { type AuditContext } from '../checks/check.model.js';
import { nameOf, namespaceOf, obj, stringMap, type Json } from '../model/k8s-object.js';
import { type Workload } from '../model/workload.js';
import { type AllowedRule, type Direction, type NetworkAnalysis } from './analysis.js';
import { type DeclaredDestination } from './declared.js';

const DNS_RULE: Json = {
  to: [
    {
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
      podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
    },
  ],
  ports: [
    { protocol: 'UDP', port: 53 },
    { protocol: 'TCP', port: 53 },
  ],
};

function portsOf(d: DeclaredDestination): Json[] | undefined {
  if (!d.ports) return undefined;
  const protocols = d.ports.protocol ? [d.ports.protocol] : ['TCP'];
  return protocols.map((protocol) => ({
    protocol,
    port: d.ports!.from,
    ...(d.ports!.to !== d.ports!.from ? { endPort: d.ports!.to } : {}),
  }));
}

/** The egress rule for one declared destination, or undefined when its name resolves to nothing in the input. */
function ruleFor(ctx: AuditContext, d: DeclaredDestination): Json | undefined {
  const ports = portsOf(d);
  const withPorts = (to: Json[]): Json => ({ to, ...(ports ? { ports } : {}) });
  if (d.type === 'cidr') return withPorts([{ ipBlock: { cidr: d.cidr.text } }]);
  const namespaceSelector = { matchLabels: { 'kubernetes.io/metadata.name': d.namespace } };
  if (d.name === '*') return withPorts([{ namespaceSelector }]);
  const svc = ctx.ofKind('Service').find((s) => nameOf(s) === d.name && namespaceOf(s) === d.namespace);
  const selector = svc ? stringMap(obj(svc.raw['spec'])?.['selector']) : {};
  const target = ctx.workloads.find((w) => w.namespace === d.namespace && w.name === d.name);
  const labels = Object.keys(selector).length
    ? selector
    : target && Object.keys(target.podLabels).length
      ? target.podLabels
      : undefined;
  if (!labels) return undefined;
  return withPorts([{ namespaceSelector, podSelector: { matchLabels: labels } }]);
}

/** Kubernetes object names: at most 253 characters of a DNS subdomain. */
function policyName(w: Workload, direction: Direction): string {
  const base = `${w.name || w.kind.toLowerCase()}-cde-${direction}`
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-');
  return base.slice(0, 253).replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, '') || `cde-${direction}`;
}

const isOpen = (r: AllowedRule) =>
  r.peers === 'any' ||
  r.peers.some((p) => p.type === 'ipBlock' && p.everyAddress) ||
  r.peers.some((p) => p.type === 'selector' && p.allNamespaces && p.allPods);

export interface GeneratedPolicy {
  policy: Json;
  /** What the generated policy cannot do by itself: rules of other policies to delete, names that did not resolve. */
  notes: string[];
}

/**
 * A complete NetworkPolicy for one CDE workload and direction that denies everything except what is needed.
 * Egress: DNS to kube-system (UDP/TCP 53) and the declared destinations. Ingress: the rules already allowed by
 * the pod's policies that name their peers (open rules are dropped), or nothing. Policies add up, so the policy
 * alone cannot take back an open rule of another policy: the notes name those rules to delete.
 */
export function cdePolicyFor(
  ctx: AuditContext,
  analysis: NetworkAnalysis,
  w: Workload,
  direction: Direction,
  declared: DeclaredDestination[],
): GeneratedPolicy {
  const notes: string[] = [];
  const view = analysis.of(w)[direction];
  for (const r of view.allowed.filter(isOpen))
    notes.push(
      `delete or narrow ${r.field} of NetworkPolicy ${r.policy}: it allows every ${direction === 'ingress' ? 'source' : 'destination'}`,
    );
  let rules: Json[];
  if (direction === 'egress') {
    rules = [DNS_RULE];
    for (const d of declared) {
      const rule = ruleFor(ctx, d);
      if (rule) rules.push(rule);
      else
        notes.push(
          `declared destination "${d.text}" matches no Service or workload with labels in the input; left out`,
        );
    }
  } else rules = view.allowed.filter((r) => !isOpen(r)).map((r) => r.raw);
  const labels = w.podLabels;
  if (Object.keys(labels).length === 0)
    notes.push(
      `the pods of ${w.kind} ${w.name} have no labels, so the policy selects every pod of ${w.namespace}`,
    );
  const spec: Json = {
    podSelector: Object.keys(labels).length ? { matchLabels: labels } : {},
    policyTypes: [direction === 'ingress' ? 'Ingress' : 'Egress'],
    [direction]: rules,
  };
  return {
    policy: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: {
        name: policyName(w, direction),
        namespace: w.namespace,
        labels: { 'app.kubernetes.io/managed-by': 'vigil' },
      },
      spec,
    },
    notes,
  };
}

/** The namespace-wide default deny for one direction, for pods outside the CDE. */
export function defaultDenyPolicy(namespace: string, direction: Direction): Json {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: `default-deny-${direction}`, namespace },
    spec: { podSelector: {}, policyTypes: [direction === 'ingress' ? 'Ingress' : 'Egress'] },
  };
}
