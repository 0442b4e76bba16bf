import { Inject, Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { ALL_TOPICS } from '@vigil/contracts';
import { type BatchHandler, type EventLog, type Subscription } from '@vigil/event-log';
import { createLogger, metrics } from '@vigil/telemetry';
import { KIT_OPTIONS, type KitRuntimeOptions } from './kit-runtime.js';

export interface ConsumerSpec {
  eventLog: EventLog;
  /** Consumer group, `vigil.<service>`: replicas of one service share it and split the partitions. */
  group: string;
  topics: string[];
  handler: BatchHandler;
  maxAttempts?: number;
  maxBatchSize?: number;
}

export type ConsumerState = 'waiting-for-log' | 'joining' | 'ready' | 'stopped';

export interface ConsumerStatus {
  group: string;
  topics: string[];
  state: ConsumerState;
  /** The last error while waiting for the log, if any. */
  lastError?: string;
}

interface Entry extends ConsumerStatus {
  subscription?: Subscription;
}

const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * Starts the service's consumers without blocking startup: topics are created and groups joined in the
 * background, retrying with backoff while the log is unreachable, so a service whose broker is down starts,
 * answers /healthz, reports not ready on /readyz, and becomes ready by itself when the broker appears.
 * On shutdown every subscription is stopped (in-flight batches finish and commit) before the log is closed.
 */
@Injectable()
export class ConsumerSupervisor implements BeforeApplicationShutdown {
  private readonly logger = createLogger('consumers');
  private readonly entries: Entry[] = [];
  private readonly topicsEnsured = new WeakMap<EventLog, Promise<void>>();
  private readonly abort = new AbortController();
  private readonly unreachable = metrics.counter({
    name: 'vigil_event_log_unreachable_total',
    help: 'Attempts to reach the event log (create topics, join groups) that failed and were retried',
  });
  private readonly readyGauge = metrics.gauge({
    name: 'vigil_consumer_ready',
    help: '1 when the consumer group has joined the log and reads its topics',
    labelNames: ['group'],
  });

  constructor(@Inject(KIT_OPTIONS) private readonly kit: KitRuntimeOptions) {}

  /** Registers a consumer and starts it in the background (its group prefixed by CONSUMER_GROUP_PREFIX, if set). */
  run(consumer: ConsumerSpec): void {
    const spec = { ...consumer, group: `${this.kit.consumerGroupPrefix ?? ''}${consumer.group}` };
    if (this.abort.signal.aborted) throw new Error(`consumer ${spec.group}: the service is shutting down`);
    if (this.entries.some((e) => e.group === spec.group && e.topics.join() === spec.topics.join())) {
      throw new Error(
        `consumer ${spec.group} on ${spec.topics.join(', ')} is already running in this process`,
      );
    }
    const entry: Entry = { group: spec.group, topics: [...spec.topics], state: 'waiting-for-log' };
    this.entries.push(entry);
    this.readyGauge.set({ group: spec.group }, 0);
    void this.start(entry, spec).catch((err: unknown) => {
      entry.lastError = errorText(err);
      this.logger.error(
        { err, group: spec.group },
        `consumer ${spec.group} could not start: ${entry.lastError}`,
      );
    });
  }

  status(): ConsumerStatus[] {
    return this.entries.map(({ subscription: _s, ...status }) => ({ ...status }));
  }

  /** True when every registered consumer has joined its group (vacuously true with none registered). */
  allReady(): boolean {
    return this.entries.every((e) => e.state === 'ready');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await Promise.all(
      this.entries.map(async (entry) => {
        const sub = entry.subscription;
        entry.state = 'stopped';
        this.readyGauge.set({ group: entry.group }, 0);
        if (!sub) return;
        try {
          await sub.stop();
          this.logger.info({ group: entry.group }, `consumer ${entry.group} stopped`);
        } catch (err) {
          this.logger.warn(
            { err, group: entry.group },
            `consumer ${entry.group} did not stop cleanly: ${errorText(err)}`,
          );
        }
      }),
    );
  }

  private async start(entry: Entry, spec: ConsumerSpec): Promise<void> {
    await this.ensureTopics(spec.eventLog);
    if (this.abort.signal.aborted) return;
    entry.state = 'joining';
    const subscription = await spec.eventLog.subscribe({
      group: spec.group,
      topics: spec.topics,
      handler: spec.handler,
      ...(spec.maxAttempts !== undefined ? { maxAttempts: spec.maxAttempts } : {}),
      ...(spec.maxBatchSize !== undefined ? { maxBatchSize: spec.maxBatchSize } : {}),
    });
    entry.subscription = subscription;
    if (this.abort.signal.aborted) {
      await subscription.stop();
      return;
    }
    await subscription.ready;
    if (this.abort.signal.aborted) return;
    entry.state = 'ready';
    delete entry.lastError;
    this.readyGauge.set({ group: spec.group }, 1);
    this.logger.info(
      { group: spec.group, topics: spec.topics },
      `consumer ${spec.group} joined, reading ${spec.topics.join(', ')}`,
    );
  }

  // Every topic is created once per log with its declared partition count, before anyone subscribes: the Kafka
  // adapter does not let consumers auto-create topics (they would get the broker's default partition count).
  private ensureTopics(eventLog: EventLog): Promise<void> {
    let ensured = this.topicsEnsured.get(eventLog);
    if (!ensured) {
      ensured = this.retryUntilReachable(async () => {
        // ping answers within a couple of seconds; ensureTopics against a dead broker would first sit through
        // the client's own retry schedule, leaving minutes between our log lines.
        if (!(await eventLog.ping().catch(() => false))) throw new Error('no answer');
        await eventLog.ensureTopics(ALL_TOPICS.map((t) => ({ ...t })));
      });
      this.topicsEnsured.set(eventLog, ensured);
    }
    return ensured;
  }

  private async retryUntilReachable(attempt: () => Promise<void>): Promise<void> {
    let wait = INITIAL_BACKOFF_MS;
    for (let n = 1; !this.abort.signal.aborted; n++) {
      try {
        await attempt();
        if (n > 1)
          this.logger.info(
            `event log (${this.kit.logDescription}) reachable again after ${n - 1} failed attempt(s)`,
          );
        return;
      } catch (err) {
        if (this.abort.signal.aborted) return;
        const text = errorText(err);
        this.unreachable.inc();
        for (const e of this.entries) if (e.state === 'waiting-for-log') e.lastError = text;
        // Jitter keeps a fleet of replicas restarted together from retrying in lockstep.
        const delay = Math.round(wait * (0.8 + Math.random() * 0.4));
        this.logger.warn(
          { attempt: n, retryInMs: delay, err: text },
          `event log unreachable (${this.kit.logDescription}): ${text}; not ready, retrying in ${(delay / 1000).toFixed(1)} s (attempt ${n})`,
        );
        await sleep(delay, this.abort.signal);
        wait = Math.min(wait * 2, MAX_BACKOFF_MS);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
