import type { LogRecord, SubscribeOptions, TopicSpec } from './event-log.port.js';

// Bad input fails before anything reaches the server, with the field and the problem named.

const TOPIC_NAME = /^[A-Za-z0-9._-]{1,249}$/;

export function checkTopicName(name: unknown, where: string): string {
  if (typeof name !== 'string' || !TOPIC_NAME.test(name) || name === '.' || name === '..') {
    throw new Error(
      `${where}: invalid topic name ${JSON.stringify(name)} (1-249 characters of letters, digits, ".", "_" or "-")`,
    );
  }
  return name;
}

export function checkTopicSpecs(topics: TopicSpec[]): void {
  if (!Array.isArray(topics)) throw new Error('ensureTopics: expected an array of { name, partitions }');
  for (const t of topics) {
    checkTopicName(t?.name, 'ensureTopics');
    if (!Number.isInteger(t.partitions) || t.partitions < 1 || t.partitions > 10_000) {
      throw new Error(
        `ensureTopics: topic "${t.name}" has partitions=${String(t.partitions)} (expected an integer from 1 to 10000)`,
      );
    }
  }
}

export function checkRecords(records: LogRecord[]): void {
  if (!Array.isArray(records)) throw new Error('publish: expected an array of records');
  records.forEach((r, i) => {
    checkTopicName(r?.topic, `publish: record ${i}`);
    if (typeof r.key !== 'string' || r.key.length === 0) {
      throw new Error(
        `publish: record ${i} (topic "${r.topic}") has no key: order is kept per key, so every record needs one`,
      );
    }
    if (!(r.value instanceof Uint8Array)) {
      throw new Error(
        `publish: record ${i} (topic "${r.topic}", key "${r.key}") has a value that is not a Uint8Array`,
      );
    }
    if (r.headers !== undefined) {
      for (const [k, v] of Object.entries(r.headers)) {
        if (typeof v !== 'string') throw new Error(`publish: record ${i} header "${k}" is not a string`);
      }
    }
  });
}

export interface ResolvedSubscribeOptions {
  group: string;
  topics: string[];
  handler: SubscribeOptions['handler'];
  start: 'earliest' | 'latest';
  maxAttempts: number;
  deadLetterTopic: string;
  maxBatchSize: number;
  retryBackoffMs: number;
  maxRetryBackoffMs: number;
  ephemeral: boolean;
}

export function resolveSubscribeOptions(
  o: SubscribeOptions,
  defaultDeadLetterTopic: string,
): ResolvedSubscribeOptions {
  if (!o || typeof o !== 'object') throw new Error('subscribe: expected options { group, topics, handler }');
  if (typeof o.group !== 'string' || !/^[A-Za-z0-9._:-]{1,200}$/.test(o.group)) {
    throw new Error(
      `subscribe: invalid group ${JSON.stringify(o.group)} (1-200 characters of letters, digits, ".", "_", ":" or "-")`,
    );
  }
  if (!Array.isArray(o.topics) || o.topics.length === 0)
    throw new Error(`subscribe: group "${o.group}" names no topics`);
  o.topics.forEach((t) => checkTopicName(t, `subscribe (group "${o.group}")`));
  if (typeof o.handler !== 'function')
    throw new Error(`subscribe: group "${o.group}" has no handler function`);
  const start = o.start ?? 'earliest';
  if (start !== 'earliest' && start !== 'latest') {
    throw new Error(
      `subscribe: group "${o.group}" has start=${JSON.stringify(start)} (expected "earliest" or "latest")`,
    );
  }
  const int = (name: string, v: number | undefined, dflt: number, min: number, max: number) => {
    const x = v ?? dflt;
    if (!Number.isInteger(x) || x < min || x > max) {
      throw new Error(
        `subscribe: group "${o.group}" has ${name}=${String(v)} (expected an integer from ${min} to ${max})`,
      );
    }
    return x;
  };
  const deadLetterTopic = checkTopicName(
    o.deadLetterTopic ?? defaultDeadLetterTopic,
    `subscribe (group "${o.group}")`,
  );
  if (o.topics.includes(deadLetterTopic)) {
    throw new Error(
      `subscribe: group "${o.group}" reads its own dead-letter topic "${deadLetterTopic}"; give it another deadLetterTopic`,
    );
  }
  return {
    group: o.group,
    topics: [...new Set(o.topics)],
    handler: o.handler,
    start,
    maxAttempts: int('maxAttempts', o.maxAttempts, 5, 1, 1000),
    deadLetterTopic,
    maxBatchSize: int('maxBatchSize', o.maxBatchSize, 500, 1, 100_000),
    retryBackoffMs: int('retryBackoffMs', o.retryBackoffMs, 200, 0, 600_000),
    maxRetryBackoffMs: int('maxRetryBackoffMs', o.maxRetryBackoffMs, 10_000, 0, 3_600_000),
    ephemeral: o.ephemeral === true,
  };
}
