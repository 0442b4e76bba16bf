import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Histogram,
  Registry,
  collectDefaultMetrics,
  type Metric,
} from 'prom-client';

// One registry per process. The all-in-one runs several service modules in one process: they share it, and a
// metric declared by two of them is the same metric (told apart by its labels), not a "already registered" crash.
const registry = new Registry();
let defaultsCollected = false;

const PREFIX = 'vigil_';

export interface MetricSpec<L extends string> {
  /** Must start with `vigil_` (Prometheus convention: one namespace per application). */
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramSpec<L extends string> extends MetricSpec<L> {
  /** Seconds. Default: prom-client's default buckets (5 ms to 10 s). */
  buckets?: number[];
}

function existing<T extends Metric>(name: string, kind: new (...args: never[]) => T): T | undefined {
  if (!name.startsWith(PREFIX) || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) {
    throw new Error(
      `metrics: metric name "${name}" must start with ${PREFIX} and use only letters, digits and _`,
    );
  }
  const found = registry.getSingleMetric(name);
  if (found === undefined) return undefined;
  if (!(found instanceof kind))
    throw new Error(`metrics: "${name}" is already registered as another metric type`);
  return found as T;
}

function ensureDefaults(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: registry });
}

export const metrics = {
  registry,
  counter<L extends string = string>(spec: MetricSpec<L>): Counter<L> {
    ensureDefaults();
    return (
      existing<Counter<L>>(spec.name, Counter) ??
      new Counter<L>({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labelNames ?? [],
        registers: [registry],
      })
    );
  },
  gauge<L extends string = string>(spec: MetricSpec<L>): Gauge<L> {
    ensureDefaults();
    return (
      existing<Gauge<L>>(spec.name, Gauge) ??
      new Gauge<L>({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labelNames ?? [],
        registers: [registry],
      })
    );
  },
  histogram<L extends string = string>(spec: HistogramSpec<L>): Histogram<L> {
    ensureDefaults();
    return (
      existing<Histogram<L>>(spec.name, Histogram) ??
      new Histogram<L>({
        name: spec.name,
        help: spec.help,
        labelNames: spec.labelNames ?? [],
        ...(spec.buckets ? { buckets: spec.buckets } : {}),
        registers: [registry],
      })
    );
  },
  /** Labels added to every metric of this process (the service name, the instance). */
  setDefaultLabels(labels: Record<string, string>): void {
    registry.setDefaultLabels(labels);
  },
};

/** The registry in Prometheus text exposition format, for a /metrics endpoint. */
export async function renderMetrics(): Promise<string> {
  ensureDefaults();
  return registry.metrics();
}

/**
 * The registry as plain data (prom-client's getMetricsAsJSON), for a process that serves the metrics of several: a
 * node:cluster primary sums its workers' with renderAggregatedMetrics.
 */
export async function metricsSnapshot(): Promise<unknown[]> {
  ensureDefaults();
  return registry.getMetricsAsJSON();
}

/** Several processes' metricsSnapshot() summed per series (counters, histograms; each metric's own aggregator), as text. */
export async function renderAggregatedMetrics(snapshots: unknown[][]): Promise<string> {
  return AggregatorRegistry.aggregate(
    snapshots as Parameters<typeof AggregatorRegistry.aggregate>[0],
  ).metrics();
}

/** The Content-Type to send with renderMetrics(). */
export const METRICS_CONTENT_TYPE = registry.contentType;
