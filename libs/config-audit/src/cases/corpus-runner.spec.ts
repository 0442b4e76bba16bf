import { test } from 'node:test';
import assert from 'node:assert/strict';
import { corpusPath } from '@vigil/testing';
import { runCorpusCases } from './corpus-runner.js';
import { KNOWN_DISAGREEMENTS } from './known-disagreements.data.js';

// The level reached when this gate was set; a regression below it fails the build.
const MIN_AGREEMENT = 1.0;
const MIN_COVERED_EXPECTATIONS = 119;

test('the k8s corpus cases agree with the checks (scored per peer, disagreements listed)', async (t) => {
  const verdicts = await runCorpusCases(corpusPath('k8s', 'cases'));
  const covered = verdicts.filter((v) => v.status !== 'uncovered');
  const byPeer = new Map<string, { match: number; total: number; uncovered: number }>();
  for (const v of verdicts) {
    const s = byPeer.get(v.peer) ?? { match: 0, total: 0, uncovered: 0 };
    if (v.status === 'uncovered') s.uncovered++;
    else {
      s.total++;
      if (v.status === 'match') s.match++;
    }
    byPeer.set(v.peer, s);
  }
  for (const [peer, s] of byPeer)
    t.diagnostic(`${peer}: ${s.match}/${s.total} agree, ${s.uncovered} uncovered`);
  const matched = covered.filter((v) => v.status === 'match').length;
  t.diagnostic(
    `total: ${matched}/${covered.length} agree (${((matched / covered.length) * 100).toFixed(1)}%), ${verdicts.length - covered.length} expectations on uncovered topics`,
  );
  for (const v of verdicts.filter((x) => x.status !== 'match'))
    t.diagnostic(
      `${v.status}: ${v.key} expected ${v.expected}, got ${v.actual}${v.reason ? ` — ${v.reason}` : ''}${v.errors.length ? ` [load errors: ${v.errors.join('; ')}]` : ''}`,
    );

  // Every corpus input loads cleanly: a parse error here is an auditor bug, not a case result.
  assert.deepEqual(
    verdicts.filter((v) => v.errors.length > 0).map((v) => `${v.key}: ${v.errors.join('; ')}`),
    [],
  );
  assert.ok(covered.length >= MIN_COVERED_EXPECTATIONS, `only ${covered.length} covered expectations`);
  assert.ok(
    matched / covered.length >= MIN_AGREEMENT,
    `agreement ${matched}/${covered.length} below ${MIN_AGREEMENT}`,
  );
  // A known disagreement the auditor now agrees with is stale and must be removed from the data file.
  const stale = Object.keys(KNOWN_DISAGREEMENTS).filter(
    (k) => verdicts.find((v) => v.key === k)?.status !== 'known-disagreement',
  );
  assert.deepEqual(stale, []);
});
