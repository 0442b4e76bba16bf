import cluster, { type Worker } from 'node:cluster';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { METRICS_CONTENT_TYPE, metricsSnapshot, renderAggregatedMetrics } from '@vigil/telemetry';

// With RUNTIME_INGEST_WORKERS=N a scrape of /metrics reaches whichever worker the primary hands the connection to,
// and that worker alone knows only its own share of the counters. So a worker answers /metrics with the sum over
// all workers: it asks the primary, the primary asks every worker for its registry as data over the cluster's IPC
// channel and sums them (prom-client's cluster aggregation), and the asking worker sends the text. The primary
// itself runs no HTTP and no Nest.

const ASK = 'vigil:runtime-ingest:metrics';
const ANSWER = 'vigil:runtime-ingest:metrics-answer';
const COLLECT = 'vigil:runtime-ingest:metrics-collect';
const COLLECTED = 'vigil:runtime-ingest:metrics-collected';
/** How long a scrape waits for the workers' registries; a worker that has not answered by then fails the scrape. */
export const CLUSTER_METRICS_TIMEOUT_MS = 5_000;

interface Message {
  type?: unknown;
  id?: unknown;
  text?: unknown;
  snapshot?: unknown;
  error?: unknown;
}

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null;

/**
 * In the primary: answers a worker's ASK with the sum of every live worker's registry. Returns the listener to remove.
 */
export function answerMetricsRequests(workers: () => Worker[]): () => void {
  let next = 0;
  const pending = new Map<number, { left: number; snapshots: unknown[][]; done: (err?: Error) => void }>();
  const onMessage = (from: Worker, m: unknown): void => {
    if (!isMessage(m)) return;
    if (m.type === COLLECTED && typeof m.id === 'number') {
      const p = pending.get(m.id);
      if (!p) return;
      if (typeof m.error === 'string') return p.done(new Error(`worker ${from.id}: ${m.error}`));
      p.snapshots.push(m.snapshot as unknown[]);
      if (--p.left === 0) p.done();
      return;
    }
    if (m.type !== ASK) return;
    const id = next++;
    const live = workers().filter((w) => w.isConnected());
    const reply = (answer: { text: string } | { error: string }): void => {
      if (from.isConnected()) from.send({ type: ANSWER, id: m.id, ...answer });
    };
    const timer = setTimeout(
      () => p.done(new Error(`a worker did not send its metrics within ${CLUSTER_METRICS_TIMEOUT_MS} ms`)),
      CLUSTER_METRICS_TIMEOUT_MS,
    );
    const p = {
      left: live.length,
      snapshots: [] as unknown[][],
      done: (err?: Error) => {
        if (!pending.delete(id)) return;
        clearTimeout(timer);
        if (err) return reply({ error: err.message });
        renderAggregatedMetrics(p.snapshots).then(
          (text) => reply({ text }),
          (e: Error) => reply({ error: e.message }),
        );
      },
    };
    pending.set(id, p);
    for (const w of live) w.send({ type: COLLECT, id });
  };
  cluster.on('message', onMessage);
  return () => cluster.off('message', onMessage);
}

/** In a worker: sends this worker's registry to the primary when it collects. */
export function sendMetricsOnRequest(): () => void {
  const onMessage = (m: unknown): void => {
    if (!isMessage(m) || m.type !== COLLECT) return;
    metricsSnapshot().then(
      (snapshot) => process.send?.({ type: COLLECTED, id: m.id, snapshot }),
      (e: Error) => process.send?.({ type: COLLECTED, id: m.id, error: e.message }),
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

/** In a worker: the sum over all workers, from the primary. */
export function clusterMetrics(): Promise<string> {
  return new Promise((resolve, reject) => {
    const id = `${process.pid}:${Math.random().toString(36).slice(2)}`;
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(
        new Error(`the primary did not send the workers' metrics within ${CLUSTER_METRICS_TIMEOUT_MS} ms`),
      );
    }, CLUSTER_METRICS_TIMEOUT_MS + 1_000);
    const onMessage = (m: unknown): void => {
      if (!isMessage(m) || m.type !== ANSWER || m.id !== id) return;
      process.off('message', onMessage);
      clearTimeout(timer);
      if (typeof m.text === 'string') resolve(m.text);
      else reject(new Error(String(m.error)));
    };
    process.on('message', onMessage);
    process.send?.({ type: ASK, id });
  });
}

/** GET /metrics in a worker of several: the workers' sum, or 503 naming why it could not be had. */
export function clusterMetricsHandler() {
  return (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    clusterMetrics().then(
      (text) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', METRICS_CONTENT_TYPE);
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (err: Error) => {
        res.statusCode = 503;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(`metrics of the runtime-ingest workers unavailable: ${err.message}\n`);
      },
    );
  };
}
