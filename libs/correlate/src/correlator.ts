import { type EventEnvelope, type Finding, FindingSource, NetworkIsolation } from '@vigil/contracts';
import { AssetGraph, type FindingRecord } from './asset-graph.js';
import { namespaceKey, serviceAccountKey } from './keys.js';
import { type Priority, type PriorityContext, priorityOf } from './priority.js';
import {
  CORRELATION_RULES,
  type ContainerContext,
  type CorrelatedFinding,
  type CorrelationRule,
  type WorkloadContext,
  isVulnerability,
  vulnerabilityContext,
} from './rules.js';

export interface CorrelationDiff {
  added: CorrelatedFinding[];
  /** Same id, different priority (score or factors). */
  changed: Array<{ previous: CorrelatedFinding; current: CorrelatedFinding }>;
  resolved: CorrelatedFinding[];
}

export interface PrioritizedFinding {
  finding: Finding;
  priority: Priority;
}

const CAPABILITY_REACH = /^(read-secrets|exec-pods|namespace-admin):(.+)$/;

/**
 * The correlator as a fold: `apply` events in any order, `correlate` for the current correlated findings. Only the
 * workloads an event touched are recomputed, so a steady stream costs per event, not per cluster.
 */
export class Correlator {
  readonly graph = new AssetGraph();
  private readonly byWorkload = new Map<string, CorrelatedFinding[]>();
  private readonly ids = new Map<string, string>();

  constructor(private readonly rules: readonly CorrelationRule[] = CORRELATION_RULES) {}

  apply(envelope: EventEnvelope): boolean {
    return this.graph.apply(envelope);
  }

  /**
   * Recomputes the workloads events touched since the last call and returns what that changed: the cost of a
   * steady stream is per event, not per cluster.
   */
  update(): CorrelationDiff {
    const dirty = this.graph.takeDirty();
    const keys = dirty.all
      ? [...new Set([...this.byWorkload.keys(), ...this.graph.workloadKeys()])]
      : [...dirty.workloads];
    const diff: CorrelationDiff = { added: [], changed: [], resolved: [] };
    const merge = (key: string, before: CorrelatedFinding[], after: CorrelatedFinding[]) => {
      // A correlated finding's asset is its workload's, so a per-workload diff is the whole diff.
      const part = diffCorrelations(before, after);
      diff.added.push(...part.added);
      diff.changed.push(...part.changed);
      diff.resolved.push(...part.resolved);
      if (after.length) this.byWorkload.set(key, after);
      else this.byWorkload.delete(key);
    };
    for (const key of keys) {
      const ctx = this.contextOf(key, true);
      merge(
        key,
        this.byWorkload.get(key) ?? [],
        ctx ? this.rules.filter((r) => r.concerns(ctx)).flatMap((r) => r.run(ctx)) : [],
      );
    }
    if (!dirty.all)
      for (const [key, findings] of dirty.findings) {
        const ctx = this.contextOf(key, true);
        const before = this.byWorkload.get(key) ?? [];
        if (!ctx) {
          merge(key, before, []);
          continue;
        }
        // Only the correlations of the changed image findings are rebuilt; the rest of the workload's stay.
        ctx.onlyVulnerabilities = findings;
        const fresh = this.rules
          .filter((r) => r.perVulnerability && r.concerns(ctx))
          .flatMap((r) => r.run(ctx));
        const kept = before.filter((c) => !c.vulnerabilityId || !findings.has(c.vulnerabilityId));
        merge(key, before, [...kept, ...fresh]);
      }
    return diff;
  }

  /** Every current correlated finding, highest priority first, then by id. */
  correlate(): CorrelatedFinding[] {
    this.update();
    return sortByPriority([...this.byWorkload.values()].flat(), (c) => c.id);
  }

  /** Contextual priority of every open finding the graph can place on a workload (image, config and runtime). */
  prioritized(): PrioritizedFinding[] {
    const out = new Map<string, PrioritizedFinding>();
    for (const key of this.graph.workloadKeys()) {
      const ctx = this.contextOf(key);
      if (!ctx) continue;
      for (const c of ctx.containers) {
        for (const v of c.vulnerabilities) {
          const p = priorityOf(v.value, vulnerabilityContext(ctx, c, v.value));
          const had = out.get(v.value.id);
          // An image in several workloads ranks by the worst place it runs.
          if (!had || had.priority.score < p.score) out.set(v.value.id, { finding: v.value, priority: p });
        }
      }
      const base: PriorityContext = { cde: ctx.cde, exposedBy: ctx.externalExposures, egress: ctx.egress };
      for (const r of ctx.config)
        out.set(r.value.id, { finding: r.value, priority: priorityOf(r.value, base) });
    }
    return sortByPriority([...out.values()], (p) => p.finding.id);
  }

