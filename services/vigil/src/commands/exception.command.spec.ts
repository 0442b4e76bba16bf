// `vigil exception accept` argument checks that need no deployment: the 12-month review limit on --expires and
// repeated criteria kept once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../usage-error.js';
import { exceptionArgs } from './exception.command.js';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const base = { owner: 'o', justification: 'j', approver: 'a', package: ['openssl'] };

function accept(flags: Record<string, string | boolean | string[]>, now = NOW) {
  return exceptionArgs({ sub: 'accept', args: [], flags, cluster: 'prod', clock: () => now });
}

function recorded(flags: Record<string, string | boolean | string[]>, now = NOW) {
  const event = accept(flags, now);
  assert.ok(event && event.payload.case === 'exceptionRecorded');
  return event.payload.value;
}

describe('vigil exception accept --expires', () => {
  it('refuses an expiry more than 12 months ahead, naming the last day allowed and why', () => {
    assert.throws(
      () => accept({ ...base, expires: '9999-12-31' }),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          'vigil exception accept: --expires 9999-12-31 is more than 12 months ahead (at most 2027-12-03; ' +
            'PCI DSS 12.3.1 wants an accepted risk reviewed at least once every 12 months)',
    );
    assert.throws(() => accept({ ...base, expires: '2027-12-04' }), /at most 2027-12-03/);
    assert.throws(() => accept({ ...base, expires: '2027-12-04T00:00:00Z' }), /at most 2027-12-03/);
    assert.throws(
      () => accept({ ...base, kind: 'compensating', expires: '2028-01-01' }),
      /more than 12 months ahead/,
    );
  });

  it('takes an expiry up to the whole day 12 calendar months from now', () => {
    const last = recorded({ ...base, expires: '2027-12-03' });
    assert.equal(last.expiresAt?.seconds, BigInt(Math.floor(Date.parse('2027-12-03T23:59:59.999Z') / 1000)));
    assert.ok(recorded({ ...base, expires: '2027-06-30' }));
    // A 29 February has no match a year later: the limit is the month's last day.
    const leap = new Date('2028-02-29T08:00:00Z');
    assert.ok(recorded({ ...base, expires: '2029-02-28' }, leap));
    assert.throws(() => accept({ ...base, expires: '2029-03-01' }, leap), /at most 2029-02-28/);
  });

  it('still names a past expiry, a calendar day that does not exist and a missing owner first', () => {
    assert.throws(() => accept({ ...base, expires: '2026-12-01' }), /is not in the future/);
    assert.throws(() => accept({ ...base, expires: '2027-02-30' }), /2027-02-30 does not exist/);
    assert.throws(
      () => accept({ justification: 'j', approver: 'a', package: ['openssl'], expires: '9999-12-31' }),
      (e: Error) => e.message === 'vigil exception accept: --owner is required',
    );
  });
});

describe('vigil exception accept criteria', () => {
  it('keeps a repeated value once, in the order given', () => {
    const value = recorded({
      ...base,
      expires: '2027-06-30',
      rule: ['k8s/run-as-root', 'k8s/privileged', 'k8s/run-as-root'],
      package: ['openssl', 'openssl'],
      requirement: ['2.2.6', '2.2.6'],
      namespace: ['payments', 'payments'],
    });
    assert.deepEqual(value.selector?.ruleIds, ['k8s/run-as-root', 'k8s/privileged']);
    assert.deepEqual(value.selector?.packages, ['openssl']);
    assert.deepEqual(value.pciRequirements, ['2.2.6']);
    assert.equal(value.selector?.asset?.namespace, 'payments');
    // Two different values for a one-value asset field are still refused.
    assert.throws(
      () => accept({ ...base, expires: '2027-06-30', namespace: ['payments', 'storefront'] }),
      /--namespace given 2 times/,
    );
  });
});

describe('vigil exception accept --approver', () => {
  it('records every approver given, each once, in the order given', () => {
    const approvers = recorded({
      ...base,
      approver: ['alice', 'bob', 'alice'],
      expires: '2027-06-01',
    }).approvers!;
    assert.deepEqual(
      approvers.map((a) => a.name),
      ['alice', 'bob'],
    );
    assert.equal(approvers[1]!.approvedAt?.seconds, approvers[0]!.approvedAt?.seconds);
    assert.deepEqual(
      recorded({ ...base, approver: ['carol'], expires: '2027-06-01' }).approvers!.map((a) => a.name),
      ['carol'],
    );
  });

  it('is still required, and none may be empty', () => {
    const { approver: _, ...rest } = base;
    assert.throws(() => accept({ ...rest, expires: '2027-06-01' }), /--approver is required/);
    assert.throws(
      () => accept({ ...base, approver: ['a', ' '], expires: '2027-06-01' }),
      /--approver is empty/,
    );
  });
});
