// `vigil attest` argument checks that need no deployment: --valid-until has the exceptions' 12-month limit.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UsageError } from '../usage-error.js';
import { attestArgs } from './attest.command.js';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const dir = mkdtempSync(join(tmpdir(), 'vigil-attest-'));
const plan = join(dir, 'plan.txt');
writeFileSync(plan, 'incident response plan, tested 2026-11\n');
after(() => rmSync(dir, { recursive: true, force: true }));

function attest(validUntil: string) {
  return attestArgs({
    args: ['12.10.1'],
    flags: { statement: 'plan tested', evidence: [plan], 'valid-until': validUntil },
    cluster: 'prod',
    clock: () => NOW,
  });
}

describe('vigil attest --valid-until', () => {
  it('refuses a date more than 12 months ahead, as an exception expiry is refused', async () => {
    await assert.rejects(
      attest('9999-12-31'),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          'vigil attest: --valid-until 9999-12-31 is more than 12 months ahead (at most 2027-12-03; ' +
            'an annual assessment relies on manual evidence from the last 12 months)',
    );
    await assert.rejects(attest('2027-12-04'), /at most 2027-12-03/);
  });

  it('takes a date up to the whole day 12 calendar months from now', async () => {
    const event = await attest('2027-12-03');
    assert.ok(event.payload.case === 'requirementAttested');
    assert.equal(
      new Date(Number(event.payload.value.validUntil!.seconds) * 1000).toISOString(),
      '2027-12-03T23:59:59.000Z',
    );
  });
});
