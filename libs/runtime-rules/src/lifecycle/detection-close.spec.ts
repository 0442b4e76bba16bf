import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DetectionCloseReason } from '@vigil/contracts';
import { fixedClock, repoRoot } from '@vigil/testing';
import { ingestEvents } from '../ingest.js';
import { DetectionCloseError, detectionClosed } from './detection-close.js';

// A real finding id: the shell alert of examples/payments as the engine names it.
const result = ingestEvents({
  input: readFileSync(join(repoRoot(), 'examples/payments/runtime/falco-alerts.jsonl')),
  format: 'falco',
  clock: fixedClock('2026-11-21T00:00:00Z'),
  cluster: 'prod',
});
const shell = result.findings.find((f) => f.ruleId === 'falco:Terminal shell in container');
const at = new Date('2026-11-21T08:00:00Z');

describe('detectionClosed', () => {
  it('builds the acknowledgement of a real runtime finding', () => {
    assert.ok(shell);
    const c = detectionClosed({
      findingId: shell.id,
      cluster: 'prod',
      reason: 'acknowledged',
      by: ' alice@example.com ',
      note: 'change CHG-1042, approved debug session',
      at,
    });
    assert.equal(c.findingId, shell.id);
    assert.equal(c.reason, DetectionCloseReason.ACKNOWLEDGED);
    assert.equal(c.closedBy, 'alice@example.com');
    assert.equal(c.scope?.cluster, 'prod');
    assert.equal(c.closedAt?.seconds, BigInt(at.getTime() / 1000));
  });

  it('refuses what would not be evidence of review, naming the problem', () => {
    const base = {
      findingId: shell!.id,
      cluster: 'prod',
      reason: 'acknowledged' as const,
      by: 'a',
      note: 'b',
      at,
    };
    assert.throws(() => detectionClosed({ ...base, note: '  ' }), /no reason given/);
    assert.throws(() => detectionClosed({ ...base, by: '' }), /no closer given/);
    assert.throws(() => detectionClosed({ ...base, findingId: 'image-abc' }), DetectionCloseError);
    assert.throws(() => detectionClosed({ ...base, reason: 'excepted' }), /needs the exception id/);
    assert.equal(detectionClosed({ ...base, reason: 'excepted', exceptionId: 'exc-1' }).exceptionId, 'exc-1');
  });
});
