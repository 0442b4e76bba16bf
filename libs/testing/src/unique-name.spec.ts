import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uniqueName } from './unique-name.js';

describe('uniqueName', () => {
  it('gives distinct names that are valid Kafka topics and Postgres identifiers', () => {
    const names = Array.from({ length: 500 }, () => uniqueName('event-log.contract'));
    assert.equal(new Set(names).size, names.length);
    for (const n of names) {
      assert.ok(n.startsWith('event-log.contract-'), n);
      assert.match(n, /^[a-z][a-z0-9._-]+$/);
      assert.ok(n.length <= 63, `${n} is ${n.length} characters`);
    }
  });

  it('rejects prefixes that would make an invalid or overlong name', () => {
    assert.throws(() => uniqueName('Topic'), /prefix "Topic" must start with a lowercase letter/);
    assert.throws(() => uniqueName('a'.repeat(41)), /at most 40/);
    assert.throws(() => uniqueName('with space'), /prefix "with space"/);
  });
});
