import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { TOPICS } from '@vigil/contracts';
import { isConnectionError, type Sql, type SqlQueryable } from '@vigil/store';
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
import { assignPartitions, type GroupMember } from './assignment.js';
import { deliver, errorText, stoppableSleep } from './delivery.js';
import { applySchema, checkSchemaName } from './embedded.schema.js';
import { defaultLogger } from './logger.js';
import { partitionForKey } from './murmur2.js';
import { traced } from './traced.js';
import {
  checkRecords,
  checkTopicName,
  checkTopicSpecs,
  resolveSubscribeOptions,
  type ResolvedSubscribeOptions,
} from './validation.js';

export interface EmbeddedEventLogOptions {
  /** The database holding the log (the caller owns it: close() does not close it). */
  sql: Sql;
  /** Schema of the log's tables. Default 'vigil_log'. */
  schema?: string;
  logger?: EventLogLogger;
  /** A member that has not heartbeated for this long loses its partitions. Default 10 s. */
  sessionTimeoutMs?: number;
  /** Default sessionTimeoutMs / 4. */
  heartbeatIntervalMs?: number;
  /** Safety-net poll when no notification arrives (NOTIFY is the normal wake-up). Default 1000 ms. */
  pollIntervalMs?: number;
  /** ping() answers false after this long. Default 2000 ms. */
  pingTimeoutMs?: number;
  /** Wrap the log in the trace-context propagation of traced(). Default true. */
  tracing?: boolean;
  /** Value of dead-letter records (e.g. a DeadLettered envelope). Default: the failed record's own bytes. */
  deadLetterValue?: DeadLetterValue;
}

/** The embedded adapter of the EventLog port: an append-only Postgres table, consumer groups in tables. */
export function createEmbeddedEventLog(options: EmbeddedEventLogOptions): EventLog {
  const log = new EmbeddedEventLog(options);
  return options.tracing === false ? log : traced(log);
}

interface Settings {
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  pollIntervalMs: number;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1)
    throw new Error(
      `createEmbeddedEventLog: ${name}=${String(v)} (expected a positive integer of milliseconds)`,
    );
  return x;
}

interface RecordRow {
  offset: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
  ts: number;
}

class EmbeddedEventLog implements EventLog {
  private readonly sql: Sql;
  private readonly s: string;
  private readonly channel: string;
  private readonly logger: EventLogLogger;
  private readonly settings: Settings;
  private readonly pingTimeoutMs: number;
  private ready: Promise<void> | undefined;
  private readonly partitionCounts = new Map<string, number>();
  private readonly subscriptions = new Set<EmbeddedSubscription>();
  private unlisten: Promise<(() => Promise<void>) | undefined> | undefined;
  private closed = false;
  private lastPing: boolean | undefined;
  private readonly deadLetterValue: DeadLetterValue | undefined;

  constructor(options: EmbeddedEventLogOptions) {
    this.deadLetterValue = options?.deadLetterValue;
    if (!options?.sql || typeof options.sql.query !== 'function') {
      throw new Error('createEmbeddedEventLog: sql is missing (expected the Sql port of @vigil/store)');
    }
    this.sql = options.sql;
    this.s = checkSchemaName(options.schema ?? 'vigil_log');
    this.channel = `${this.s}.wake`;
    this.logger = options.logger ?? defaultLogger;
    const sessionTimeoutMs = positiveInt('sessionTimeoutMs', options.sessionTimeoutMs, 10_000);
    const heartbeatIntervalMs = positiveInt(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs,
      Math.max(1, Math.floor(sessionTimeoutMs / 4)),
    );
    if (heartbeatIntervalMs >= sessionTimeoutMs) {
      throw new Error(
        `createEmbeddedEventLog: heartbeatIntervalMs (${heartbeatIntervalMs}) must be below sessionTimeoutMs (${sessionTimeoutMs})`,
      );
    }
    this.settings = {
      sessionTimeoutMs,
      heartbeatIntervalMs,
      pollIntervalMs: positiveInt('pollIntervalMs', options.pollIntervalMs, 1000),
    };
    this.pingTimeoutMs = positiveInt('pingTimeoutMs', options.pingTimeoutMs, 2000);
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('event-log: the embedded event log is closed');
  }

