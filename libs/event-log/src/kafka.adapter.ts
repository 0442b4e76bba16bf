import { randomUUID } from 'node:crypto';
import kafkajs, {
  type Admin,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type KafkaMessage,
  type LogEntry,
  type Producer,
} from 'kafkajs';
import { TOPICS } from '@vigil/contracts';
import type {
  BatchHandler,
  ConsumedRecord,
  DeadLetterValue,
  EventLog,
  EventLogLogger,
  LogRecord,
  PartitionLag,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from './event-log.port.js';
import { deliver, errorText, stoppableSleep } from './delivery.js';
import { defaultLogger } from './logger.js';
import { traced } from './traced.js';
import { checkRecords, checkTopicName, checkTopicSpecs, resolveSubscribeOptions } from './validation.js';

const { Kafka, Partitioners, logLevel: KafkaLogLevel } = kafkajs;

export interface KafkaEventLogOptions {
  /** host:port list, e.g. ['127.0.0.1:9092']. */
  brokers: string[];
  /** Shows up in the broker's logs and client quotas. Default 'vigil'. */
  clientId?: string;
  /** Replication factor of topics created by ensureTopics. Default 1 (a single local broker). */
  replicationFactor?: number;
  logger?: EventLogLogger;
  /** Kafka client log lines at or above this level reach the logger. Default 'warn'. */
  clientLogLevel?: 'error' | 'warn' | 'info';
  /** TCP connect timeout. Default 3000 ms. */
  connectionTimeoutMs?: number;
  /** ping() answers false after this long. Default 2000 ms. */
  pingTimeoutMs?: number;
  /** Consumer group session timeout (the broker bounds it: group.min.session.timeout.ms, 6 s by default). Default 30 s. */
  sessionTimeoutMs?: number;
  /** Default sessionTimeoutMs / 10. */
  heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin in a rebalance. Default 60 s. */
  rebalanceTimeoutMs?: number;
  /** Partitions of one consumer handled concurrently (each partition stays in order). Default 1. */
  partitionsConsumedConcurrently?: number;
  /** How long a fetch waits on the broker for new records; stop() waits out at most one. Default 1000 ms. */
  maxWaitTimeMs?: number;
  /** Upper bound of fetched bytes per partition per request. Default 1 MiB. */
  maxBytesPerPartition?: number;
  /** Producer send retries before publish fails (bounded so that publish never hangs forever). Default 10. */
  producerRetries?: number;
  /** Wrap the log in the trace-context propagation of traced(). Default true. */
  tracing?: boolean;
  /** Value of dead-letter records (e.g. a DeadLettered envelope). Default: the failed record's own bytes. */
  deadLetterValue?: DeadLetterValue;
}

type KafkaClient = InstanceType<typeof Kafka>;

class UnknownTopicError extends Error {
  override name = 'UnknownTopicError';
}

/** The Kafka adapter of the EventLog port (kafkajs). */
export function createKafkaEventLog(options: KafkaEventLogOptions): EventLog {
  const log = new KafkaEventLog(options);
  return options.tracing === false ? log : traced(log);
}

function checkBrokers(brokers: unknown): string[] {
  if (!Array.isArray(brokers) || brokers.length === 0) {
    throw new Error(
      'createKafkaEventLog: brokers is empty (expected host:port entries such as 127.0.0.1:9092)',
    );
  }
  for (const b of brokers) {
    if (typeof b !== 'string' || !/^[^\s:/]+:\d{1,5}$/.test(b)) {
      throw new Error(
        `createKafkaEventLog: broker ${JSON.stringify(b)} is not host:port (e.g. 127.0.0.1:9092)`,
      );
    }
  }
  return brokers as string[];
}

function headerValue(v: IHeaders[string]): string {
  if (v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => x.toString()).join(',');
  return v.toString();
}

function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) headers[k] = headerValue(v);
  const value = m.value ?? Buffer.alloc(0);
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key ? m.key.toString('utf8') : '',
    value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    headers,
    timestamp: Number(m.timestamp),
  };
}

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

class KafkaEventLog implements EventLog {
  private readonly brokers: string[];
  private readonly logger: EventLogLogger;
  private readonly kafka: KafkaClient;
  /** A client without retries: ping must answer quickly, not after a retry schedule. */
  private readonly pingKafka: KafkaClient;
  private readonly clientId: string;
  private producer: Producer | undefined;
  private producerReady: Promise<Producer> | undefined;
  private admin: Promise<Admin> | undefined;
  private pingAdmin: Promise<Admin> | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private readonly knownTopics = new Set<string>();
  private closed = false;
  private lastPing: boolean | undefined;

