import { type AuditContext } from '../checks/check.model.js';
import { type LoadedObject } from '../model/k8s-object.js';
import { type Workload } from '../model/workload.js';
import {
  analyzeNetwork,
  exposuresOf,
  workloadKey,
  type AllowedRule,
  type Direction,
  type NetworkAnalysis,
  type Peer,
  type PortView,
} from './analysis.js';
import { defaultContext } from '../context.js';
import { rangesAt, renderRange, type Range } from './declared.js';

export interface RuleExplanation {
  policy: string;
  rule: number;
  field: string;
  peers: string[];
  ports: string[];
}

/** Another workload of the input this pod can talk to (or be reached from), with both sides' policies applied. */
export interface PeerReach {
  workload: string;
  ports: string[];
  /** The rule on each side that lets the traffic through, or "not isolated". */
  egressVia: string[];
  ingressVia: string[];
}

export interface DirectionExplanation {
  class: 'isolated' | 'restricted' | 'open';
  isolated: boolean;
  policies: string[];
  /** Why, in a sentence: no policy selects it, isolated with no rule, or which rules open it. */
  verdict: string;
  rules: RuleExplanation[];
  /** Workloads of the input actually reachable, considering the other side's policies too. */
  workloads: PeerReach[];
  /** Addresses outside the cluster the direction admits ("any address", ipBlocks). */
  external: string[];
}

export interface NetworkExplanation {
  workload: string;
  cde: boolean;
  labels: Record<string, string>;
  hostNetwork: boolean;
  /** What can reach the pod. */
  ingress: DirectionExplanation;
  /** What the pod can reach. */
  egress: DirectionExplanation;
  exposure: { services: string[]; ingresses: string[] };
}

function renderPeer(p: Peer): string {
  if (p.type === 'ipBlock')
    return `ipBlock ${p.cidr}${p.except.length ? ` except ${p.except.join(', ')}` : ''}`;
  const pods = p.podSelector === undefined || p.allPods ? 'every pod' : `pods ${p.podSelector}`;
  const where =
    p.namespaceSelector === undefined
      ? 'of the same namespace'
      : p.allNamespaces
        ? 'of every namespace'
        : `of namespaces ${p.namespaceSelector}`;
  return `${pods} ${where} [${p.workloads.length ? p.workloads.join(', ') : 'no workload in the input'}]`;
}

function renderPort(p: PortView): string {
  if (p.port === undefined) return `${p.protocol} every port`;
  if (typeof p.port === 'number') return `${p.protocol} ${p.port}${p.endPort ? `-${p.endPort}` : ''}`;
  const resolved = p.resolved?.length
    ? ` = ${p.resolved.map((r) => `${r.port} at ${r.workload}`).join(', ')}`
    : ' (no container port of that name: admits nothing)';
  return `${p.protocol} ${p.port}${resolved}`;
}

function intersect(a: Range[], b: Range[]): Range[] {
  const out: Range[] = [];
  for (const x of a)
    for (const y of b) {
      if (x.protocol && y.protocol && x.protocol !== y.protocol) continue;
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (from <= to) out.push({ protocol: x.protocol ?? y.protocol, from, to });
    }
  return out;
}

const ALL: Range[] = [{ protocol: undefined, from: 1, to: 65535 }];

/** The rules of one side admitting the other workload, with the ranges each admits at the destination. */
function sideAdmits(
  analysis: NetworkAnalysis,
  rules: AllowedRule[],
  isolated: boolean,
  other: Workload,
  destination: Workload,
): { ranges: Range[]; via: string[] } {
  if (!isolated) return { ranges: ALL, via: ['not isolated'] };
  const ranges: Range[] = [];
  const via: string[] = [];
  for (const r of rules) {
    const matches =
      r.peers === 'any' || r.peers.some((p) => p.type === 'selector' && analysis.members(p).has(other));
    if (!matches) continue;
    const rs = rangesAt(r.ports, workloadKey(destination));
    if (rs.length === 0) continue;
    ranges.push(...rs);
    via.push(`${r.policy} ${r.field}`);
  }
  return { ranges, via };
}

