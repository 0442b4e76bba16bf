import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { murmur2, partitionForKey } from './murmur2.js';

// Reference values of Kafka's own Utils.murmur2 (from Apache Kafka's UtilsTest), so the embedded log places a key
// on the same partition number as Kafka's default partitioner.
test('murmur2 matches Kafka Utils.murmur2 on its published test vectors', () => {
  const cases: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [input, expected] of cases) assert.equal(murmur2(Buffer.from(input)), expected, input);
});

test('partitionForKey agrees with the kafkajs default (Java-compatible) partitioner', () => {
  const require = createRequire(import.meta.url);
  const kafkajsMurmur2 = require('kafkajs/src/producer/partitioners/default/murmur2.js') as (
    key: Buffer,
  ) => number;
  for (let i = 0; i < 2000; i++) {
    const key = `asset-${i}-${'x'.repeat(i % 7)}`;
    const expected = (kafkajsMurmur2(Buffer.from(key)) & 0x7fffffff) % 6;
    assert.equal(partitionForKey(key, 6), expected, key);
  }
});
