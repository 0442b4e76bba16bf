import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ingestEvents } from './ingest.js';
import { RUNTIME_NORMALIZERS, RUNTIME_POLICIES } from './registry.js';
import { corpusPath, fixedClock } from '@vigil/testing';

const samples: Record<string, string> = {
  falco: 'runtime/falco-alerts/odd-field-types/alerts.jsonl',
  tetragon: 'runtime/tetragon/golden-signals-curl-vi-python/events.jsonl',
  'k8s-audit': 'runtime/k8s-audit/impersonation-forbidden-demo/audit.log',
};

describe('runtime registry', () => {
  it('lists units with kebab-case ids and integer versions', () => {
    const ids = [
      ...RUNTIME_NORMALIZERS.map((n) => n.id),
      ...Object.values(RUNTIME_POLICIES).map((p) => p.id),
    ];
    assert.equal(new Set(ids).size, ids.length);
    for (const id of ids) assert.match(id, /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/);
    for (const n of RUNTIME_NORMALIZERS) assert.ok(Number.isInteger(n.version) && n.version >= 1, n.id);
    for (const [rule, p] of Object.entries(RUNTIME_POLICIES)) {
      assert.match(rule, /^runtime\/[a-z-]+$/);
      assert.ok(Number.isInteger(p.version) && p.version >= 1, rule);
    }
  });

  it('each predicate claims its own sensor and no other on real events', () => {
    for (const [sensor, path] of Object.entries(samples)) {
      for (const line of readFileSync(corpusPath(path), 'utf8').trim().split('\n')) {
        const v = JSON.parse(line) as Record<string, unknown>;
        assert.deepEqual(
          RUNTIME_NORMALIZERS.filter((n) => n.concerns(v)).map((n) => n.sensor),
          [sensor],
          path,
        );
      }
    }
  });

  it('auto-detects the sensor per object in a mixed input', () => {
    const mixed = Object.values(samples)
      .map((p) => readFileSync(corpusPath(p), 'utf8').trim().split('\n')[0])
      .join('\n');
    const r = ingestEvents({ input: mixed, clock: fixedClock('2030-01-01T00:00:00Z') });
    assert.deepEqual(
      r.events.map((e) => e.sensor),
      ['falco', 'tetragon', 'k8s-audit'],
    );
  });

  it('refuses a single event with an unusable time and keeps the rest of the batch', () => {
    const good = readFileSync(corpusPath(samples['falco']!), 'utf8').split('\n')[0]!;
    const bad = good.replace(/"time":"[^"]+"/, '"time":"yesterday"');
    const r = ingestEvents({ input: `${bad}\n${good}`, clock: fixedClock('2030-01-01T00:00:00Z') });
    assert.deepEqual(r.skipped, [
      { line: 1, reason: 'falco event: runtime event time "yesterday" is not an RFC 3339 timestamp' },
    ]);
    assert.equal(r.events.length, 1);
  });
});
