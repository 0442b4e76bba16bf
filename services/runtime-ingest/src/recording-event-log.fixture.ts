// A fake of the EventLog port for this service's unit tests: records what is published, delivers to subscribers
// in publish order, and can be made slow (publish waits on a gate) or failing. It mirrors nest-kit's
// InMemoryEventLog, which that package does not export; the real adapters are covered by libs/event-log's
// contract suite.
import type {
  BatchHandler,
  ConsumedRecord,
  EventLog,
  LogRecord,
  PartitionLag,
  SubscribeOptions,
  Subscription,
} from '@vigil/event-log';

export class RecordingEventLog implements EventLog {
  readonly published: LogRecord[] = [];
  /** Set: publish rejects with this message. */
  failWith: string | undefined;
  /** Set: publish waits for this promise before it records (a slow log). */
  gate: Promise<void> | undefined;
  publishCalls = 0;
  private readonly handlers: { topics: string[]; handler: BatchHandler }[] = [];

  async ensureTopics(): Promise<void> {}

  async publish(records: LogRecord[]): Promise<void> {
    this.publishCalls++;
    if (this.gate) await this.gate;
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
    const entry = { topics: options.topics, handler: options.handler };
    this.handlers.push(entry);
    return {
      ready: Promise.resolve(),
      stop: async () => {
        this.handlers.splice(this.handlers.indexOf(entry), 1);
      },
    };
  }

  async replay(): Promise<void> {
    throw new Error('RecordingEventLog.replay is not used by these tests');
  }

  async lag(): Promise<PartitionLag[]> {
    return [];
  }

  async ping(): Promise<boolean> {
    return this.failWith === undefined;
  }

  async close(): Promise<void> {}
}
