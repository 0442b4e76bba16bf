import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '@vigil/testing';
import { ingestEvents } from '../ingest.js';
import { instantOf, rememberingInstantOf, timestampOf, toFindings } from './to-findings.js';

const BURST = join(
  repoRoot(),
  '../shared/corpus/runtime/falco-alerts/falco-0.43-bursty-duplicates/alerts.jsonl',
);
const clock = (): Date => new Date('2026-12-01T00:00:00Z');

describe('runtime event times', () => {
  it('keep the nanoseconds Falco writes, in any RFC 3339 zone form', () => {
    assert.deepEqual(instantOf('2026-04-06T16:02:57.648777170Z'), { seconds: 1775491377, nanos: 648777170 });
    assert.deepEqual(instantOf('2026-04-06T18:02:57.5+0200'), { seconds: 1775491377, nanos: 500000000 });
    const t = timestampOf('2026-04-06T16:02:57Z');
    assert.equal(t.seconds, 1775491377n);
    assert.equal(t.nanos, 0);
  });

  it('refuse a time that is not RFC 3339, naming it', () => {
    assert.throws(
      () => instantOf('yesterday'),
      /runtime event time "yesterday" is not an RFC 3339 timestamp/,
    );
    const remembering = rememberingInstantOf();
    assert.throws(() => remembering('1775491377'), /"1775491377" is not an RFC 3339/);
    assert.equal(remembering('2026-04-06T16:02:57Z'), remembering('2026-04-06T16:02:57Z'));
  });
});

describe('toFindings on a real burst', () => {
  const result = ingestEvents({ input: readFileSync(BURST), format: 'falco', clock, cluster: 'c1' });
  const memfd = result.detections.filter((d) => d.ruleId === 'falco:Fileless execution via memfd_create');
  // The burst: alerts on the node itself (no container), and one from inside a container.
  const onHost = memfd.filter((d) => d.container === null);
  const inContainer = memfd.find((d) => d.container !== null);

  it('one finding with the count and the earliest and latest time, whatever order the alerts came in', () => {
    assert.equal(memfd.length, 12);
    assert.equal(onHost.length, 11);
    const times = onHost
      .map((d) => d.time)
      .sort((a, b) => {
        const x = instantOf(a);
        const y = instantOf(b);
        return x.seconds - y.seconds || x.nanos - y.nanos;
      });
    for (const order of [onHost, [...onHost].reverse()]) {
      const [finding, ...rest] = toFindings(order, 'c1');
      assert.equal(rest.length, 0);
      const ev = Object.fromEntries((finding?.evidence ?? []).map((e) => [e.key, e.value]));
      assert.equal(ev['occurrences'], '11');
      assert.equal(finding?.asset?.node, 'a042604a283a');
      assert.equal(ev['first_seen'], times[0]);
      assert.equal(ev['last_seen'], times[times.length - 1]);
      assert.deepEqual(finding?.window?.start, timestampOf(times[0] ?? ''));
      assert.deepEqual(finding?.window?.end, timestampOf(times[times.length - 1] ?? ''));
    }
  });

  it('the same container seen from two nodes is one finding (a container id leaves the node out)', () => {
    const one = inContainer;
    assert.ok(one?.container);
    const elsewhere = { ...one, node: 'another-node', time: '2099-01-01T00:00:00Z' };
    const findings = toFindings([one, elsewhere], 'c1');
    assert.equal(findings.length, 1);
    const ev = Object.fromEntries((findings[0]?.evidence ?? []).map((e) => [e.key, e.value]));
    assert.equal(ev['occurrences'], '2');
    assert.equal(ev['last_seen'], '2099-01-01T00:00:00Z');
    // The asset is the first occurrence's, as it always was.
    assert.equal(findings[0]?.asset?.node, one.node ?? '');
  });

  it('alerts at the same instant keep their input order: first listed is first seen, last listed is last', () => {
    const one = onHost[0];
    assert.ok(one);
    const a = { ...one, time: '2026-12-01T00:00:00Z', line: 1, pod: 'pod-a' };
    const b = { ...one, time: '2026-12-01T00:00:00Z', line: 2, pod: 'pod-b' };
    const [f] = toFindings([a, b], 'c1');
    const ev = Object.fromEntries((f?.evidence ?? []).map((e) => [e.key, e.value]));
    // The evidence of the first occurrence speaks for the group; both pods are listed.
    assert.equal(ev['pod'], 'pod-a');
    assert.equal(ev['pods'], 'pod-a,pod-b');
    assert.equal(ev['input_lines'], '1,2');
  });
});
