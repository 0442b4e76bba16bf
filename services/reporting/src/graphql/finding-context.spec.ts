import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePriorityFactors } from './finding-context.js';

describe('parsePriorityFactors', () => {
  it('reads the correlator’s rendering back into points and text', () => {
    // The shape libs/correlate renderPriority writes: "+N text" joined by "; ", 0 without a sign.
    assert.deepEqual(
      parsePriorityFactors(
        '+40 base severity critical; +15 known exploited: CISA KEV lists CVE-2024-3094; 0 egress restricted: a NetworkPolicy limits where the pods connect',
      ),
      [
        { points: 40, text: 'base severity critical' },
        { points: 15, text: 'known exploited: CISA KEV lists CVE-2024-3094' },
        { points: 0, text: 'egress restricted: a NetworkPolicy limits where the pods connect' },
      ],
    );
  });

  it('keeps a part without points whole, and gives nothing for no factors', () => {
    assert.deepEqual(parsePriorityFactors('in use; -5 fix available'), [
      { points: 0, text: 'in use' },
      { points: -5, text: 'fix available' },
    ]);
    assert.deepEqual(parsePriorityFactors(''), []);
  });
});
