import { type AuditContext } from '../checks/check.model.js';
import { metadataOf, nameOf, stringMap } from '../model/k8s-object.js';
import { type Workload } from '../model/workload.js';
import { type AllowedRule, type NetworkAnalysis, type PortView, workloadKey } from './analysis.js';
import { cidrContains, parseCidr, type Cidr } from './cidr.js';

/** Comma-separated destinations a CDE pod may reach: CIDRs, Services or workloads, each with optional ports. */
export const ALLOWED_EGRESS_ANNOTATION = 'pci.vigil.dev/allowed-egress';
/** Why a CDE pod may be reachable from outside the cluster (the approved public entry point's justification). */
export const EXPOSURE_ANNOTATION = 'pci.vigil.dev/exposure';

export interface DeclaredPorts {
  /** Undefined: any protocol. */
  protocol?: string;
  from: number;
  to: number;
}

export type DeclaredDestination =
  | { type: 'cidr'; text: string; cidr: Cidr; ports?: DeclaredPorts }
  /** A Service or workload by name, in the pod's namespace unless written namespace/name; "ns/*" is every pod of ns. */
  | { type: 'name'; text: string; namespace: string; name: string; ports?: DeclaredPorts };

export interface Declarations {
  egress: DeclaredDestination[];
  /** Entries that could not be read, each naming where it came from and what is wrong. */
  errors: string[];
  /** The exposure justification, and whether it came from the pod template or the namespace. */
  exposure?: { reason: string; from: string };
  /** Where the egress list came from (pod template, namespace or both). */
  egressFrom: string[];
}

function parsePorts(text: string): DeclaredPorts | undefined {
  const m = /^(\d{1,5})(?:-(\d{1,5}))?(?:\/(TCP|UDP|SCTP))?$/i.exec(text);
  if (!m) return undefined;
  const from = Number(m[1]);
  const to = m[2] ? Number(m[2]) : from;
  if (from < 1 || to > 65535 || to < from) return undefined;
  return { from, to, ...(m[3] ? { protocol: m[3].toUpperCase() } : {}) };
}

/** Parses one annotation value; `where` names the object and annotation in error messages. */
export function parseAllowedEgress(
  value: string,
  namespace: string,
  where: string,
): { entries: DeclaredDestination[]; errors: string[] } {
  const entries: DeclaredDestination[] = [];
  const errors: string[] = [];
  for (const raw of value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    // "[fd00::/8]:443" keeps an IPv6 range apart from its port; otherwise the port follows the last colon.
    let target = raw;
    let portText: string | undefined;
    const bracket = /^\[([^\]]+)\](?::(.+))?$/.exec(raw);
    if (bracket) {
      target = bracket[1]!;
      portText = bracket[2];
    } else if (!raw.includes('::') && (raw.match(/:/g)?.length ?? 0) === 1) {
      [target, portText] = raw.split(':') as [string, string];
    }
    const ports = portText === undefined ? undefined : parsePorts(portText);
    if (portText !== undefined && !ports) {
      errors.push(`${where}: "${raw}": "${portText}" is not a port, port range or port/protocol`);
      continue;
    }
    const cidr = /^[0-9.]+(\/\d+)?$|:/.test(target) ? parseCidr(target) : undefined;
    if (cidr) entries.push({ type: 'cidr', text: raw, cidr, ...(ports ? { ports } : {}) });
    else if (/^[0-9.:/]+$/.test(target))
      errors.push(`${where}: "${raw}": "${target}" is not a valid CIDR or address`);
    else {
      const parts = target.split('/');
      const [ns, name] = parts.length === 2 ? (parts as [string, string]) : [namespace, target];
      if (
        parts.length > 2 ||
        !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(ns) ||
        !(name === '*' || /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name))
      )
        errors.push(`${where}: "${raw}" is neither a CIDR nor a [namespace/]name`);
      else entries.push({ type: 'name', text: raw, namespace: ns, name, ...(ports ? { ports } : {}) });
    }
  }
  return { entries, errors };
}

/** The declarations of a workload: its pod template's annotations plus its namespace's (both apply). */
export function declarationsOf(ctx: AuditContext, w: Workload): Declarations {
  const pod = stringMap(w.podMetadata['annotations']);
  const nsObject = ctx.ofKind('Namespace').find((n) => nameOf(n) === w.namespace);
  const ns = nsObject ? stringMap(metadataOf(nsObject)['annotations']) : {};
  const out: Declarations = { egress: [], errors: [], egressFrom: [] };
  for (const [source, map] of [
    [`${w.kind}/${w.namespace}/${w.name} pod template`, pod],
    [`Namespace/${w.namespace}`, ns],
  ] as const) {
    const value = map[ALLOWED_EGRESS_ANNOTATION];
    if (value !== undefined) {
      const parsed = parseAllowedEgress(
        value,
        w.namespace,
        `${source} annotation ${ALLOWED_EGRESS_ANNOTATION}`,
      );
      out.egress.push(...parsed.entries);
      out.errors.push(...parsed.errors);
      out.egressFrom.push(source);
    }
    const reason = map[EXPOSURE_ANNOTATION]?.trim();
    if (reason && !out.exposure) out.exposure = { reason, from: source };
  }
  return out;
}

