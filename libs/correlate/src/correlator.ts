import { type EventEnvelope, type Finding, FindingSource, NetworkIsolation } from '@vigil/contracts';
import { AssetGraph, type FindingRecord } from './asset-graph.js';
import { namespaceKey, serviceAccountKey, workloadKey } from './keys.js';
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
  /** Hashed correlated-finding ids per workload, pruned to the workload's current correlations on every recompute. */
  private readonly ids = new Map<string, Map<string, string>>();
  /**
   * The vulnerabilities among an image's open findings, keyed by the graph's cached list for that image: the graph
   * hands out the same array until the image's findings change, so hundreds of workloads on one image filter once.
   */
  private vulnerabilitiesByList = new WeakMap<readonly FindingRecord[], FindingRecord[]>();
  /** Open host findings per node, for one recompute: every workload on a node asks for the same list. */
  private hostMemo = new Map<string, FindingRecord[]>();

  constructor(private readonly rules: readonly CorrelationRule[] = CORRELATION_RULES) {}

  apply(envelope: EventEnvelope): boolean {
    // Any event may change a node's host findings: the memo lives only between two events.
    if (this.hostMemo.size) this.hostMemo = new Map();
    return this.graph.apply(envelope);
  }

  /**
   * Recomputes the workloads events touched since the last call and returns what that changed: the cost of a
   * steady stream is per event, not per cluster.
   */
  update(): CorrelationDiff {
    const dirty = this.graph.takeDirty();
    this.hostMemo = new Map();
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
      this.pruneIds(key, after);
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
        const ctx = this.contextOf(key, true, findings);
        const before = this.byWorkload.get(key) ?? [];
        if (!ctx) {
          merge(key, before, []);
          continue;
        }
        // Only the correlations of the changed image findings are rebuilt and compared; the rest of the
        // workload's stay as they are.
        const fresh = this.rules
          .filter((r) => r.perVulnerability && r.concerns(ctx))
          .flatMap((r) => r.run(ctx));
        const touched = (c: CorrelatedFinding) =>
          c.vulnerabilityId !== undefined && findings.has(c.vulnerabilityId);
        const part = diffCorrelations(before.filter(touched), fresh);
        diff.added.push(...part.added);
        diff.changed.push(...part.changed);
        diff.resolved.push(...part.resolved);
        const after = before.filter((c) => !touched(c)).concat(fresh);
        if (after.length) this.byWorkload.set(key, after);
        else this.byWorkload.delete(key);
        this.pruneIds(key, after);
      }
    return diff;
  }

  /** How many hashed ids the correlator keeps (bounded by the live correlations; for tests and the bench). */
  get cachedIdCount(): number {
    let n = 0;
    for (const m of this.ids.values()) n += m.size;
    return n;
  }

  /**
   * Keeps only the ids of correlations that still exist: a resolved one that comes back is hashed again, which is
   * cheap beside a cache that grows with every pod, image and node a long-running correlator ever saw.
   */
  private pruneIds(key: string, current: readonly CorrelatedFinding[]): void {
    const ids = this.ids.get(key);
    if (!ids) return;
    if (!current.length) {
      this.ids.delete(key);
      return;
    }
    if (ids.size <= current.length) return;
    const live = new Set(current.map((c) => c.id));
    for (const [idKey, id] of ids) if (!live.has(id)) ids.delete(idKey);
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
  contextOf(
    key: string,
    skipUnused = false,
    onlyVulnerabilities?: ReadonlySet<string>,
  ): WorkloadContext | undefined {
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
    const exposures = g.exposuresOf(key);
    // The config auditor reports an exposure on the Service or Ingress itself, not on the workload it selects.
    const config = [
      ...all.filter((r) => r.value.source === FindingSource.CONFIG),
      ...exposures.flatMap((e) =>
        g
          .workloadFindingsOf(
            workloadKey(cluster, e.type === 'Ingress' ? 'Ingress' : 'Service', e.namespace, e.name),
          )
          .filter((r) => r.value.source === FindingSource.CONFIG),
      ),
    ];
    const cdeReach = sa && sa.capabilities.length ? this.cdeReach(cluster, sa.capabilities) : [];
    // Every rule needs the CDE, a runtime detection or a reach into the CDE: without them the image findings are
    // not looked up at all (most workloads of a large cluster, on every event about their images).
    const needVulnerabilities = !skipUnused || cde || runtime.length > 0 || cdeReach.length > 0;
    const placed = g.podsOf(key).map((p) => p.name);
    const containers: ContainerContext[] = g.containersOf(key).map(({ key: ck, container }) => {
      const inContainer = runtime.filter((r) => r.value.asset?.container === container.name);
      return {
        key: ck,
        container,
        imageDigest: g.effectiveDigest(cluster, container),
        vulnerabilities: needVulnerabilities
          ? this.vulnerabilitiesOf(g.imageFindingsOf(cluster, container))
          : [],
        runtime: inContainer,
        pods: podsOf(inContainer, placed),
      };
    });
    return {
      key,
      cluster,
      workload,
      cde,
      ...(sa ? { serviceAccount: sa } : {}),
      cdeReach,
      externalExposures: exposures
        .filter((e) => e.external)
        .map(
          (e) =>
            `${e.type === 'Ingress' ? 'Ingress' : 'Service'}/${e.namespace}/${e.name} (${e.type}${e.hosts.length ? ` ${e.hosts.join(', ')}` : ''})`,
        ),
      egress: workload.egress ?? NetworkIsolation.UNSPECIFIED,
      config,
      containers,
      // The per-vulnerability rules an incremental update runs do not read the nodes.
      nodes: onlyVulnerabilities
        ? []
        : g.nodesOf(key).map((node) => ({ node, host: this.hostFindingsOf(node) })),
      ids: this.idsOf(key),
      ...(onlyVulnerabilities ? { onlyVulnerabilities } : {}),
    };
  }

  private vulnerabilitiesOf(imageFindings: readonly FindingRecord[]): FindingRecord[] {
    let out = this.vulnerabilitiesByList.get(imageFindings);
    if (!out) {
      out = imageFindings.filter((r) => isVulnerability(r.value));
      this.vulnerabilitiesByList.set(imageFindings, out);
    }
    return out;
  }

  private hostFindingsOf(node: string): FindingRecord[] {
    let out = this.hostMemo.get(node);
    if (!out) this.hostMemo.set(node, (out = this.graph.hostFindingsOf(node)));
    return out;
  }

  private idsOf(key: string): Map<string, string> {
    let ids = this.ids.get(key);
    if (!ids) this.ids.set(key, (ids = new Map()));
    return ids;
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

/** The pods a container runs in: those the inventory places, and those its runtime detections name. */
function podsOf(runtime: FindingRecord[], placed: string[]): string[] {
  const pods = new Set<string>(placed);
  for (const r of runtime)
    for (const e of r.value.evidence) if (e.key === 'pod' && e.value) pods.add(e.value);
  return [...pods].sort();
}

function sortByPriority<T extends { priority: Priority }>(list: T[], idOf: (x: T) => string): T[] {
  // Scores are whole numbers 0-100: bucketed by score, only ids are compared, within much shorter runs.
  const buckets = new Map<number, T[]>();
  for (const x of list) {
    const bucket = buckets.get(x.priority.score);
    if (bucket) bucket.push(x);
    else buckets.set(x.priority.score, [x]);
  }
  const byId = (a: T, b: T) => {
    const x = idOf(a);
    const y = idOf(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  const out: T[] = [];
  for (const score of [...buckets.keys()].sort((a, b) => b - a))
    for (const x of buckets.get(score)!.sort(byId)) out.push(x);
  return out;
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