  /** Applies the schema once per instance; a failure (database down) is retried by the next call. */
  private init(): Promise<void> {
    this.checkOpen();
    this.ready ??= applySchema(this.sql, this.s).then(
      (applied) => {
        if (applied.length)
          this.logger.info(`embedded log schema "${this.s}" at version ${applied[applied.length - 1]}`);
      },
      (err) => {
        this.ready = undefined;
        throw new Error(
          `event-log: cannot prepare the embedded log's tables in schema "${this.s}": ${errorText(err)}`,
          { cause: err },
        );
      },
    );
    return this.ready;
  }

  private async topicPartitions(topics: string[], where: string): Promise<Map<string, number>> {
    const missing = topics.filter((t) => !this.partitionCounts.has(t));
    if (missing.length) {
      const rows = await this.sql.query<{ name: string; partitions: number }>(
        `SELECT name, partitions FROM ${this.s}.topics WHERE name = ANY($1::text[])`,
        [missing],
      );
      for (const r of rows.rows) this.partitionCounts.set(r.name, Number(r.partitions));
    }
    const out = new Map<string, number>();
    for (const t of topics) {
      const n = this.partitionCounts.get(t);
      if (n === undefined)
        throw new Error(
          `${where}: topic "${t}" does not exist on the embedded log (create it with ensureTopics first)`,
        );
      out.set(t, n);
    }
    return out;
  }

  async ensureTopics(topics: TopicSpec[]): Promise<void> {
    checkTopicSpecs(topics);
    await this.init();
    if (topics.length === 0) return;
    await this.sql.transaction(async (tx) => {
      await tx.query(
        `INSERT INTO ${this.s}.topics (name, partitions) SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT (name) DO NOTHING`,
        [topics.map((t) => t.name), topics.map((t) => t.partitions)],
      );
      // Counters for the partitions of the topic as stored (an existing topic keeps its own partition count).
      await tx.query(
        `INSERT INTO ${this.s}.partitions (topic, partition)
         SELECT t.name, g FROM ${this.s}.topics t, generate_series(0, t.partitions - 1) AS g WHERE t.name = ANY($1::text[])
         ON CONFLICT DO NOTHING`,
        [topics.map((t) => t.name)],
      );
    });
  }

