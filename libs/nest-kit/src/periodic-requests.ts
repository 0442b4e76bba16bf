import { createHash } from 'node:crypto';

/**
 * A UUID-shaped id from a name: every replica that asks for the same thing (the same tick of a schedule, the same
 * change) mints the same event id, so consumers idempotent on event id see one request.
 */
export function nameBasedId(name: string): string {
  const h = createHash('sha256').update(name).digest('hex');
  const variant = ((parseInt(h.slice(16, 17), 16) & 3) | 8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Calls `tick(bucketStartMs)` at once and then at the start of every interval (aligned to the epoch, so replicas
 * agree on the buckets). Returns a stop function. A tick that throws is the caller's to log; the schedule goes on.
 */
export function everyInterval(
  intervalMs: number,
  tick: (bucketStartMs: number) => Promise<void>,
  clock: () => Date = () => new Date(),
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const run = () => {
    if (stopped) return;
    const now = clock().getTime();
    const bucket = Math.floor(now / intervalMs) * intervalMs;
    void tick(bucket).catch(() => undefined);
    timer = setTimeout(run, Math.max(1, bucket + intervalMs - now));
    timer.unref?.();
  };
  run();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
