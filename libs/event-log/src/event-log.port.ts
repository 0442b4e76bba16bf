// The EventLog port: the only way services read and write the log. Two adapters implement it (Kafka and the
// embedded Postgres log) and one contract suite (event-log.contract.ts) holds both to the same behaviour.

/** One record as written. `value` is a binary protobuf EventEnvelope (see @vigil/contracts). */
export interface LogRecord {
  topic: string;
  /** Subject key: order is kept per key (same key, same partition). */
  key: string;
  value: Uint8Array;
  headers?: Record<string, string>;
}

/** One record as read back, with its position in the log. */
export interface ConsumedRecord {
  topic: string;
  partition: number;
  /** Offset within the partition, as a decimal string (Kafka offsets are int64). */
  offset: string;
  key: string;
  value: Uint8Array;
  headers: Record<string, string>;
  /** Milliseconds since the epoch, as recorded by the log. */
  timestamp: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
}

/** Handler for a batch of records from one partition, in log order. Throwing means "not handled". */
export type BatchHandler = (records: ConsumedRecord[]) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: members of one group split the partitions; each group sees every record. */
  group: string;
  topics: string[];
  handler: BatchHandler;
  /** Where a group with no committed position starts. Default: 'earliest'. */
  start?: 'earliest' | 'latest';
  /**
   * Handler calls that include a failing record before it goes to the dead-letter topic (the call with its whole
   * batch counts as the first; it always gets at least one call on its own). Default 5.
   */
  maxAttempts?: number;
  /** Default: TOPICS.deadLetter of @vigil/contracts. Created with one partition by subscribe when missing. */
  deadLetterTopic?: string;
  /** Records per handler call at most. Default 500. */
  maxBatchSize?: number;
  /** Wait before the first retry of a failed handler call; doubles per attempt. Default 200 ms. */
  retryBackoffMs?: number;
  /** Upper bound of the retry wait. Default 10 s. */
  maxRetryBackoffMs?: number;
  /**
   * The group is this subscription's alone (one per process, so every process reads every record): stop() also
   * deletes the group and its committed positions, so restarts do not leave dead groups behind. A process that is
   * killed leaves its group to the log's own expiry (Kafka: offsets.retention.minutes). Default false.
   */
  ephemeral?: boolean;
}

export interface Subscription {
  /** Resolves once the consumer has joined its group and been assigned partitions. */
  readonly ready: Promise<void>;
  /** Stops fetching, lets the batch in flight finish and commit, then leaves the group. */
  stop(): Promise<void>;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Next offset to be written. */
  end: string;
  /** The group's committed offset (next to read); '-1' when the group has none. */
  committed: string;
  lag: number;
}

/** Where both adapters send their own log lines (pino fits). Kafka client logs are mapped onto it too. */
export interface EventLogLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Headers a dead-lettered record carries besides its original ones. Its key and value are the original bytes, so
 * the record can be inspected with the normal decoder and re-published as it was.
 */
export const DEAD_LETTER_HEADERS = {
  error: 'dead-letter.error',
  topic: 'dead-letter.topic',
  partition: 'dead-letter.partition',
  offset: 'dead-letter.offset',
  group: 'dead-letter.group',
  attempts: 'dead-letter.attempts',
  failedAt: 'dead-letter.failed-at',
} as const;

/** Why a record was dead-lettered; the dead-letter headers carry the same facts. */
export interface DeadLetterFailure {
  error: string;
  group: string;
  attempts: number;
  failedAt: Date;
}

/**
 * Builds the value of a dead-letter record (adapter option `deadLetterValue`). Default: the original value bytes.
 * A service can wrap them in the contracts' DeadLettered envelope here; the log itself never decodes values.
 */
export type DeadLetterValue = (failed: ConsumedRecord, failure: DeadLetterFailure) => Uint8Array;

export interface EventLog {
  /** Creates missing topics with the given partition counts; existing topics are left as they are. */
  ensureTopics(topics: TopicSpec[]): Promise<void>;
  /** Appends records; resolves only once every record is durably on the log (Kafka: acks=-1). */
  publish(records: LogRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Reads the topics from the beginning to their current end without joining a group or committing. */
  replay(topics: string[], handler: BatchHandler): Promise<void>;
  /** How far a group is behind the end of the given topics. */
  lag(group: string, topics: string[]): Promise<PartitionLag[]>;
  /** True when the log's server answers now (used by readiness probes). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
