import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AttestationStanding,
  ExceptionKind,
  ExceptionStanding,
  RequirementStatus,
  newEnvelope,
  type EventEnvelope,
  type EnvelopePayloadInit,
  type RequirementResult,
} from '@vigil/contracts';
import { exceptionListing } from './compliance-report.js';
import { renderExceptionListing } from './exception-listing.renderer.js';
import { Events, PRODUCER, ScannerKind, Severity, at, ts, vuln } from './events.spec-helper.js';
import { pciCatalog } from './pci-catalog.adapter.js';
import { fold } from './scope-state.js';
import { buildSnapshot, type Snapshot } from './snapshot.builder.js';

const APP = 'registry.example.com/acme/payment-api:1.4.2';
const DIGEST = 'sha256:' + '9b'.repeat(32);
const INCIDENT_PLAN = {
  name: 'incident-response-plan-2026.pdf',
  sha256: 'sha256:' + '4e'.repeat(32),
  size: '182304',
  mediaType: 'application/pdf',
};

// Attestation events with their own id counter, apart from the Events factory's.
class Manual {
  private n = 900;
  constructor(readonly cluster = 'prod') {}

  private envelope(payload: EnvelopePayloadInit, key: string, minute: number): EventEnvelope {
    this.n += 1;
    const id = `00000000-0000-4000-8000-${String(this.n).padStart(12, '0')}`;
    return newEnvelope({
      payload,
      scope: { cluster: this.cluster },
      subjectKey: key,
      producer: PRODUCER,
      clock: () => at(minute),
      newId: () => id,
    });
  }

  attested(
    a: { id: string; requirement: string; validUntilMinute?: number; statement?: string },
    minute: number,
  ): EventEnvelope {
    return this.envelope(
      {
        case: 'requirementAttested',
        value: {
          attestationId: a.id,
          scope: { cluster: this.cluster },
          requirementId: a.requirement,
          attestedBy: 'qsa@assessor.example',
          statement:
            a.statement ?? 'Incident response plan reviewed and tested in the October tabletop exercise',
          attachments: [INCIDENT_PLAN],
          attestedAt: ts(at(minute)),
          validUntil: a.validUntilMinute === undefined ? undefined : ts(at(a.validUntilMinute)),
        },
      },
      a.id,
      minute,
    );
  }

  revoked(id: string, minute: number): EventEnvelope {
    return this.envelope(
      {
        case: 'attestationRevoked',
        value: {
          attestationId: id,
          scope: { cluster: this.cluster },
          revokedBy: 'admin@acme.example',
          reason: 'plan superseded',
        },
      },
      id,
      minute,
    );
  }
}

function build(events: readonly EventEnvelope[]): Snapshot {
  return buildSnapshot({
    state: fold(events),
    scope: { cluster: 'prod' },
    catalog: pciCatalog(),
    entityType: 'merchant',
    logPosition: [{ topic: 'exceptions', partition: 0, offset: '3' }],
    createdAt: new Date('2026-11-02T12:00:00.000Z'),
  });
}

function req(s: Snapshot, id: string): RequirementResult {
  const r = s.report.requirements.find((x) => x.id === id);
  assert.ok(r, `requirement ${id} is in the snapshot`);
  return r;
}

const zlib = vuln({
  cve: 'CVE-2023-45853',
  pkg: 'zlib1g',
  installed: '1:1.2.13.dfsg-1',
  imageRef: APP,
  digest: DIGEST,
  severity: Severity.CRITICAL,
});

function scanned(e: Events): EventEnvelope[] {
  return [
    e.reported('scan-1', zlib, 1),
    e.completed({
      scanId: 'scan-1',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      minute: 2,
      findingIds: [zlib.id],
    }),
  ];
}

describe('manual attestations', () => {
  it('make a manual-only requirement manually_attested, with who, when, what and the attachment hashes', () => {
    const m = new Manual();
    const before = build([new Events().inventory([], 1)]);
    assert.equal(req(before, '12.10.1').status, RequirementStatus.NOT_TESTED);

    const s = build([m.attested({ id: 'att-ir', requirement: '12.10.1', validUntilMinute: 600 }, 5)]);
    const r = req(s, '12.10.1');
    assert.equal(r.status, RequirementStatus.MANUALLY_ATTESTED);
    assert.match(
      r.reason,
      /^Manually attested by qsa@assessor\.example \(1 attestation\); automated: manual:/,
    );
    assert.deepEqual(
      r.evidence.map((x) => [x.key, x.value]),
      [
        [
          'attestation',
          'att-ir by qsa@assessor.example at 2026-11-02T09:05:00.000Z: Incident response plan reviewed and tested in the October tabletop exercise',
        ],
        ['attestation-valid-until', 'att-ir 2026-11-02T19:00:00.000Z'],
        ['attachment', `incident-response-plan-2026.pdf sha256:${'4e'.repeat(32)} 182304 bytes`],
      ],
    );
    assert.equal(s.report.summary?.manuallyAttested, 1);
    assert.equal(s.attestationUses[0]?.decidedStatus, true);
    assert.equal(s.attestationUses[0]?.standing, AttestationStanding.VALID);
  });

  it('stop counting at valid_until and when revoked, and say so', () => {
    const m = new Manual();
    const e = new Events();
    const expired = build([
      m.attested({ id: 'att-ir', requirement: '12.10.1', validUntilMinute: 30 }, 5),
      e.inventory([], 30),
    ]);
    assert.equal(req(expired, '12.10.1').status, RequirementStatus.NOT_TESTED);
    assert.match(req(expired, '12.10.1').reason, /; attestation att-ir expired \(renew it\)$/);
    assert.equal(exceptionListing(expired).attestations.invalid[0]?.standing, AttestationStanding.EXPIRED);

    // The revocation may be folded before the attestation it revokes.
    const m2 = new Manual();
    const revoked = build([
      m2.revoked('att-ir', 4),
      m2.attested({ id: 'att-ir', requirement: '12.10.1' }, 5),
    ]);
    assert.equal(req(revoked, '12.10.1').status, RequirementStatus.NOT_TESTED);
    const use = revoked.attestationUses[0];
    assert.equal(use?.standing, AttestationStanding.REVOKED);
    assert.equal(use?.revokedBy, 'admin@acme.example');
    assert.equal(use?.decidedStatus, false);
  });

  it('never outweigh an open finding: the requirement stays not_in_place and the attestation is shown as outweighed', () => {
    const e = new Events();
    const m = new Manual();
    const s = build([
      ...scanned(e),
      m.attested(
        { id: 'att-vm', requirement: '6.3.1', statement: 'Monthly patch review minutes attached' },
        5,
      ),
    ]);
    const r = req(s, '6.3.1');
    assert.equal(r.status, RequirementStatus.NOT_IN_PLACE);
    assert.deepEqual(r.findingIds, [zlib.id]);
    assert.deepEqual(
      r.evidence.map((x) => x.key),
      ['attestation-outweighed'],
    );
    assert.equal(s.attestationUses[0]?.decidedStatus, false);
  });
});