  constructor(private readonly options: KafkaEventLogOptions) {
    this.brokers = checkBrokers(options.brokers);
    this.clientId = options.clientId ?? 'vigil';
    this.logger = options.logger ?? defaultLogger;
    const rf = options.replicationFactor ?? 1;
    if (!Number.isInteger(rf) || rf < 1) {
      throw new Error(
        `createKafkaEventLog: replicationFactor=${String(rf)} (expected an integer of 1 or more)`,
      );
    }
    const base = {
      clientId: this.clientId,
      brokers: this.brokers,
      connectionTimeout: options.connectionTimeoutMs ?? 3000,
      logLevel: { error: KafkaLogLevel.ERROR, warn: KafkaLogLevel.WARN, info: KafkaLogLevel.INFO }[
        options.clientLogLevel ?? 'warn'
      ],
      logCreator: () => (entry: LogEntry) => this.clientLog(entry),
    };
    this.kafka = new Kafka({ ...base, retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 8 } });
    // ping() reports for itself (once per change); the client's per-attempt connection errors would only repeat it.
    this.pingKafka = new Kafka({ ...base, logCreator: () => () => undefined, retry: { retries: 0 } });
  }

  // kafkajs logs every failed connection attempt at ERROR with a stack; our own lines already say what failed and
  // what happens next, so its lines are passed on as warnings with the fields that matter.
  private clientLog(entry: LogEntry): void {
    const { message, broker, groupId, error, retryCount, retryTime } = entry.log as Record<string, unknown>;
    if (typeof message !== 'string') return;
    // We bound producer retries on purpose (see publish); kafkajs warns that this weakens exactly-once, which is
    // not a guarantee this port makes (consumers are idempotent on event id).
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    const fields = Object.fromEntries(
      Object.entries({ namespace: entry.namespace, broker, groupId, error, retryCount, retryTime }).filter(
        ([, v]) => v !== undefined,
      ),
    );
    if (entry.level === KafkaLogLevel.INFO) this.logger.info(`kafka client: ${message}`, fields);
    else this.logger.warn(`kafka client: ${message}`, fields);
  }

  private describeBrokers(): string {
    return this.brokers.join(',');
  }

  private unreachable(doing: string, err: unknown): Error {
    return new Error(
      `event-log: ${doing} failed: Kafka brokers ${this.describeBrokers()} (${errorText(err)})`,
      { cause: err },
    );
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('event-log: the Kafka event log is closed');
  }

  private getAdmin(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      this.admin = admin.connect().then(
        () => admin,
        (err) => {
          this.admin = undefined;
          throw this.unreachable('connecting the admin client', err);
        },
      );
    }
    return this.admin;
  }

  private getProducer(): Promise<Producer> {
    if (!this.producerReady) {
      const producer = this.kafka.producer({
        idempotent: true,
        // kafkajs tracks idempotent sequence numbers per partition; one request in flight keeps them in order
        // across retries (Kafka allows up to 5, kafkajs does not reorder safely).
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: Partitioners.DefaultPartitioner,
        retry: { retries: this.options.producerRetries ?? 10, initialRetryTime: 300, maxRetryTime: 5_000 },
      });
      this.producer = producer;
      this.producerReady = producer.connect().then(
        () => producer,
        (err) => {
          this.producerReady = undefined;
          throw this.unreachable('connecting the producer', err);
        },
      );
    }
    return this.producerReady;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.checkOpen();
    checkTopicSpecs(topics);
    if (topics.length === 0) return;
    const admin = await this.getAdmin();
    // Ask first: a CreateTopics request naming an existing topic makes the client log an error for a normal case.
    let missing = topics;
    try {
      const existing = new Set(await admin.listTopics());
      missing = topics.filter((t) => !existing.has(t.name));
    } catch (err) {
      throw this.unreachable(`listing topics`, err);
    }
    if (missing.length === 0) {
      for (const t of topics) this.knownTopics.add(t.name);
      return;
    }
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.name,
          numPartitions: t.partitions,
          replicationFactor: this.options.replicationFactor ?? 1,
        })),
      });
    } catch (err) {
      // createTopics rejects the whole request when any one exists with another error; existing ones are fine.
      const e = err as { type?: string; errors?: { type?: string }[] };
      const onlyExisting =
        e.type === 'TOPIC_ALREADY_EXISTS' || (e.errors ?? []).every((x) => x.type === 'TOPIC_ALREADY_EXISTS');
      if (!onlyExisting || !(e.errors?.length || e.type))
        throw this.unreachable(`creating topics ${topics.map((t) => t.name).join(',')}`, err);
    }
    for (const t of topics) this.knownTopics.add(t.name);
  }

  async publish(records: LogRecord[]): Promise<void> {
    this.checkOpen();
    checkRecords(records);
    if (records.length === 0) return;
    const byTopic = new Map<string, { key: Buffer; value: Buffer; headers: Record<string, string> }[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      list.push({ key: Buffer.from(r.key, 'utf8'), value: asBuffer(r.value), headers: r.headers ?? {} });
    }
    await this.checkTopicsExist([...byTopic.keys()], 'publish');
    const producer = await this.getProducer();
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
    } catch (err) {
      throw this.unreachable(`publishing ${records.length} records to ${[...byTopic.keys()].join(',')}`, err);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.checkOpen();
    const resolved = resolveSubscribeOptions(options, TOPICS.deadLetter);
    // A missing topic is the caller's mistake and fails here; an unreachable broker is an outage, which the
    // subscription rides out in the background (so the probe comes first: no retry schedule on this path).
    if ((await this.probe()) === undefined) {
      await this.checkTopicsExist(resolved.topics, `subscribe (group "${resolved.group}")`);
      await this.ensureDeadLetterTopic(resolved.deadLetterTopic);
    }
    const sub = new KafkaSubscription(this.kafka, this.options, this.logger, resolved, {
      publishRaw: (records) => this.publish(records),
      ensureDeadLetterTopic: () => this.ensureDeadLetterTopic(resolved.deadLetterTopic),
      probe: () => this.probe(),
      describeBrokers: () => this.describeBrokers(),
    });
    this.subscriptions.add(sub);
    sub.finished.then(() => this.subscriptions.delete(sub));
    sub.start();
    if (!resolved.ephemeral) return sub;
    return {
      ready: sub.ready,
      stop: async () => {
        await sub.stop();
        // After the member left: a group with a member cannot be deleted.
        try {
          await (await this.getAdmin()).deleteGroups([resolved.group]);
        } catch (err) {
          this.logger.warn(
            `kafka log: could not delete the ephemeral group "${resolved.group}": ${errorText(err)}`,
          );
        }
      },
    };
  }

  // kafkajs treats an unknown topic as retriable and would spend its whole retry schedule on a typo; one metadata
  // look-up per topic and process answers at once, like the embedded log does.
  private async checkTopicsExist(topics: string[], where: string): Promise<void> {
    const unknown = topics.filter((t) => !this.knownTopics.has(t));
    if (unknown.length === 0) return;
    const admin = await this.getAdmin();
    let existing: string[];
    try {
      existing = await admin.listTopics();
    } catch (err) {
      throw this.unreachable('listing topics', err);
    }
    for (const t of unknown) {
      if (!existing.includes(t)) {
        throw new UnknownTopicError(
          `${where}: topic "${t}" does not exist on Kafka brokers ${this.describeBrokers()} (create it with ensureTopics first)`,
        );
      }
      this.knownTopics.add(t);
    }
  }

  private async ensureDeadLetterTopic(name: string): Promise<void> {
    if (this.knownTopics.has(name)) return;
    const admin = await this.getAdmin();
    const existing = await admin.listTopics();
    if (!existing.includes(name)) await this.ensureTopics([{ name, partitions: 1 }]);
    this.knownTopics.add(name);
  }

  /**
   * Reads every partition from its low-water mark to the high-water mark taken when replay starts. kafkajs has no
   * manual partition assignment, so this joins a throwaway consumer group (unique id, auto-commit off, nothing
   * committed) and deletes that group afterwards; the groups of real consumers are never touched.
   */
  async replay(topics: string[], handler: BatchHandler): Promise<void> {
    this.checkOpen();
    if (!Array.isArray(topics) || topics.length === 0) throw new Error('replay: no topics given');
    topics.forEach((t) => checkTopicName(t, 'replay'));
    if (typeof handler !== 'function') throw new Error('replay: handler is not a function');
    await this.checkTopicsExist(topics, 'replay');
    const admin = await this.getAdmin();
    const remaining = new Map<string, bigint>(); // "topic/partition" -> high-water mark still to reach
    for (const topic of topics) {
      let offsets;
      try {
        offsets = await admin.fetchTopicOffsets(topic);
      } catch (err) {
        throw this.unreachable(`reading the offsets of topic "${topic}"`, err);
      }
      for (const p of offsets) {
        if (BigInt(p.high) > BigInt(p.low)) remaining.set(`${topic}/${p.partition}`, BigInt(p.high));
      }
    }
    if (remaining.size === 0) return;
    const groupId = `${this.clientId}.replay.${randomUUID()}`;
    const consumer = this.kafka.consumer({ groupId, allowAutoTopicCreation: false, retry: { retries: 5 } });
    let failure: unknown;
    let finish!: () => void;
    const done = new Promise<void>((r) => (finish = r));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async ({ batch, isRunning }) => {
          const id = `${batch.topic}/${batch.partition}`;
          const high = remaining.get(id);
          if (high === undefined || failure !== undefined || !isRunning()) return;
          const records = batch.messages
            .filter((m) => BigInt(m.offset) < high)
            .map((m) => toConsumed(batch.topic, batch.partition, m));
          try {
            if (records.length > 0) await handler(records);
          } catch (err) {
            failure = err;
            finish();
            return;
          }
          const last = records[records.length - 1];
          if (last && BigInt(last.offset) + 1n >= high) {
            remaining.delete(id);
            if (remaining.size === 0) finish();
          }
        },
      });
      consumer.on(consumer.events.CRASH, (e) => {
        if (!e.payload.restart) {
          failure ??= e.payload.error;
          finish();
        }
      });
      await done;
    } finally {
      await consumer.disconnect().catch(() => undefined);
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    if (failure !== undefined) throw failure;
  }

  async lag(group: string, topics: string[]): Promise<PartitionLag[]> {
    this.checkOpen();
    topics.forEach((t) => checkTopicName(t, 'lag'));
    await this.checkTopicsExist(topics, 'lag');
    const admin = await this.getAdmin();
    try {
      const committed = await admin.fetchOffsets({ groupId: group, topics });
      const out: PartitionLag[] = [];
      for (const topic of topics) {
        const ends = await admin.fetchTopicOffsets(topic);
        const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
        for (const e of ends.sort((a, b) => a.partition - b.partition)) {
          const c = mine.find((p) => p.partition === e.partition)?.offset ?? '-1';
          const from = BigInt(c) >= 0n ? BigInt(c) : BigInt(e.low);
          out.push({
            topic,
            partition: e.partition,
            end: e.high,
            committed: c,
            lag: Number(BigInt(e.high) - from),
          });
        }
      }
      return out;
    } catch (err) {
      throw this.unreachable(`reading the lag of group "${group}"`, err);
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    const err = await this.probe();
    const ok = err === undefined;
    // Readiness probes ping every few seconds: say it when the answer changes, not on every probe.
    if (!ok && this.lastPing !== false)
      this.logger.warn(`Kafka brokers ${this.describeBrokers()} do not answer: ${errorText(err)}`);
    if (ok && this.lastPing === false)
      this.logger.info(`Kafka brokers ${this.describeBrokers()} answer again`);
    this.lastPing = ok;
    return ok;
  }

  /** One describeCluster on a client without retries, bounded by pingTimeoutMs; the error when it fails. */
  private async probe(): Promise<unknown> {
    const timeout = this.options.pingTimeoutMs ?? 2000;
    try {
      if (!this.pingAdmin) {
        const admin = this.pingKafka.admin({ retry: { retries: 0 } });
        this.pingAdmin = withTimeout(
          admin.connect(),
          timeout,
          `Kafka brokers ${this.describeBrokers()}`,
        ).then(
          () => admin,
          (err) => {
            this.pingAdmin = undefined;
            admin.disconnect().catch(() => undefined);
            throw err;
          },
        );
      }
      const admin = await this.pingAdmin;
      await withTimeout(admin.describeCluster(), timeout, `Kafka brokers ${this.describeBrokers()}`);
      return undefined;
    } catch (err) {
      return err ?? new Error('unknown error');
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    const admins = [this.admin, this.pingAdmin].filter((a): a is Promise<Admin> => a !== undefined);
    await Promise.all(admins.map((a) => a.then((x) => x.disconnect()).catch(() => undefined)));
    if (this.producerReady) await this.producerReady.then((p) => p.disconnect()).catch(() => undefined);
    this.producer = undefined;
  }
}

interface SubscriptionDeps {
  publishRaw(records: LogRecord[]): Promise<void>;
  ensureDeadLetterTopic(): Promise<void>;
  probe(): Promise<unknown>;
  describeBrokers(): string;
}

class KafkaSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly finished: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveFinished!: () => void;
  private readonly abort = new AbortController();
  private readonly sleep = stoppableSleep(this.abort.signal);
  private consumer: Consumer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly kafka: KafkaClient,
    private readonly config: KafkaEventLogOptions,
    private readonly logger: EventLogLogger,
    private readonly options: ReturnType<typeof resolveSubscribeOptions>,
    private readonly deps: SubscriptionDeps,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    // Nobody has to await ready; a subscription stopped before it joined must not raise an unhandled rejection.
    this.ready.catch(() => undefined);
    this.finished = new Promise<void>((r) => (this.resolveFinished = r));
  }

  /** Connects and runs in the background, retrying with backoff while the brokers are unreachable. */
  start(): void {
    void this.connectLoop();
  }

  private async connectLoop(): Promise<void> {
    let wait = 500;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      const consumer = this.createConsumer();
      try {
        // A quick probe first, so an outage is reported at once rather than after the client's retry schedule.
        const down = await this.deps.probe();
        if (down) throw down;
        await this.deps.ensureDeadLetterTopic();
        await consumer.connect();
        await consumer.subscribe({
          topics: this.options.topics,
          fromBeginning: this.options.start === 'earliest',
        });
        if (this.abort.signal.aborted) {
          await consumer.disconnect().catch(() => undefined);
          break;
        }
        this.consumer = consumer;
        await consumer.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: this.config.partitionsConsumedConcurrently ?? 1,
          eachBatch: (payload) => this.eachBatch(payload),
        });
        return;
      } catch (err) {
        await consumer.disconnect().catch(() => undefined);
        if (this.abort.signal.aborted) break;
        // A topic created a moment ago can be unknown to the broker's metadata for one round: the first failure
        // is a warning, the ones after it are errors.
        (failures++ === 0 ? this.logger.warn : this.logger.error).call(
          this.logger,
          `consumer group "${this.options.group}" cannot start on Kafka brokers ${this.deps.describeBrokers()}: ${errorText(err)}; retrying in ${wait} ms`,
          { group: this.options.group, topics: this.options.topics },
        );
        await this.sleep(wait);
        wait = Math.min(wait * 2, 30_000);
      }
    }
    this.rejectReady(new Error(`consumer group "${this.options.group}" was stopped before it joined`));
    this.resolveFinished();
  }

  private createConsumer(): Consumer {
    const sessionTimeout = this.config.sessionTimeoutMs ?? 30_000;
    const consumer = this.kafka.consumer({
      groupId: this.options.group,
      sessionTimeout,
      heartbeatInterval: this.config.heartbeatIntervalMs ?? Math.max(100, Math.floor(sessionTimeout / 10)),
      rebalanceTimeout: this.config.rebalanceTimeoutMs ?? 60_000,
      maxBytesPerPartition: this.config.maxBytesPerPartition ?? 1_048_576,
      maxWaitTimeInMs: this.config.maxWaitTimeMs ?? 1000,
      allowAutoTopicCreation: false,
      retry: {
        initialRetryTime: 300,
        maxRetryTime: 30_000,
        retries: 8,
        // Never give up on a consumer: kafkajs restarts it after its retry time, and we say so in the log.
        restartOnFailure: async (err) => {
          this.logger.error(
            `consumer group "${this.options.group}" failed on Kafka brokers ${this.deps.describeBrokers()}: ${errorText(err)}; restarting`,
          );
          return true;
        },
      },
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      this.logger.info(`consumer group "${this.options.group}" joined`, {
        memberId: e.payload.memberId,
        assignment: e.payload.memberAssignment,
      });
      this.resolveReady();
    });
    return consumer;
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary } = payload;
    const all = batch.messages;
    for (let i = 0; i < all.length; i += this.options.maxBatchSize) {
      if (!isRunning() || isStale() || this.abort.signal.aborted) return;
      const chunk = all
        .slice(i, i + this.options.maxBatchSize)
        .map((m) => toConsumed(batch.topic, batch.partition, m));
      const handled = await deliver(chunk, {
        options: this.options,
        publishRaw: this.deps.publishRaw,
        logger: this.logger,
        stopping: () => this.abort.signal.aborted,
        sleep: this.sleep,
        deadLetterValue: this.config.deadLetterValue,
      });
      if (handled > 0) {
        const last = chunk[handled - 1]!.offset;
        resolveOffset(last);
        // Committed here, after the handler, and nowhere else: a crash before this line redelivers the chunk.
        // (The payload's commit, not consumer.commitOffsets, which silently skips once stop() began: a draining
        // batch must still commit.)
        await commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }],
            },
          ],
        });
      }
      if (handled < chunk.length) return;
      await heartbeat();
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      // kafkajs' disconnect waits for the batch in flight (which commits what it handled), then leaves the group.
      if (this.consumer) await this.consumer.disconnect().catch(() => undefined);
      this.rejectReady(new Error(`consumer group "${this.options.group}" was stopped before it joined`));
      this.resolveFinished();
    })();
    return this.stopping;
  }
}
