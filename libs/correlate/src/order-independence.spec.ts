// Correlations are a function of the set of events, not of their order or of duplicates: real producer output for
// examples/payments, applied in order, in seeded random permutations, replayed twice, and incrementally.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { FindingSchema, type EventEnvelope, toJson } from '@vigil/contracts';
import { parseKevCatalog } from '@vigil/image-scan';
import { repoRoot } from '@vigil/testing';
import { Correlator, CorrelateInputError, diffCorrelations, type CorrelatedFinding } from './index.js';
import {
  configAuditEvents,
  generatedEgressPolicy,
  imageScanEvents,
  rebuiltImageScanEvents,
  runtimeEvents,
} from './payments-events.spec-helper.js';

const root = repoRoot();
let events: EventEnvelope[] = [];
let kevImage: Awaited<ReturnType<typeof imageScanEvents>>;
let configEvents: EventEnvelope[] = [];

before(async () => {
  const config = await configAuditEvents(root, 'cfg-1', '2026-11-20T10:00:00Z');
  configEvents = config.events;
  // CISA added CVE-2023-4911 (glibc "Looney Tunables") to its KEV catalog on 2023-11-21, due 2023-12-12.
  const kev = parseKevCatalog(
    JSON.stringify({
      vulnerabilities: [{ cveID: 'CVE-2023-4911', dateAdded: '2023-11-21', dueDate: '2023-12-12' }],
    }),
    'kev.json',
  );
  kevImage = await imageScanEvents(root, 'img-kev', '2026-11-20T10:05:00Z', { kev });
  events = [
    ...config.events,
    ...(await imageScanEvents(root, 'img-1', '2026-11-20T10:05:00Z')).events,
    ...(
      await configAuditEvents(root, 'cfg-2', '2026-11-20T12:00:00Z', [generatedEgressPolicy(config.findings)])
    ).events,
    ...(await rebuiltImageScanEvents(root, 'img-2', '2026-11-20T13:00:00Z')).events,
    ...runtimeEvents(root, 'rt-1', '2026-11-20T14:10:00Z').events,
  ];
});

const render = (list: CorrelatedFinding[]) =>
  list.map((c) => `${JSON.stringify(toJson(FindingSchema, c.finding))} ${c.priority.score}`).join('\n');

function correlateAll(list: EventEnvelope[]): string {
  const c = new Correlator();
  for (const e of list) c.apply(e);
  return render(c.correlate());
}

// A small deterministic PRNG (mulberry32) so a failing permutation can be reproduced from its seed.
function shuffled<T>(list: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('order independence', () => {
  it('gives the same correlations in order, over 25 permutations, reversed, and replayed twice', () => {
    const expected = correlateAll(events);
    assert.ok(expected.length > 0);
    for (let seed = 1; seed <= 25; seed++)
      assert.equal(correlateAll(shuffled(events, seed)), expected, `permutation seed ${seed}`);
    assert.equal(correlateAll([...events].reverse()), expected, 'reversed');
    assert.equal(correlateAll([...events, ...shuffled(events, 99)]), expected, 'replayed twice');
  });

  it('gives the same correlations incrementally (correlate after every event) as in one rebuild', () => {
    for (const seed of [3, 7]) {
      const c = new Correlator();
      for (const e of shuffled(events, seed)) {
        c.apply(e);
        c.correlate();
      }
      assert.equal(render(c.correlate()), correlateAll(events), `seed ${seed}`);
    }
  });

  it("update()'s incremental diff is the diff of the full lists before and after", () => {
    const c = new Correlator();
    const half = Math.floor(events.length / 2);
    for (const e of events.slice(0, half)) c.apply(e);
    const before = c.correlate();
    for (const e of events.slice(half)) c.apply(e);
    const diff = c.update();
    const after = c.correlate();
    const full = diffCorrelations(before, after);
    const ids = (l: CorrelatedFinding[]) => l.map((x) => x.id).sort();
    assert.deepEqual(ids(diff.added), ids(full.added));
    assert.deepEqual(ids(diff.resolved), ids(full.resolved));
    assert.deepEqual(ids(diff.changed.map((x) => x.current)), ids(full.changed.map((x) => x.current)));
    assert.ok(
      full.added.length + full.resolved.length + full.changed.length > 0,
      'the second half changes something',
    );
  });

  it('ignores a duplicate event id and rejects an event without one', () => {
    const c = new Correlator();
    assert.equal(c.apply(events[0]!), true);
    assert.equal(c.apply(events[0]!), false);
    assert.throws(() => c.apply({ ...events[0]!, eventId: '' }), CorrelateInputError);
  });
});

describe('correlated/sa-secrets-with-kev', () => {
  it("joins payment-api's read-secrets:payments with the known-exploited glibc CVE", () => {
    const c = new Correlator();
    for (const e of [...configEvents, ...kevImage.events]) c.apply(e);
    const list = c.correlate();
    const kev = list.filter((x) => x.finding.ruleId === 'correlated/sa-secrets-with-kev');
    assert.deepEqual([...new Set(kev.map((x) => x.finding.aliases[0]))], ['CVE-2023-4911']);
    const f = kev[0]!;
    assert.ok(f.finding.evidence.some((e) => e.key === 'capability' && e.value === 'read-secrets:payments'));
    assert.ok(
      f.finding.evidence.some(
        (e) => e.key === 'granted-by' && /RoleBinding\/payments\/payment-api-config-reader/.test(e.value),
      ),
    );
    assert.ok(f.finding.pciRequirements.includes('7.2.5'));
    assert.equal(f.priority.factors[1]?.id, 'known-exploited');
    assert.match(f.priority.factors[1]!.text, /CISA KEV since 2023-11-21/);
    // The KEV factor ranks the glibc finding above the same-severity OpenSSL one.
    const inCde = list.filter((x) => x.finding.ruleId === 'correlated/vulnerable-in-cde');
    const glibc = inCde.find((x) => x.finding.aliases[0] === 'CVE-2023-4911')!;
    const openssl = inCde.find((x) => x.finding.aliases[0] === 'CVE-2023-5363')!;
    assert.equal(glibc.priority.score - openssl.priority.score, 20);
  });
});
