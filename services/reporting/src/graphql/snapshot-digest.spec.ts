// Real: snapshots built by @vigil/report from events made of the corpus's OSV records, with a real exception;
// the digest is checked against the full decode of the same content.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newEnvelope, type EventEnvelope } from '@vigil/contracts';
import {
  buildSnapshot,
  digestFromContent,
  evolve,
  exceptionRecorded,
  initialState,
  pciCatalog,
  reportFromContent,
} from '@vigil/report';
import { corpusAdvisories, eventFactory } from '../corpus-events.spec-helper.js';

const scope = { tenant: '', cluster: 'payments-prod' };
const IMAGE = 'registry.example.com/acme/payment-api:1.4.2';

function snapshotOf(events: EventEnvelope[]) {
  const state = events.reduce(evolve, initialState());
  return buildSnapshot({
    state,
    scope,
    catalog: pciCatalog(),
    entityType: 'merchant',
    logPosition: [{ topic: 'vigil.scans', partition: 0, offset: String(events.length) }],
    createdAt: new Date('2026-12-01T00:00:00Z'),
  });
}

function events(withException: boolean): EventEnvelope[] {
  const make = eventFactory(scope);
  const findings = corpusAdvisories()
    .slice(0, 40)
    .map((a) => make.finding(a, IMAGE));
  assert.ok(findings.length > 10, 'the corpus has advisory records');
  const out = findings.map((f) => make.reported('scan-1', f));
  if (withException) {
    const value = exceptionRecorded({
      ...scope,
      selector: { findingIds: [findings[0]!.id], ruleIds: [], sources: [], packages: [], paths: [] },
      owner: 'payments-platform',
      justification: 'TLS terminates at the mesh sidecar',
      approver: 'ciso@acme.example',
      expiresAt: new Date('2027-01-31T23:59:59Z'),
      expireOnFix: false,
      kind: 'risk_acceptance',
      pciRequirements: [],
      now: new Date('2026-11-30T09:00:00Z'),
    });
    out.push(
      newEnvelope({
        payload: { case: 'exceptionRecorded', value },
        scope,
        subjectKey: value.exceptionId,
        producer: { service: 'test', version: '0', instance: 'spec' },
        clock: () => new Date('2026-11-30T09:00:00Z'),
      }),
    );
  }
  out.push(
    make.completed(
      'scan-1',
      IMAGE,
      findings.map((f) => f.id),
    ),
  );
  return out;
}

describe('digestFromContent', () => {
  it('reads the summary, finding counts and exception uses the full decode reads', () => {
    const s = snapshotOf(events(true));
    const full = reportFromContent(s.content, s.contentHash);
    const digest = digestFromContent(s.content, s.contentHash);
    assert.ok((full.findingCounts?.total ?? 0) > 10);
    assert.equal(full.exceptions.length, 1);
    assert.deepEqual(digest, {
      summary: full.summary,
      findingCounts: full.findingCounts,
      exceptions: full.exceptions,
      entityType: full.entityType,
      findingOrder: full.findingOrder,
    });
    assert.equal(digest.entityType, 'merchant');
    assert.equal(digest.findingOrder, 'asset');
  });

  it('decodes a content without findings whole, and refuses bytes that do not match the hash', () => {
    const empty = snapshotOf([]);
    const full = reportFromContent(empty.content, empty.contentHash);
    assert.deepEqual(digestFromContent(empty.content, empty.contentHash).summary, full.summary);
    const s = snapshotOf(events(false));
    const changed = Buffer.from(s.content);
    const at = changed.length - 3;
    changed.writeUInt8(changed.readUInt8(at) ^ 1, at);
    assert.throws(
      () => digestFromContent(changed, s.contentHash),
      new RegExp(`stored as ${s.contentHash}, content hashes to sha256:`),
    );
  });
});
