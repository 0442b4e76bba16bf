import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createEmbeddedEventLog } from './embedded.adapter.js';
import type { LogRecord } from './event-log.port.js';
import { createKafkaEventLog } from './kafka.adapter.js';
import { checkRecords, checkTopicSpecs } from './validation.js';

// Bad input fails before anything is sent, naming the record or option and the problem. None of these touch a server.

test('publish rejects records without a key, with a non-binary value or a bad topic', () => {
  const ok: LogRecord = { topic: 'scans', key: 'scan-1', value: new Uint8Array([1]) };
  assert.doesNotThrow(() => checkRecords([ok]));
  assert.throws(() => checkRecords([ok, { ...ok, key: '' }]), /record 1 \(topic "scans"\) has no key/);
  assert.throws(
    () => checkRecords([{ ...ok, value: 'text' as unknown as Uint8Array }]),
    /key "scan-1"\) has a value that is not a Uint8Array/,
  );
  assert.throws(
    () => checkRecords([{ ...ok, topic: 'no spaces' }]),
    /record 0: invalid topic name "no spaces"/,
  );
  assert.throws(
    () => checkRecords([{ ...ok, headers: { n: 1 as unknown as string } }]),
    /header "n" is not a string/,
  );
});

test('ensureTopics rejects partition counts that are not positive integers', () => {
  assert.throws(
    () => checkTopicSpecs([{ name: 'inventory', partitions: 0 }]),
    /topic "inventory" has partitions=0/,
  );
  assert.throws(() => checkTopicSpecs([{ name: 'inventory', partitions: 1.5 }]), /partitions=1.5/);
  assert.doesNotThrow(() => checkTopicSpecs([{ name: 'inventory', partitions: 6 }]));
});

test('the factories name the bad option', () => {
  assert.throws(() => createKafkaEventLog({ brokers: [] }), /brokers is empty/);
  assert.throws(() => createKafkaEventLog({ brokers: ['localhost'] }), /broker "localhost" is not host:port/);
  assert.throws(
    () => createKafkaEventLog({ brokers: ['127.0.0.1:9092'], replicationFactor: 0 }),
    /replicationFactor=0/,
  );
  assert.throws(() => createEmbeddedEventLog({ sql: undefined as never }), /sql is missing/);
  const sql = { query: async () => ({ rows: [], rowCount: 0 }) } as never;
  assert.throws(() => createEmbeddedEventLog({ sql, schema: 'Bad-Name' }), /invalid schema "Bad-Name"/);
  assert.throws(
    () => createEmbeddedEventLog({ sql, sessionTimeoutMs: 1000, heartbeatIntervalMs: 1000 }),
    /must be below sessionTimeoutMs/,
  );
});