  async publish(records: LogRecord[]): Promise<void> {
    checkRecords(records);
    if (records.length === 0) return;
    await this.init();
    const counts = await this.topicPartitions([...new Set(records.map((r) => r.topic))], 'publish');
    const groups = new Map<string, { topic: string; partition: number; records: LogRecord[] }>();
    for (const r of records) {
      const partition = partitionForKey(r.key, counts.get(r.topic)!);
      const id = `${r.topic}\u0000${partition}`;
      let g = groups.get(id);
      if (!g) groups.set(id, (g = { topic: r.topic, partition, records: [] }));
      g.records.push(r);
    }
    // Partition counters are locked in one global order so concurrent publishers cannot deadlock.
    const ordered = [...groups.values()].sort((a, b) =>
      a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition,
    );
    await this.sql.transaction(async (tx) => {
      const topic: string[] = [];
      const partition: number[] = [];
      const offset: string[] = [];
      const key: string[] = [];
      const value: Buffer[] = [];
      const headers: string[] = [];
      for (const g of ordered) {
        const n = g.records.length;
        const r = await tx.query<{ first: string }>(
          `UPDATE ${this.s}.partitions SET next_offset = next_offset + $3 WHERE topic = $1 AND partition = $2 RETURNING (next_offset - $3)::text AS first`,
          [g.topic, g.partition, n],
        );
        const first = r.rows[0]?.first;
        if (first === undefined)
          throw new Error(`publish: partition ${g.partition} of topic "${g.topic}" has no offset counter`);
        let next = BigInt(first);
        for (const rec of g.records) {
          topic.push(g.topic);
          partition.push(g.partition);
          offset.push((next++).toString());
          key.push(rec.key);
          value.push(
            Buffer.isBuffer(rec.value)
              ? rec.value
              : Buffer.from(rec.value.buffer, rec.value.byteOffset, rec.value.byteLength),
          );
          headers.push(JSON.stringify(rec.headers ?? {}));
        }
      }
      await tx.query(
        `INSERT INTO ${this.s}.records (topic, partition, "offset", key, value, headers)
         SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::bytea[], $6::jsonb[])`,
        [topic, partition, offset, key, value, headers],
      );
      // Delivered at COMMIT, so a woken consumer always finds the rows.
      await tx.query(`SELECT pg_notify($1, 'r:' || t) FROM unnest($2::text[]) AS t`, [
        this.channel,
        [...counts.keys()],
      ]);
    });
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.checkOpen();
    const resolved = resolveSubscribeOptions(options, TOPICS.deadLetter);
    const prepare = async () => {
      await this.init();
      await this.topicPartitions(resolved.topics, `subscribe (group "${resolved.group}")`);
      await this.ensureTopics([{ name: resolved.deadLetterTopic, partitions: 1 }]);
      await this.listen();
    };
    let prepared = true;
    try {
      await prepare();
    } catch (err) {
      // A missing topic is the caller's mistake and fails here; an unreachable database is an outage: the member
      // keeps retrying in the background (readiness reports it through ping) instead of crashing its service.
      if (!isConnectionError(err) && !isConnectionError((err as { cause?: unknown }).cause)) throw err;
      prepared = false;
    }
    const sub = new EmbeddedSubscription(
      this.sql,
      this.s,
      this.channel,
      this.settings,
      this.logger,
      resolved,
      {
        publishRaw: (records) => this.publish(records),
        topicPartitions: (topics) => this.topicPartitions(topics, `subscribe (group "${resolved.group}")`),
        fetch: (q, topic, partition, from, limit) => this.fetch(q, topic, partition, from, limit),
        prepare: prepared ? undefined : prepare,
        deadLetterValue: this.deadLetterValue,
      },
    );
    this.subscriptions.add(sub);
    void sub.finished.then(() => this.subscriptions.delete(sub));
    sub.start();
    if (!resolved.ephemeral) return sub;
    return {
      ready: sub.ready,
      stop: async () => {
        await sub.stop();
        // Only once no member is left: another process may (wrongly) share the group.
        try {
          await this.sql.query(
            `DELETE FROM ${this.s}.positions WHERE group_id = $1
                AND NOT EXISTS (SELECT 1 FROM ${this.s}.members WHERE group_id = $1)`,
            [resolved.group],
          );
        } catch (err) {
          this.logger.warn(
            `embedded log: could not delete the ephemeral group "${resolved.group}": ${errorText(err)}`,
          );
        }
      },
    };
  }

  /** One LISTEN connection per log instance, shared by its subscriptions; polling covers a lost connection. */
  private async listen(): Promise<void> {
    this.unlisten ??= this.sql
      .listen(this.channel, (payload) => this.onNotify(payload))
      .catch((err) => {
        this.unlisten = undefined;
        this.logger.warn(`embedded log: LISTEN failed, consumers fall back to polling: ${errorText(err)}`);
        return undefined;
      });
    await this.unlisten;
  }

  private onNotify(payload: string): void {
    const kind = payload.slice(0, 2);
    const name = payload.slice(2);
    for (const sub of this.subscriptions) {
      if (kind === 'r:' && sub.options.topics.includes(name)) sub.wake(false);
      else if (kind === 'g:' && sub.options.group === name) sub.wake(true);
    }
  }

