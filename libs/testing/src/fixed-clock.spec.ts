import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixedClock } from './fixed-clock.js';

describe('fixedClock', () => {
  it('stands still, moves only when told, and hands out independent Dates', () => {
    const clock = fixedClock('2025-03-31T23:59:59.500Z');
    const a = clock();
    a.setFullYear(1999); // mutating one reading must not move the clock
    assert.equal(clock().toISOString(), '2025-03-31T23:59:59.500Z');
    clock.advance(500);
    assert.equal(clock.iso, '2025-04-01T00:00:00.000Z');
    clock.set('2025-06-01T12:00:00+02:00');
    assert.equal(clock().toISOString(), '2025-06-01T10:00:00.000Z');
  });

  it('rejects instants without an offset or that do not exist, naming the input', () => {
    assert.throws(() => fixedClock('2025-03-31 12:00'), /"2025-03-31 12:00" is not an ISO-8601 instant/);
    assert.throws(() => fixedClock('2025-13-45T00:00:00Z'), /"2025-13-45T00:00:00Z" is not a valid date/);
    assert.throws(() => fixedClock('2025-01-01T00:00:00Z').advance(Number.NaN), /NaN is not a finite number/);
  });
});
