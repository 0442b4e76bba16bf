import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { answerMetricsRequests } from './cluster-metrics.js';

// The HTTP ingest is stateless (every request is read, judged and published on its own), so one pod can use all
// its cores by running several full copies of the service on one port. node:cluster's primary accepts the
// connections and hands them to the workers round-robin; it runs no Nest and no log producer of its own.

/** `auto`: one worker per CPU the process may use. */
export function workerCount(setting: string, cpus = availableParallelism()): number {
  if (setting === 'auto') return Math.max(1, cpus);
  const n = Number(setting);
  if (!/^[1-9][0-9]*$/.test(setting) || !Number.isSafeInteger(n))
    throw new Error(`RUNTIME_INGEST_WORKERS must be "auto" or a positive whole number, got "${setting}"`);
  return n;
}

// A request of a thousand events parses megabytes of JSON, and whatever of it is live when the young generation fills
// (the batches the other connections are in the middle of) is copied by the scavenge and again on promotion. With
// V8's default 16 MiB semi-spaces the workers spent a sixth of their CPU in scavenges; 64 MiB cuts their number by
// about half for some 40 MiB more peak RSS per worker (bench/runtime-ingest). The operator's own setting wins.
const WORKER_V8_FLAGS = ['--max-semi-space-size=64'];

/** The node flags a worker runs with: the primary's own, plus the heap sizing above unless they already set it. */
export function workerExecArgv(execArgv: readonly string[], nodeOptions = ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)].map((f) => f.split('=')[0]!.replace(/_/g, '-'));
  return [...execArgv, ...WORKER_V8_FLAGS.filter((f) => !given.includes(f.split('=')[0]!))];
}

export interface SupervisorLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface SupervisorOptions {
  workers: number;
  /** A worker's own graceful drain is bounded by SHUTDOWN_TIMEOUT; this is the backstop after it. */
  shutdownTimeoutMs: number;
  /** Exit code a worker uses for a configuration error: restarting it would fail the same way. */
  configExitCode: number;
  logger: SupervisorLogger;
  /** The instance id to derive each worker's from (`<id>-w<n>`); absent, each worker keeps its default (host-pid). */
  instanceId?: string;
  /** Default process.exit. */
  exit?: (code: number) => void;
}

export interface Supervisor {
  /** Resolves with the code the primary exits with, once every worker has exited after a stop. */
  readonly done: Promise<number>;
  stop(signal: NodeJS.Signals): void;
}

const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
// A worker that lived this long was healthy: its crash starts the backoff over.
const HEALTHY_AFTER_MS = 60_000;
const KILL_GRACE_MS = 5_000;

/**
 * Runs in the cluster primary: forks the workers, restarts one that dies (with backoff when it keeps dying), and on
 * SIGTERM or SIGINT forwards SIGTERM to each so they drain their in-flight requests as a lone instance would, then
 * exits 0 when all drained cleanly, 1 otherwise. A worker's configuration error stops the whole service (exit 2).
 */
export function superviseWorkers(options: SupervisorOptions): Supervisor {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const slots = new Map<number, { worker: Worker; startedAt: number; delayMs: number }>();
  let stopping = false;
  // 0 while every drained worker exited cleanly; 1 once one did not; the config code when a worker's config failed.
  let exitCode = 0;
  const fail = (code: number): void => {
    if (exitCode === 0) exitCode = code;
  };
  let resolveDone: (code: number) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    resolveDone = resolve;
  });

  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env['NODE_OPTIONS']) });
  answerMetricsRequests(() => [...slots.values()].map((s) => s.worker));
  const start = (slot: number, delayMs: number): void => {
    const env: Record<string, string> = { RUNTIME_INGEST_WORKER: String(slot) };
    if (options.instanceId) env['SERVICE_INSTANCE_ID'] = `${options.instanceId}-w${slot}`;
    const worker = cluster.fork(env);
    slots.set(slot, { worker, startedAt: Date.now(), delayMs });
    worker.on('exit', (code, signal) => onExit(slot, worker, code, signal));
  };

  const finishIfIdle = (): void => {
    if (stopping && slots.size === 0) {
      resolveDone(exitCode);
      exit(exitCode);
    }
  };

  const onExit = (slot: number, worker: Worker, code: number | null, signal: string | null): void => {
    const entry = slots.get(slot);
    if (entry?.worker !== worker) return;
    slots.delete(slot);
    const how = signal ? `signal ${signal}` : `code ${code}`;
    if (stopping) {
      // Killed by the SIGTERM itself: a worker still starting, before its drain handler was set, had nothing to drain.
      if (code !== 0 && signal !== 'SIGTERM') fail(1);
      options.logger.info(`runtime-ingest worker ${slot} (pid ${worker.process.pid}) exited with ${how}`);
      finishIfIdle();
      return;
    }
    if (code === options.configExitCode) {
      options.logger.error(
        `runtime-ingest worker ${slot} exited with a configuration error (code ${code}); stopping every worker`,
      );
      fail(options.configExitCode);
      stopAll('SIGTERM');
      finishIfIdle();
      return;
    }
    const lived = Date.now() - entry.startedAt;
    const delayMs =
      lived >= HEALTHY_AFTER_MS ? FIRST_RESTART_DELAY_MS : Math.min(MAX_RESTART_DELAY_MS, entry.delayMs * 2);
    options.logger.warn(
      `runtime-ingest worker ${slot} (pid ${worker.process.pid}) died with ${how} after ${lived} ms; restarting it in ${delayMs} ms`,
    );
    setTimeout(() => {
      if (!stopping) start(slot, delayMs);
    }, delayMs).unref();
  };

  const stopAll = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    options.logger.info(`runtime-ingest primary received ${signal}: draining ${slots.size} worker(s)`);
    for (const { worker } of slots.values()) worker.process.kill('SIGTERM');
    // Past the workers' own deadline, whatever still runs is stuck: kill it rather than outlive the pod's grace.
    setTimeout(() => {
      for (const { worker } of slots.values()) {
        fail(1);
        worker.process.kill('SIGKILL');
      }
    }, options.shutdownTimeoutMs + KILL_GRACE_MS).unref();
  };

  for (let slot = 1; slot <= options.workers; slot++) start(slot, FIRST_RESTART_DELAY_MS / 2);
  return { done, stop: stopAll };
}
