import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assignPartitions } from './assignment.js';

test('two members split the partitions of a topic evenly, whatever order they are listed in', () => {
  const topics = new Map([['t', 4]]);
  const a = assignPartitions(
    [
      { memberId: 'm-b', topics: ['t'] },
      { memberId: 'm-a', topics: ['t'] },
    ],
    topics,
  );
  const b = assignPartitions(
    [
      { memberId: 'm-a', topics: ['t'] },
      { memberId: 'm-b', topics: ['t'] },
    ],
    topics,
  );
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.get('m-a')!.map((p) => p.partition),
    [0, 2],
  );
  assert.deepEqual(
    a.get('m-b')!.map((p) => p.partition),
    [1, 3],
  );
});

test('every partition goes to exactly one member, and only to members reading its topic', () => {
  const topics = new Map([
    ['x', 3],
    ['y', 5],
  ]);
  const members = [
    { memberId: '1', topics: ['x', 'y'] },
    { memberId: '2', topics: ['y'] },
    { memberId: '3', topics: ['x', 'y'] },
  ];
  const result = assignPartitions(members, topics);
  const seen = new Map<string, string>();
  for (const [member, parts] of result) {
    for (const p of parts) {
      const id = `${p.topic}/${p.partition}`;
      assert.equal(seen.has(id), false, `${id} assigned twice`);
      seen.set(id, member);
      assert.ok(members.find((m) => m.memberId === member)!.topics.includes(p.topic));
    }
  }
  assert.equal(seen.size, 8);
});

test('one member takes everything; no members, no assignment', () => {
  const topics = new Map([['t', 3]]);
  assert.equal(assignPartitions([{ memberId: 'only', topics: ['t'] }], topics).get('only')!.length, 3);
  assert.equal(assignPartitions([], topics).size, 0);
});