/** One allowance of an egress rule that no declaration covers. */
export interface UndeclaredEgress {
  policy: string;
  rule: number;
  field: string;
  /** The destination and ports, rendered, e.g. "ipBlock 0.0.0.0/0 on TCP 443" or "any destination on every port". */
  what: string;
}

export interface Range {
  protocol: string | undefined;
  from: number;
  to: number;
}

function portCovered(need: Range, have: DeclaredPorts | undefined): boolean {
  if (!have) return true;
  if (need.protocol === undefined || (have.protocol && have.protocol !== need.protocol)) return false;
  return have.from <= need.from && need.to <= have.to;
}

/** The port ranges a rule's ports admit at one destination; named ports resolved there (unresolved admit nothing). */
export function rangesAt(ports: 'all' | PortView[], destination: string | undefined): Range[] {
  if (ports === 'all') return [{ protocol: undefined, from: 1, to: 65535 }];
  return ports.flatMap((p): Range[] => {
    if (p.port === undefined) return [{ protocol: p.protocol, from: 1, to: 65535 }];
    if (typeof p.port === 'number') return [{ protocol: p.protocol, from: p.port, to: p.endPort ?? p.port }];
    const hit = p.resolved?.find((r) => r.workload === destination);
    return hit ? [{ protocol: p.protocol, from: hit.port, to: hit.port }] : [];
  });
}

export const renderRange = (r: Range): string =>
  r.protocol === undefined && r.from === 1 && r.to === 65535
    ? 'every port'
    : `${r.protocol ?? 'any protocol'} ${r.from === 1 && r.to === 65535 ? 'every port' : r.from === r.to ? r.from : `${r.from}-${r.to}`}`;

/** DNS to kube-system is what every pod needs; the generated policy allows it, so it never needs declaring. */
function isDns(rule: AllowedRule): boolean {
  if (rule.peers === 'any' || rule.ports === 'all') return false;
  const peersOk = rule.peers.every(
    (p) =>
      p.type === 'selector' &&
      !p.allNamespaces &&
      p.namespaces.every((n) => n === 'kube-system') &&
      p.namespaceSelector !== undefined,
  );
  return (
    peersOk &&
    rule.ports.every((p) => p.port === 53 && !p.endPort && (p.protocol === 'UDP' || p.protocol === 'TCP'))
  );
}

/**
 * The egress a workload's policies allow beyond its declared destinations. A selector peer is covered when it
 * matches at least one workload and every one it matches is declared (by workload name, by a Service selecting
 * it, or by namespace/*); one that matches nothing in the input is a standing allowance for any pod later given
 * those labels, so it is never covered. An ipBlock is covered by a declared CIDR containing it.
 */
export function undeclaredEgress(
  ctx: AuditContext,
  analysis: NetworkAnalysis,
  w: Workload,
  declared: DeclaredDestination[],
): UndeclaredEgress[] {
  const view = analysis.of(w).egress;
  const out: UndeclaredEgress[] = [];
  const services = ctx.ofKind('Service');
  const nameCovers = (d: Extract<DeclaredDestination, { type: 'name' }>, target: Workload): boolean => {
    if (d.namespace !== target.namespace) return false;
    if (d.name === '*' || d.name === target.name) return true;
    const svc = services.find(
      (s) => nameOf(s) === d.name && String(metadataOf(s)['namespace'] ?? 'default') === d.namespace,
    );
    const selector = svc
      ? stringMap((svc.raw['spec'] as Record<string, unknown> | undefined)?.['selector'])
      : {};
    return (
      Object.keys(selector).length > 0 &&
      Object.entries(selector).every(([k, v]) => target.podLabels[k] === v)
    );
  };
  for (const rule of view.allowed) {
    if (isDns(rule)) continue;
    const gap = (what: string) => out.push({ policy: rule.policy, rule: rule.rule, field: rule.field, what });
    if (rule.peers === 'any') {
      const ranges = rangesAt(rule.ports, undefined);
      if (ranges.length) gap(`any destination on ${ranges.map(renderRange).join(', ')}`);
      continue;
    }
    for (const peer of rule.peers) {
      if (peer.type === 'ipBlock') {
        const cidr = parseCidr(peer.cidr)!;
        for (const r of rangesAt(rule.ports, undefined))
          if (
            !declared.some((d) => d.type === 'cidr' && cidrContains(d.cidr, cidr) && portCovered(r, d.ports))
          )
            gap(
              `ipBlock ${peer.cidr}${peer.except.length ? ` except ${peer.except.join(',')}` : ''} on ${renderRange(r)}`,
            );
        continue;
      }
      const label = `pods ${peer.podSelector ?? '(all)'} in ${peer.namespaceSelector ? `namespaces ${peer.namespaceSelector}` : 'the same namespace'}`;
      const targets = [...analysis.members(peer)];
      if (targets.length === 0) {
        gap(`${label} (matches no workload in the input, so any pod later given those labels)`);
        continue;
      }
      if (peer.allNamespaces) {
        gap(`${label} (every namespace, including ones created later)`);
        continue;
      }
      for (const t of targets)
        for (const r of rangesAt(rule.ports, workloadKey(t)))
          if (!declared.some((d) => d.type === 'name' && nameCovers(d, t) && portCovered(r, d.ports)))
            gap(`${workloadKey(t)} on ${renderRange(r)}`);
    }
  }
  return out;
}