describe('exception listing', () => {
  it('sorts exceptions into used (with the findings), matched nothing, expired and revoked', () => {
    const e = new Events();
    const events = [
      ...scanned(e),
      e.exception({ id: 'exc-used', selector: { packages: ['zlib1g'] }, expiresMinute: 600 }, 5),
      e.exception({ id: 'exc-typo', selector: { packages: ['zlib'] }, expiresMinute: 600 }, 5),
      e.exception({ id: 'exc-old', selector: { findingIds: [zlib.id] }, expiresMinute: 6 }, 3),
      e.exception({ id: 'exc-gone', selector: { ruleIds: ['CVE-2023-45853'] }, expiresMinute: 600 }, 3),
      e.revoked('exc-gone', 7),
      e.exception({ id: 'exc-open', selector: { ruleIds: ['CVE-2023-45853'] } }, 3),
    ];
    const s = build(events);
    const l = exceptionListing(s);
    assert.deepEqual(
      l.used.map((x) => [x.exceptionId, x.coveredFindingIds]),
      [['exc-used', [zlib.id]]],
    );
    assert.deepEqual(
      l.matchedNothing.map((x) => x.exceptionId),
      ['exc-typo'],
    );
    assert.deepEqual(
      l.expired.map((x) => [x.exceptionId, x.uncoveredFindingIds]),
      [['exc-old', [zlib.id]]],
    );
    assert.deepEqual(
      l.revoked.map((x) => [x.exceptionId, x.revokedBy, x.revokeReason]),
      [['exc-gone', 'ciso@example.com', 'fix shipped']],
    );
    assert.deepEqual(
      l.noExpiry.map((x) => x.exceptionId),
      ['exc-open'],
    );
    assert.equal(
      l.used[0]?.kind,
      ExceptionKind.RISK_ACCEPTANCE,
      'an exception without a kind is a risk acceptance',
    );
    assert.equal(l.used[0]?.standing, ExceptionStanding.ACTIVE);
    assert.equal(l.used[0]?.owner, 'payments-platform');
    // The finding stays visible and stops failing 6.3.1 through the one acceptance in use.
    assert.deepEqual(req(s, '6.3.1').exceptionIds, ['exc-used']);
    assert.equal(req(s, '6.3.1').status, RequirementStatus.NOT_TESTED);
    assert.equal(s.report.findingCounts?.total, 1);
    assert.deepEqual(renderExceptionListing(l).split('\n'), [
      'Exceptions in use (1)',
      '  exc-used  risk acceptance, owner payments-platform, approved by ciso@example.com, expires 2026-11-02',
      `    covers ${zlib.id}`,
      'Exceptions that matched nothing (1)',
      '  exc-typo  risk acceptance, owner payments-platform, approved by ciso@example.com, expires 2026-11-02',
      '    covers no open finding: check its scope',
      'Expired exceptions (1)',
      '  exc-old  risk acceptance, owner payments-platform, approved by ciso@example.com, expires 2026-11-02',
      `    no longer covers ${zlib.id}`,
      'Revoked exceptions (1)',
      '  exc-gone  risk acceptance, owner payments-platform, approved by ciso@example.com, expires 2026-11-02',
      `    revoked by ciso@example.com: fix shipped; no longer covers ${zlib.id}`,
      'Exceptions without an expiry (never applied) (1)',
      '  exc-open  risk acceptance, owner payments-platform, approved by ciso@example.com, expires never',
      `    no longer covers ${zlib.id}`,
    ]);
  });

  it('counts a finding for a requirement-limited exception only when it fails one of those requirements', () => {
    const e = new Events();
    const s = build([
      ...scanned(e),
      e.exception({ id: 'exc-6', selector: { packages: ['zlib1g'] }, expiresMinute: 600, pci: ['6.3.1'] }, 5),
      e.exception({ id: 'exc-8', selector: { packages: ['zlib1g'] }, expiresMinute: 600, pci: ['8.2.2'] }, 5),
    ]);
    const l = exceptionListing(s);
    assert.deepEqual(
      l.used.map((x) => x.exceptionId),
      ['exc-6'],
    );
    assert.deepEqual(
      l.matchedNothing.map((x) => x.exceptionId),
      ['exc-8'],
    );
    // 11.3.1 is the finding's other primary requirement, which exc-6 does not name: it still fails.
    assert.equal(req(s, '11.3.1').status, RequirementStatus.NOT_IN_PLACE);
  });
});
