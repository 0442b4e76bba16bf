// Tests share one broker and one database server: every topic, group and database a test makes gets its own name.
import { randomBytes } from 'node:crypto';

let counter = 0;

/**
 * `<prefix>-<pid base36>-<counter>-<random>`: unique across the test files running at once (pid), within a
 * file (counter) and across runs on a broker that keeps its data (random). Only [a-z0-9_-] after the prefix, so
 * the result is a valid Kafka topic, group id and Postgres database name; at most 63 characters (Postgres' limit).
 */
export function uniqueName(prefix: string): string {
  if (!/^[a-z][a-z0-9._-]{0,39}$/.test(prefix)) {
    throw new Error(
      `uniqueName: prefix "${prefix}" must start with a lowercase letter and have at most 40 of [a-z0-9._-]`,
    );
  }
  counter += 1;
  return `${prefix}-${process.pid.toString(36)}-${counter.toString(36)}-${randomBytes(4).toString('hex')}`;
}
