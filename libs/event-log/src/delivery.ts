import {
  DEAD_LETTER_HEADERS,
  type ConsumedRecord,
  type DeadLetterValue,
  type EventLogLogger,
  type LogRecord,
} from './event-log.port.js';
import type { ResolvedSubscribeOptions } from './validation.js';

// What both adapters do with one fetched batch of one partition: call the handler, retry with backoff, and
// dead-letter the record that keeps failing. The adapter commits the position after the records this returns
// as handled, so a crash anywhere before that commit redelivers them (at-least-once).

export interface DeliveryContext {
  options: ResolvedSubscribeOptions;
  /** Publishes to the dead-letter topic, bypassing tracing (the record keeps its own trace headers). */
  publishRaw(records: LogRecord[]): Promise<void>;
  logger: EventLogLogger;
  /** True once stop() was called: retries give up early and the unhandled rest is left for the next owner. */
  stopping(): boolean;
  /** Resolves early when stop() is called, so a long backoff does not hold up a shutdown. */
  sleep(ms: number): Promise<void>;
  /** The adapter's deadLetterValue option; without it the dead letter carries the original value. */
  deadLetterValue?: DeadLetterValue | undefined;
}

const MAX_ERROR_HEADER = 4096;

export function errorText(err: unknown): string {
  const e = err as { message?: unknown; name?: unknown };
  const text =
    typeof e?.message === 'string' && e.message ? `${String(e.name ?? 'Error')}: ${e.message}` : String(err);
  return text.length > MAX_ERROR_HEADER ? text.slice(0, MAX_ERROR_HEADER - 1) + '…' : text;
}

function backoff(ctx: DeliveryContext, retry: number): number {
  const { retryBackoffMs, maxRetryBackoffMs } = ctx.options;
  return Math.min(maxRetryBackoffMs, retryBackoffMs * 2 ** Math.max(0, retry - 1));
}

/**
 * Delivers `records` (one partition, log order) and returns how many of them, from the start, are done: handled,
 * or dead-lettered after maxAttempts. Less than records.length only when stopping.
 *
 * The whole batch is tried once; when that fails and the batch holds more than one record, the records are
 * retried one by one so that only the record that really fails is dead-lettered, after maxAttempts calls that
 * included it (the batch call counts as its first). Records before it are handled again: handlers are idempotent
 * by contract, exactly as after any redelivery.
 */
export async function deliver(records: ConsumedRecord[], ctx: DeliveryContext): Promise<number> {
  if (records.length === 0) return 0;
  const { handler, maxAttempts } = ctx.options;
  try {
    await handler(records);
    return records.length;
  } catch (err) {
    if (records.length === 1) return deliverOne(records[0]!, ctx, 1, err, true);
    ctx.logger.warn(`handler failed on a batch of ${records.length}; retrying its records one by one`, {
      group: ctx.options.group,
      topic: records[0]!.topic,
      partition: records[0]!.partition,
      fromOffset: records[0]!.offset,
      error: errorText(err),
      maxAttempts,
    });
  }
  for (let i = 0; i < records.length; i++) {
    if (ctx.stopping()) return i;
    const done = await deliverOne(records[i]!, ctx, 1, undefined, false);
    if (done === 0) return i;
  }
  return records.length;
}

/** Returns 1 when the record is handled or dead-lettered, 0 when stopping interrupted its retries. */
async function deliverOne(
  record: ConsumedRecord,
  ctx: DeliveryContext,
  attemptsSoFar: number,
  lastError: unknown,
  failedAlone: boolean,
): Promise<number> {
  const { handler, maxAttempts, group } = ctx.options;
  let attempts = attemptsSoFar;
  let error = lastError;
  // A record that only failed inside a batch gets at least one call of its own, without waiting: the failure may
  // have been another record's, and an innocent record must never be dead-lettered.
  let alone = failedAlone;
  while (attempts < maxAttempts || !alone) {
    if (alone) {
      await ctx.sleep(backoff(ctx, attempts));
      if (ctx.stopping()) return 0;
    }
    alone = true;
    attempts++;
    try {
      await handler([record]);
      return 1;
    } catch (err) {
      error = err;
    }
  }
  const message = errorText(error);
  ctx.logger.error(
    `handler failed ${attempts} times on one record; sending it to dead-letter topic "${ctx.options.deadLetterTopic}"`,
    {
      group,
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key,
      error: message,
    },
  );
  const failedAt = new Date();
  const value = ctx.deadLetterValue
    ? ctx.deadLetterValue(record, { error: message, group, attempts, failedAt })
    : record.value;
  await ctx.publishRaw([
    {
      topic: ctx.options.deadLetterTopic,
      key: record.key,
      value,
      headers: {
        ...record.headers,
        [DEAD_LETTER_HEADERS.error]: message,
        [DEAD_LETTER_HEADERS.topic]: record.topic,
        [DEAD_LETTER_HEADERS.partition]: String(record.partition),
        [DEAD_LETTER_HEADERS.offset]: record.offset,
        [DEAD_LETTER_HEADERS.group]: group,
        [DEAD_LETTER_HEADERS.attempts]: String(attempts),
        [DEAD_LETTER_HEADERS.failedAt]: failedAt.toISOString(),
      },
    },
  ]);
  return 1;
}

/** A sleep that a stop signal cuts short. */
export function stoppableSleep(signal: AbortSignal): (ms: number) => Promise<void> {
  return (ms) =>
    new Promise((resolve) => {
      if (signal.aborted || ms <= 0) return resolve();
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    });
}
