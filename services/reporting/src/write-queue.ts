/**
 * The writes of one transaction, issued in order without the caller waiting for each: the projection computes the
 * next rows while Postgres writes the last ones. A connection runs one statement at a time, so the writes still
 * reach the database in the order they were queued.
 *
 * After the first failure the writes still queued are skipped (the transaction is aborted anyway); drain() throws
 * it. A caller that fails on its own must settle() before the transaction ends: a write issued after the ROLLBACK
 * would run outside the transaction.
 */
export class WriteQueue {
  private tail: Promise<void> = Promise.resolve();
  private failed = false;
  private failure: unknown;

  /** Queues one write; it starts when every write queued before it has finished. */
  push(write: () => Promise<unknown>): void {
    this.tail = this.tail.then(async () => {
      if (this.failed) return;
      try {
        await write();
      } catch (err) {
        this.failed = true;
        this.failure = err;
      }
    });
  }

  /** Waits for every queued write and throws the first failure. */
  async drain(): Promise<void> {
    await this.tail;
    if (this.failed) throw this.failure;
  }

  /** Skips what has not started yet and waits for what has, without throwing: the caller is failing already. */
  async settle(): Promise<void> {
    if (!this.failed) {
      this.failed = true;
      this.failure = new Error('abandoned: an earlier step of the transaction failed');
    }
    await this.tail;
  }
}

/** Lets I/O callbacks run (the connection's answers, so the next queued write is sent) before more CPU work. */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