  private async fetch(
    q: SqlQueryable,
    topic: string,
    partition: number,
    from: bigint,
    limit: number,
  ): Promise<ConsumedRecord[]> {
    const rows = await q.query<RecordRow>(
      `SELECT r."offset"::text AS "offset", r.key, r.value, r.headers, floor(extract(epoch FROM r.ts) * 1000)::float8 AS ts
       FROM ${this.s}.records r WHERE r.topic = $1 AND r.partition = $2 AND r."offset" >= $3 ORDER BY r."offset" LIMIT $4`,
      [topic, partition, from.toString(), limit],
    );
    return rows.rows.map((r) => ({
      topic,
      partition,
      offset: r.offset,
      key: r.key,
      value: new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength),
      headers: r.headers ?? {},
      timestamp: Number(r.ts),
    }));
  }

  /** Partition by partition, from offset 0 to the end committed when replay starts; no group, nothing committed. */
  async replay(topics: string[], handler: BatchHandler): Promise<void> {
    if (!Array.isArray(topics) || topics.length === 0) throw new Error('replay: no topics given');
    topics.forEach((t) => checkTopicName(t, 'replay'));
    if (typeof handler !== 'function') throw new Error('replay: handler is not a function');
    await this.init();
    await this.topicPartitions(topics, 'replay');
    const ends = await this.sql.query<{ topic: string; partition: number; end: string }>(
      `SELECT topic, partition, next_offset::text AS end FROM ${this.s}.partitions WHERE topic = ANY($1::text[]) ORDER BY topic, partition`,
      [topics],
    );
    for (const e of ends.rows) {
      const end = BigInt(e.end);
      let from = 0n;
      while (from < end) {
        const batch = await this.fetch(
          this.sql,
          e.topic,
          Number(e.partition),
          from,
          Number(end - from < 1000n ? end - from : 1000n),
        );
        if (batch.length === 0) break;
        await handler(batch);
        from = BigInt(batch[batch.length - 1]!.offset) + 1n;
      }
    }
  }

  async lag(group: string, topics: string[]): Promise<PartitionLag[]> {
    topics.forEach((t) => checkTopicName(t, 'lag'));
    await this.init();
    await this.topicPartitions(topics, 'lag');
    const rows = await this.sql.query<{ topic: string; partition: number; end: string; committed: string }>(
      `SELECT p.topic, p.partition, p.next_offset::text AS end, coalesce(pos.next_offset, -1)::text AS committed
       FROM ${this.s}.partitions p
       LEFT JOIN ${this.s}.positions pos ON pos.group_id = $1 AND pos.topic = p.topic AND pos.partition = p.partition
       WHERE p.topic = ANY($2::text[]) ORDER BY p.topic, p.partition`,
      [group, topics],
    );
    return rows.rows.map((r) => {
      const committed = BigInt(r.committed);
      return {
        topic: r.topic,
        partition: Number(r.partition),
        end: r.end,
        committed: r.committed,
        lag: Number(BigInt(r.end) - (committed < 0n ? 0n : committed)),
      };
    });
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    let t: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.sql.query('SELECT 1'),
        new Promise(
          (_, reject) =>
            (t = setTimeout(
              () => reject(new Error(`no answer within ${this.pingTimeoutMs} ms`)),
              this.pingTimeoutMs,
            )),
        ),
      ]);
      if (this.lastPing === false) this.logger.info('embedded log: the database answers again');
      this.lastPing = true;
      return true;
    } catch (err) {
      // Readiness probes ping every few seconds: say it when the answer changes, not on every probe.
      if (this.lastPing !== false)
        this.logger.warn(`embedded log: the database does not answer: ${errorText(err)}`);
      this.lastPing = false;
      return false;
    } finally {
      clearTimeout(t);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    const unlisten = await this.unlisten;
    if (unlisten) await unlisten().catch(() => undefined);
  }
}

interface SubscriptionDeps {
  publishRaw(records: LogRecord[]): Promise<void>;
  topicPartitions(topics: string[]): Promise<Map<string, number>>;
  fetch(
    q: SqlQueryable,
    topic: string,
    partition: number,
    from: bigint,
    limit: number,
  ): Promise<ConsumedRecord[]>;
  deadLetterValue: DeadLetterValue | undefined;
  /** Set when subscribe could not reach the database: run once (with retries) before joining. */
  prepare: (() => Promise<void>) | undefined;
}

