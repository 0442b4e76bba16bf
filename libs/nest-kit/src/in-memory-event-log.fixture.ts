// A fake of the EventLog port for unit tests (the kit's, and services' through `@vigil/nest-kit/testing`): records
// what is published, delivers to subscribers in publish order, and can be switched "unreachable", made slow
// (publish waits on a gate) or failing. The real adapters are covered by libs/event-log's contract suite and by
// the services' integration tests against Kafka.
import type {
  BatchHandler,
  ConsumedRecord,
  EventLog,
  LogRecord,
  PartitionLag,
  SubscribeOptions,
  Subscription,
  TopicSpec,
} from '@vigil/event-log';

export class InMemoryEventLog implements EventLog {
  reachable = true;
  /** Set: publish rejects with this message (and ping answers false). */
  failWith: string | undefined;
  /** Set: publish waits for this promise before it records (a slow log). */
  gate: Promise<void> | undefined;
  publishCalls = 0;
  readonly published: LogRecord[] = [];
  readonly topics = new Map<string, number>();
  /** What happened, in order: "ensureTopics", "subscribe <group>", "stop <group>", "close". */
  readonly calls: string[] = [];
  private readonly handlers: { group: string; topics: string[]; handler: BatchHandler }[] = [];

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    this.calls.push('ensureTopics');
    if (!this.reachable) throw new Error('connect ECONNREFUSED (fake log is down)');
    for (const t of topics) if (!this.topics.has(t.name)) this.topics.set(t.name, t.partitions);
  }

  async publish(records: LogRecord[]): Promise<void> {
    this.publishCalls++;
    if (this.gate) await this.gate;
    if (!this.reachable) throw new Error('fake log is down');
    if (this.failWith) throw new Error(this.failWith);
    for (const r of records) {
      this.published.push(r);
      const consumed: ConsumedRecord = {
        topic: r.topic,
        partition: 0,
        offset: String(this.published.length - 1),
        key: r.key,
        value: r.value,
        headers: r.headers ?? {},
        timestamp: Date.now(),
      };
      for (const h of this.handlers) if (h.topics.includes(r.topic)) await h.handler([consumed]);
    }
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.calls.push(`subscribe ${options.group}`);
    const entry = { group: options.group, topics: options.topics, handler: options.handler };
    this.handlers.push(entry);
    return {
      ready: Promise.resolve(),
      stop: async () => {
        this.calls.push(`stop ${options.group}`);
        this.handlers.splice(this.handlers.indexOf(entry), 1);
      },
    };
  }

  async replay(): Promise<void> {
    throw new Error('InMemoryEventLog.replay is not used by these tests');
  }

  async lag(): Promise<PartitionLag[]> {
    return [];
  }

  async ping(): Promise<boolean> {
    return this.reachable && this.failWith === undefined;
  }

  async close(): Promise<void> {
    this.calls.push('close');
  }
}
