import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ExceptionKind, FindingSource } from '@vigil/contracts';
import {
  ExceptionInputError,
  exceptionRecorded,
  findingSourceOf,
  knownRequirement,
  parseDeadline,
  requirementAttested,
} from './exception-events.js';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const base = {
  cluster: 'prod',
  selector: { packages: ['openssl'], imageRepository: 'registry.example.com/acme/payment-api' },
  owner: 'payments-platform',
  justification: 'no fixed build of the base image yet; the service is not exposed',
  approver: 'ciso@acme.example',
  expiresAt: new Date('2027-01-31T23:59:59.999Z'),
  now: NOW,
  newId: () => 'exc-1',
};

describe('exceptionRecorded', () => {
  it('records owner, approver, a hard expiry and the kind', () => {
    const x = exceptionRecorded({ ...base, kind: 'compensating_control', pciRequirements: ['6.3.3'] });
    assert.equal(x.exceptionId, 'exc-1');
    assert.equal(x.kind, ExceptionKind.COMPENSATING_CONTROL);
    assert.equal(x.approvers[0]?.name, 'ciso@acme.example');
    assert.equal(x.expiresAt?.seconds, BigInt(Date.parse('2027-01-31T23:59:59Z') / 1000));
    assert.deepEqual(x.selector?.packages, ['openssl']);
    assert.deepEqual(x.pciRequirements, ['6.3.3']);
  });

  it('refuses a past expiry, an empty selector, a missing approver and an unknown requirement, naming them', () => {
    assert.throws(
      () => exceptionRecorded({ ...base, expiresAt: new Date('2026-12-01T00:00:00Z') }),
      /expiry 2026-12-01T00:00:00.000Z is not in the future \(now 2026-12-03T12:00:00.000Z\)/,
    );
    assert.throws(() => exceptionRecorded({ ...base, selector: {} }), /selects no findings/);
    assert.throws(() => exceptionRecorded({ ...base, approver: ' ' }), /approver is required/);
    assert.throws(
      () => exceptionRecorded({ ...base, pciRequirements: ['6.3.9'] }),
      (e: Error) =>
        e instanceof ExceptionInputError && /requirement "6.3.9" is not a PCI DSS v4.0.1/.test(e.message),
    );
  });
});

describe('requirementAttested', () => {
  it('keeps attachments by hash and refuses a malformed one or an unknown requirement', () => {
    const a = requirementAttested({
      cluster: 'prod',
      requirementId: '12.10.1',
      by: 'qsa@assessor.example',
      statement: 'IR plan tested',
      attachments: [{ name: 'ir.pdf', sha256: 'sha256:' + 'ab'.repeat(32), size: 10 }],
      now: NOW,
    });
    assert.equal(a.requirementId, '12.10.1');
    assert.equal(a.attachments[0]?.size, '10');
    assert.throws(
      () =>
        requirementAttested({
          cluster: 'prod',
          requirementId: '12.10.1',
          by: 'q',
          statement: 's',
          attachments: [{ name: 'x', sha256: 'md5:1', size: 1 }],
          now: NOW,
        }),
      /attachment x: hash "md5:1" is not "sha256:<64 hex>"/,
    );
    assert.throws(
      () => knownRequirement('12'),
      /requirement "12" is not a PCI DSS v4.0.1 requirement or sub-requirement id/,
    );
  });
});

describe('parseDeadline, findingSourceOf', () => {
  it('reads a day as its end in UTC and names a bad date or source', () => {
    assert.equal(parseDeadline('2027-01-31', '--expires').toISOString(), '2027-01-31T23:59:59.999Z');
    assert.throws(() => parseDeadline('next week', '--expires'), /--expires "next week" is not a date/);
    // JavaScript's Date would roll these into March; an expiry must be the day that was signed off.
    assert.throws(() => parseDeadline('2027-02-30', '--expires'), /2027-02-30 does not exist/);
    assert.throws(
      () => parseDeadline('2027-02-31T10:00:00Z', '--valid-until'),
      /--valid-until .* does not exist/,
    );
    assert.equal(parseDeadline('2028-02-29', '--expires').toISOString(), '2028-02-29T23:59:59.999Z');
    assert.equal(
      parseDeadline('2027-03-01T01:00:00+02:00', '--expires').toISOString(),
      '2027-02-28T23:00:00.000Z',
    );
    // A time must carry its zone: without one it would be read in the local zone of the machine.
    for (const t of ['2027-01-31T17:00', '2027-01-31T17:00:00.5', '2027-01-31 17:00:00'])
      assert.throws(
        () => parseDeadline(t, '--expires'),
        new RegExp(`--expires "${t}" has no time zone: add Z \\(UTC\\) or an offset`),
      );
    assert.throws(() => parseDeadline('2027-01-31junk', '--expires'), /is not a date/);
    assert.equal(parseDeadline('2027-01-31T17:00Z', '--expires').toISOString(), '2027-01-31T17:00:00.000Z');
    assert.equal(findingSourceOf('RBAC'), FindingSource.CONFIG);
    assert.throws(() => findingSourceOf('network'), /source "network" is not one of image, config, rbac/);
  });
});
