import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FindingSource } from './gen/vigil/v1/finding_pb.js';
import { ScannerKind } from './gen/vigil/v1/scan_pb.js';
import { ALL_TOPICS, findingsTopic, scanRequestTopic, TOPIC_PARTITIONS, TOPICS } from './topics.js';

function leaves(value: unknown): string[] {
  return typeof value === 'string' ? [value] : Object.values(value as object).flatMap(leaves);
}

test('every topic name is declared once, with a partition count, in ALL_TOPICS', () => {
  const names = leaves(TOPICS);
  assert.equal(names.length, 15);
  assert.equal(new Set(names).size, names.length);
  assert.deepEqual(ALL_TOPICS.map((t) => t.name).sort(), [...names].sort());
  for (const t of ALL_TOPICS) {
    assert.match(t.name, /^[a-z]+(?:[.-][a-z]+)*$/, `${t.name} is lowercase, dotted or kebab-case`);
    assert.ok(Number.isInteger(t.partitions) && t.partitions >= 1, `${t.name} has a partition count`);
    assert.equal(TOPIC_PARTITIONS[t.name], t.partitions);
  }
  assert.equal(TOPIC_PARTITIONS['scan.requests.image'], 6);
  assert.equal(TOPIC_PARTITIONS['snapshots'], 1);
  // Keyed by node, like the findings about nodes.
  assert.equal(TOPIC_PARTITIONS['sensors'], 6);
});

test('every scanner and finding source has its topic; unspecified has none', () => {
  assert.deepEqual(
    [ScannerKind.IMAGE, ScannerKind.CONFIG, ScannerKind.RUNTIME, ScannerKind.HOST].map(scanRequestTopic),
    ['scan.requests.image', 'scan.requests.config', 'scan.requests.runtime', 'scan.requests.host'],
  );
  assert.deepEqual(
    [
      FindingSource.IMAGE,
      FindingSource.CONFIG,
      FindingSource.RUNTIME,
      FindingSource.HOST,
      FindingSource.CORRELATED,
    ].map(findingsTopic),
    ['findings.image', 'findings.config', 'findings.runtime', 'findings.host', 'findings.correlated'],
  );
  assert.throws(() => scanRequestTopic(ScannerKind.UNSPECIFIED), /scanner 0 has no scan-request topic/);
  assert.throws(() => findingsTopic(FindingSource.UNSPECIFIED), /finding source 0 has no topic/);
});