interface OwnedPartition {
  topic: string;
  partition: number;
  /** Next offset to hand to the handler. */
  position: bigint;
}

const pkey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * One member of a consumer group. Its loop: heartbeat and settle the assignment (release what is no longer ours,
 * claim what is ours and free), then for each owned partition fetch a batch after the committed position, deliver
 * it, and commit — fenced on still owning the partition, so a member that lost a partition cannot move its position.
 */
class EmbeddedSubscription implements Subscription {
  readonly ready: Promise<void>;
  readonly finished: Promise<void>;
  private resolveReady!: () => void;
  private rejectReady!: (err: Error) => void;
  private resolveFinished!: () => void;
  private readonly memberId = `${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`;
  private readonly abort = new AbortController();
  private readonly sleep = stoppableSleep(this.abort.signal);
  private readonly owned = new Map<string, OwnedPartition>();
  private rebalanceNeeded = true;
  private lastRebalance = 0;
  private woken = false;
  private wakeWaiter: (() => void) | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private loop: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private joined = false;

  constructor(
    private readonly sql: Sql,
    private readonly s: string,
    private readonly channel: string,
    private readonly settings: Settings,
    private readonly logger: EventLogLogger,
    readonly options: ResolvedSubscribeOptions,
    private readonly deps: SubscriptionDeps,
  ) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => undefined);
    this.finished = new Promise<void>((r) => (this.resolveFinished = r));
  }

  start(): void {
    // Heartbeats run on their own timer so a slow handler does not cost the member its partitions.
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.settings.heartbeatIntervalMs);
    this.heartbeatTimer.unref();
    this.loop = this.run();
  }

  wake(rebalance: boolean): void {
    if (rebalance) this.rebalanceNeeded = true;
    if (this.wakeWaiter) this.wakeWaiter();
    else this.woken = true;
  }

  private async waitForWake(ms: number): Promise<void> {
    if (this.woken || this.abort.signal.aborted) {
      this.woken = false;
      return;
    }
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.abort.signal.removeEventListener('abort', done);
        this.wakeWaiter = undefined;
        resolve();
      };
      const t = setTimeout(done, Math.max(1, ms));
      this.abort.signal.addEventListener('abort', done, { once: true });
      this.wakeWaiter = done;
    });
    this.woken = false;
  }

  private async heartbeat(): Promise<void> {
    if (!this.joined || this.abort.signal.aborted) return;
    try {
      await this.sql.query(
        `UPDATE ${this.s}.members SET heartbeat_at = now() WHERE group_id = $1 AND member_id = $2`,
        [this.options.group, this.memberId],
      );
    } catch (err) {
      this.logger.warn(`embedded log: heartbeat of group "${this.options.group}" failed: ${errorText(err)}`);
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    let prepare = this.deps.prepare;
    while (!this.abort.signal.aborted) {
      try {
        if (prepare) {
          await prepare();
          prepare = undefined;
        }
        const sinceRebalance = Date.now() - this.lastRebalance;
        if (this.rebalanceNeeded || sinceRebalance >= this.settings.heartbeatIntervalMs)
          await this.rebalance();
        let worked = false;
        for (const p of [...this.owned.values()]) {
          if (this.abort.signal.aborted || this.rebalanceNeeded) break;
          if (await this.pump(p)) worked = true;
        }
        failures = 0;
        if (!worked) {
          const untilRebalance = this.settings.heartbeatIntervalMs - (Date.now() - this.lastRebalance);
          await this.waitForWake(Math.min(this.settings.pollIntervalMs, untilRebalance));
        }
      } catch (err) {
        failures++;
        const wait = Math.min(30_000, 250 * 2 ** Math.min(failures - 1, 7));
        this.logger.error(
          `embedded log: consumer group "${this.options.group}" failed: ${errorText(err)}; retrying in ${wait} ms`,
          {
            group: this.options.group,
            memberId: this.memberId,
          },
        );
        this.rebalanceNeeded = true;
        await this.sleep(wait);
      }
    }
    await this.leave();
  }

  private async rebalance(): Promise<void> {
    const { group, topics } = this.options;
    const session = this.settings.sessionTimeoutMs;
    await this.sql.query(
      `INSERT INTO ${this.s}.members (group_id, member_id, topics) VALUES ($1, $2, $3::text[])
       ON CONFLICT (group_id, member_id) DO UPDATE SET heartbeat_at = now(), topics = EXCLUDED.topics`,
      [group, this.memberId, topics],
    );
    if (!this.joined) {
      this.joined = true;
      // Existing members re-deal at once instead of at their next heartbeat.
      await this.sql.query(`SELECT pg_notify($1, $2)`, [this.channel, `g:${group}`]);
    }
    this.rebalanceNeeded = false;
    this.lastRebalance = Date.now();
    // Rows of members long dead (killed, never left) are garbage; their partitions were claimable all along.
    await this.sql.query(
      `DELETE FROM ${this.s}.members WHERE group_id = $1 AND heartbeat_at < now() - $2 * interval '1 millisecond'`,
      [group, session * 10],
    );
    const live = await this.sql.query<{ member_id: string; topics: string[] }>(
      `SELECT member_id, topics FROM ${this.s}.members WHERE group_id = $1 AND heartbeat_at > now() - $2 * interval '1 millisecond'`,
      [group, session],
    );
    const members: GroupMember[] = live.rows.map((r) => ({ memberId: r.member_id, topics: r.topics }));
    const allTopics = [...new Set(members.flatMap((m) => m.topics))];
    const counts = await this.deps.topicPartitions(allTopics);
    const mine = assignPartitions(members, counts).get(this.memberId) ?? [];
    const mineTopics = mine.map((p) => p.topic);
    const mineParts = mine.map((p) => p.partition);

    const released = await this.sql.query<{ topic: string; partition: number }>(
      `DELETE FROM ${this.s}.assignments WHERE group_id = $1 AND member_id = $2
         AND (topic, partition) NOT IN (SELECT * FROM unnest($3::text[], $4::int[]))
       RETURNING topic, partition`,
      [group, this.memberId, mineTopics, mineParts],
    );
    for (const r of released.rows) this.owned.delete(pkey(r.topic, Number(r.partition)));
    if (released.rowCount > 0) await this.sql.query(`SELECT pg_notify($1, $2)`, [this.channel, `g:${group}`]);

    // Claim what is ours: free rows, our own rows, and rows of members whose session expired.
    const claimed = await this.sql.query<{ topic: string; partition: number }>(
      `INSERT INTO ${this.s}.assignments AS a (group_id, topic, partition, member_id)
       SELECT $1, t, p, $2 FROM unnest($3::text[], $4::int[]) AS x(t, p)
       ON CONFLICT (group_id, topic, partition) DO UPDATE SET member_id = EXCLUDED.member_id, claimed_at = now()
       WHERE a.member_id = EXCLUDED.member_id
          OR NOT EXISTS (SELECT 1 FROM ${this.s}.members m WHERE m.group_id = a.group_id AND m.member_id = a.member_id
                         AND m.heartbeat_at > now() - $5 * interval '1 millisecond')
       RETURNING topic, partition`,
      [group, this.memberId, mineTopics, mineParts, session],
    );
    const now = new Set(claimed.rows.map((r) => pkey(r.topic, Number(r.partition))));
    for (const id of [...this.owned.keys()]) if (!now.has(id)) this.owned.delete(id);
    for (const r of claimed.rows) {
      const partition = Number(r.partition);
      const id = pkey(r.topic, partition);
      if (this.owned.has(id)) continue;
      // Always re-read the position: the previous owner may have committed since we last looked.
      const position = await this.initialPosition(r.topic, partition);
      this.owned.set(id, { topic: r.topic, partition, position });
    }
    if (now.size === mine.length) this.resolveReady();
    // Settled, waiting for others to release: look again soon even if their notification is missed.
    else
      this.lastRebalance =
        Date.now() - this.settings.heartbeatIntervalMs + Math.min(this.settings.pollIntervalMs, 250);
  }

  private async initialPosition(topic: string, partition: number): Promise<bigint> {
    const { group, start } = this.options;
    if (start === 'latest') {
      // Pin 'latest' as a committed position once, so a later owner does not skip what arrived in between.
      await this.sql.query(
        `INSERT INTO ${this.s}.positions (group_id, topic, partition, next_offset)
         SELECT $1, topic, partition, next_offset FROM ${this.s}.partitions WHERE topic = $2 AND partition = $3
         ON CONFLICT DO NOTHING`,
        [group, topic, partition],
      );
    }
    const r = await this.sql.query<{ next_offset: string }>(
      `SELECT next_offset::text AS next_offset FROM ${this.s}.positions WHERE group_id = $1 AND topic = $2 AND partition = $3`,
      [group, topic, partition],
    );
    return BigInt(r.rows[0]?.next_offset ?? '0');
  }

  /** Delivers one batch of one partition; false when there was nothing to read. */
  private async pump(p: OwnedPartition): Promise<boolean> {
    const records = await this.deps.fetch(
      this.sql,
      p.topic,
      p.partition,
      p.position,
      this.options.maxBatchSize,
    );
    if (records.length === 0) return false;
    const handled = await deliver(records, {
      options: this.options,
      publishRaw: this.deps.publishRaw,
      logger: this.logger,
      stopping: () => this.abort.signal.aborted,
      sleep: this.sleep,
      deadLetterValue: this.deps.deadLetterValue,
    });
    if (handled === 0) return true;
    const next = BigInt(records[handled - 1]!.offset) + 1n;
    // Committed only after the handler, and only while this member still owns the partition. GREATEST keeps a
    // late commit from moving a position backwards.
    const r = await this.sql.query(
      `INSERT INTO ${this.s}.positions AS pos (group_id, topic, partition, next_offset)
       SELECT $1, $2, $3, $4::bigint WHERE EXISTS (
         SELECT 1 FROM ${this.s}.assignments WHERE group_id = $1 AND topic = $2 AND partition = $3 AND member_id = $5)
       ON CONFLICT (group_id, topic, partition) DO UPDATE
         SET next_offset = GREATEST(pos.next_offset, EXCLUDED.next_offset), committed_at = now()
       RETURNING next_offset`,
      [this.options.group, p.topic, p.partition, next.toString(), this.memberId],
    );
    if (r.rowCount === 0) {
      this.logger.warn(
        `embedded log: group "${this.options.group}" lost partition ${p.partition} of "${p.topic}" before committing; its new owner redelivers`,
      );
      this.owned.delete(pkey(p.topic, p.partition));
      this.rebalanceNeeded = true;
    } else {
      p.position = next;
    }
    return true;
  }

  private async leave(): Promise<void> {
    clearInterval(this.heartbeatTimer);
    try {
      if (this.joined) {
        await this.sql.transaction(async (tx) => {
          await tx.query(`DELETE FROM ${this.s}.assignments WHERE group_id = $1 AND member_id = $2`, [
            this.options.group,
            this.memberId,
          ]);
          await tx.query(`DELETE FROM ${this.s}.members WHERE group_id = $1 AND member_id = $2`, [
            this.options.group,
            this.memberId,
          ]);
          await tx.query(`SELECT pg_notify($1, $2)`, [this.channel, `g:${this.options.group}`]);
        });
      }
    } catch (err) {
      // The session timeout frees the partitions anyway.
      this.logger.warn(
        `embedded log: group "${this.options.group}" could not leave cleanly: ${errorText(err)}`,
      );
    } finally {
      this.rejectReady(new Error(`consumer group "${this.options.group}" was stopped before it joined`));
      this.resolveFinished();
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.abort.abort();
      this.wake(false);
      await this.loop;
    })();
    return this.stopping;
  }
}