  /** Everything the rules read about one workload, or undefined when the workload is not (or no longer) known. */
  contextOf(key: string, skipUnused = false): WorkloadContext | undefined {
    const g = this.graph;
    const workload = g.current(g.workloads, key);
    if (!workload) return undefined;
    const cluster = g.clusterOf(key);
    const ns = g.current(g.namespaces, namespaceKey(cluster, workload.namespace));
    const cde = workload.cde || Boolean(ns?.cde);
    const sa = g.current(
      g.serviceAccounts,
      serviceAccountKey(cluster, workload.namespace, workload.serviceAccount || 'default'),
    );
    const all = g.workloadFindingsOf(key);
    const runtime = all.filter((r) => r.value.source === FindingSource.RUNTIME);
    const config = all.filter((r) => r.value.source === FindingSource.CONFIG);
    const cdeReach = sa && sa.capabilities.length ? this.cdeReach(cluster, sa.capabilities) : [];
    // Every rule needs the CDE, a runtime detection or a reach into the CDE: without them the image findings are
    // not looked up at all (most workloads of a large cluster, on every event about their images).
    const needVulnerabilities = !skipUnused || cde || runtime.length > 0 || cdeReach.length > 0;
    const containers: ContainerContext[] = g.containersOf(key).map(({ key: ck, container }) => {
      const inContainer = runtime.filter((r) => r.value.asset?.container === container.name);
      return {
        key: ck,
        container,
        imageDigest: g.effectiveDigest(cluster, container),
        vulnerabilities: needVulnerabilities
          ? g.imageFindingsOf(cluster, container).filter((r) => isVulnerability(r.value))
          : [],
        runtime: inContainer,
        pods: podsOf(inContainer),
      };
    });
    return {
      key,
      cluster,
      workload,
      cde,
      ...(sa ? { serviceAccount: sa } : {}),
      cdeReach,
      externalExposures: g
        .exposuresOf(key)
        .filter((e) => e.external)
        .map(
          (e) =>
            `${e.type === 'Ingress' ? 'Ingress' : 'Service'}/${e.namespace}/${e.name} (${e.type}${e.hosts.length ? ` ${e.hosts.join(', ')}` : ''})`,
        ),
      egress: workload.egress ?? NetworkIsolation.UNSPECIFIED,
      config,
      containers,
      nodes: g.nodesOf(key).map((node) => ({ node, host: g.hostFindingsOf(node) })),
      ids: this.ids,
    };
  }

  /** The capabilities that reach a CDE namespace: read its Secrets, exec into its pods, or administer it. */
  private cdeReach(cluster: string, capabilities: string[]): string[] {
    const g = this.graph;
    const cdeNamespaces = [...g.namespaces.values()]
      .filter((n) => n.cluster === cluster && n.value.cde && g.isCurrent(n))
      .map((n) => n.value.name);
    const out: string[] = [];
    for (const cap of capabilities) {
      if (cap === 'cluster-admin') {
        if (cdeNamespaces.length) out.push(cap);
        continue;
      }
      const m = CAPABILITY_REACH.exec(cap);
      if (!m) continue;
      const scope = m[2]!;
      if (scope === '*' ? cdeNamespaces.length > 0 : cdeNamespaces.includes(scope)) out.push(cap);
    }
    return out;
  }
}

function podsOf(runtime: FindingRecord[]): string[] {
  const pods = new Set<string>();
  for (const r of runtime)
    for (const e of r.value.evidence) if (e.key === 'pod' && e.value) pods.add(e.value);
  return [...pods].sort();
}

function sortByPriority<T extends { priority: Priority }>(list: T[], idOf: (x: T) => string): T[] {
  return list.sort((a, b) => {
    if (b.priority.score !== a.priority.score) return b.priority.score - a.priority.score;
    const x = idOf(a);
    const y = idOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

const sameFactors = (a: Priority, b: Priority) =>
  a.score === b.score &&
  a.factors.length === b.factors.length &&
  a.factors.every((f, i) => f.id === b.factors[i]!.id && f.points === b.factors[i]!.points);

/** What changed between two correlation results: new ids, ids whose priority moved, and ids that went away. */
export function diffCorrelations(
  previous: readonly CorrelatedFinding[],
  current: readonly CorrelatedFinding[],
): CorrelationDiff {
  const before = new Map(previous.map((c) => [c.id, c]));
  const after = new Map(current.map((c) => [c.id, c]));
  const diff: CorrelationDiff = { added: [], changed: [], resolved: [] };
  for (const c of current) {
    const p = before.get(c.id);
    if (!p) diff.added.push(c);
    else if (!sameFactors(p.priority, c.priority)) diff.changed.push({ previous: p, current: c });
  }
  for (const p of previous) if (!after.has(p.id)) diff.resolved.push(p);
  return diff;
}

/** Folds events into a fresh correlator: the rebuild from the log. */
export function correlateEvents(events: Iterable<EventEnvelope>): CorrelatedFinding[] {
  const c = new Correlator();
  for (const e of events) c.apply(e);
  return c.correlate();
}