function explainDirection(
  ctx: AuditContext,
  analysis: NetworkAnalysis,
  w: Workload,
  dir: Direction,
): DirectionExplanation {
  const net = analysis.of(w);
  const view = net[dir];
  const towards = dir === 'ingress' ? 'source' : 'destination';
  const verdict = net.hostNetwork
    ? `the pod uses hostNetwork: NetworkPolicy does not apply to it, every ${towards} is allowed`
    : !view.isolated
      ? net.selectedBy.length
        ? `selected by ${net.selectedBy.join(', ')}, but none enforces ${dir}: every ${towards} is allowed`
        : `no NetworkPolicy selects the pod: every ${towards} is allowed`
      : view.allowed.length === 0
        ? `isolated by ${view.policies.join(', ')} with no ${dir} rule: everything is denied`
        : view.class === 'open'
          ? `isolated by ${view.policies.join(', ')}, but ${view.openBecause.join('; ')}`
          : `isolated by ${view.policies.join(', ')}; allowed only by the ${view.allowed.length} rule(s) below`;
  const rules = view.allowed.map((r) => ({
    policy: r.policy,
    rule: r.rule,
    field: r.field,
    peers: r.peers === 'any' ? [`any ${towards}, in or outside the cluster`] : r.peers.map(renderPeer),
    ports: r.ports === 'all' ? ['every port'] : r.ports.map(renderPort),
  }));
  const workloads: PeerReach[] = [];
  for (const other of ctx.workloads) {
    if (other === w) continue;
    const o = analysis.of(other);
    const [src, dst] = dir === 'egress' ? [w, other] : [other, w];
    const srcNet = dir === 'egress' ? net : o;
    const dstNet = dir === 'egress' ? o : net;
    const out = sideAdmits(analysis, srcNet.egress.allowed, srcNet.egress.isolated, dst, dst);
    if (!out.ranges.length) continue;
    const inn = sideAdmits(analysis, dstNet.ingress.allowed, dstNet.ingress.isolated, src, dst);
    const ports = intersect(out.ranges, inn.ranges);
    if (!ports.length) continue;
    workloads.push({
      workload: workloadKey(other),
      ports: ports.map(renderRange),
      egressVia: out.via,
      ingressVia: inn.via,
    });
  }
  const external = !view.isolated
    ? ['any address']
    : view.allowed.flatMap((r) => {
        const ports = r.ports === 'all' ? 'every port' : r.ports.map(renderPort).join(', ');
        if (r.peers === 'any') return [`any address on ${ports} (${r.policy} ${r.field})`];
        return r.peers
          .filter((p) => p.type === 'ipBlock')
          .map((p) => `${renderPeer(p)} on ${ports} (${r.policy} ${r.field})`);
      });
  return {
    class: view.class,
    isolated: view.isolated,
    policies: view.policies,
    verdict,
    rules,
    workloads,
    external,
  };
}

function findWorkload(ctx: AuditContext, podRef: string): Workload {
  const parts = podRef.split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !p))
    throw new Error(`pod "${podRef}": expected namespace/name or Kind/namespace/name`);
  const [kind, ns, name] = parts.length === 3 ? parts : [undefined, parts[0]!, parts[1]!];
  const hits = ctx.workloads.filter(
    (w) => w.namespace === ns && w.name === name && (!kind || w.kind === kind),
  );
  if (hits.length === 1) return hits[0]!;
  if (hits.length > 1)
    throw new Error(
      `pod "${podRef}" is ambiguous: ${hits.map(workloadKey).join(', ')}; name it as Kind/namespace/name`,
    );
  const inNs = ctx.workloads.filter((w) => w.namespace === ns).map(workloadKey);
  throw new Error(
    `pod "${podRef}": no workload of that name in the input${inNs.length ? ` (namespace ${ns} has ${inNs.slice(0, 10).join(', ')}${inNs.length > 10 ? ', ...' : ''})` : ` (no workload in namespace ${ns})`}`,
  );
}

/**
 * What one workload's pods can reach and what can reach them, and why: the policies and rules on its side, and
 * for each other workload of the input whether traffic passes both the sender's egress and the receiver's ingress.
 */
export function explainNetwork(
  input: LoadedObject[] | AuditContext,
  podRef: string,
  options: { cdeLabel?: { key: string; value: string } } = {},
): NetworkExplanation {
  const ctx = Array.isArray(input) ? defaultContext(input, options.cdeLabel) : input;
  const w = findWorkload(ctx, podRef);
  const analysis = analyzeNetwork(ctx);
  const net = analysis.of(w);
  const exp = exposuresOf(ctx).of(w);
  return {
    workload: workloadKey(w),
    cde: ctx.isCdeWorkload(w),
    labels: w.podLabels,
    hostNetwork: net.hostNetwork,
    ingress: explainDirection(ctx, analysis, w, 'ingress'),
    egress: explainDirection(ctx, analysis, w, 'egress'),
    exposure: {
      services: exp.services.map(
        (s) =>
          `${s.key} ${s.type}${s.external ? ' (external)' : ''} ports ${s.ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol}`).join(',')}`,
      ),
      ingresses: exp.ingresses.map(
        (i) =>
          `${i.key} hosts ${i.hosts.join(',') || '*'}${i.hostsWithoutTls.length ? ` without TLS for ${i.hostsWithoutTls.join(',')}` : ' with TLS'}`,
      ),
    },
  };
}

/** The explanation as text for a terminal. */
export function renderNetworkExplanation(e: NetworkExplanation): string {
  const lines = [`${e.workload}${e.cde ? ' (CDE)' : ''}${e.hostNetwork ? ' hostNetwork' : ''}`];
  for (const [title, d, who] of [
    ['Ingress (what can reach it)', e.ingress, 'from'],
    ['Egress (what it can reach)', e.egress, 'to'],
  ] as const) {
    lines.push('', `${title}: ${d.class} — ${d.verdict}`);
    for (const r of d.rules)
      lines.push(`  ${r.policy} ${r.field}: ${who} ${r.peers.join(' OR ')} on ${r.ports.join(', ')}`);
    lines.push(`  workloads (both sides' policies applied):${d.workloads.length ? '' : ' none'}`);
    for (const p of d.workloads)
      lines.push(
        `    ${p.workload} on ${p.ports.join(', ')} (egress: ${p.egressVia.join(', ')}; ingress: ${p.ingressVia.join(', ')})`,
      );
    lines.push(`  outside the cluster: ${d.external.length ? d.external.join('; ') : 'none'}`);
  }
  lines.push('', `Exposure: ${[...e.exposure.services, ...e.exposure.ingresses].join('; ') || 'none'}`);
  return lines.join('\n') + '\n';
}
