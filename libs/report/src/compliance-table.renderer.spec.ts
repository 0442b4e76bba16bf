import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Events, ScannerKind, Severity, subsetCatalog, vuln } from './events.spec-helper.js';
import { fold } from './scope-state.js';
import { buildSnapshot } from './snapshot.builder.js';
import { acceptedFindingIds, renderComplianceTable } from './compliance-table.renderer.js';

describe('renderComplianceTable', () => {
  // given a small snapshot: one critical in an image, accepted for 11.3.1 only, over six requirements
  const APP = 'registry.example.com/payments/api:1.4';
  const e = new Events();
  const zlib = vuln({
    cve: 'CVE-2023-45853',
    pkg: 'zlib1g',
    installed: '1:1.2.13.dfsg-1',
    imageRef: APP,
    digest: 'sha256:' + 'c3'.repeat(32),
    severity: Severity.CRITICAL,
  });
  const snapshot = buildSnapshot({
    state: fold([
      e.reported('img-1', zlib, 1),
      e.completed({
        scanId: 'img-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [zlib.id],
      }),
      e.exception(
        { id: 'exc-zlib', selector: { findingIds: [zlib.id] }, expiresMinute: 600, pci: ['11.3.1'] },
        3,
      ),
    ]),
    scope: { cluster: 'prod' },
    catalog: subsetCatalog(['1.2.1', '6.3.1', '10.7.1', '11.3.1', '12.5.2', 'A1.1.1']),
    entityType: 'merchant',
    logPosition: [{ topic: 'scans', partition: 0, offset: '2' }],
    createdAt: new Date('2026-11-02T12:00:00Z'),
  });

  it('prints one line per requirement under its principal requirement, reasons wrapped, and a summary', () => {
    // when rendered at the default width
    const text = renderComplianceTable(snapshot.report);
    // then
    const expected = [
      'PCI DSS 4.0.1 compliance · scope prod · snapshot 1 · as of 2026-11-02T09:03:00.000Z',
      `content ${snapshot.contentHash}`,
      'previous (none: first version)',
      '',
      '  ID          STATUS             FINDINGS  REASON',
      'Requirement 1: Install and maintain network security controls',
      '  1.2.1       not_tested                0  No scan has produced evidence (needs a completed config scan)',
      'Requirement 6: Develop and maintain secure systems and software',
      '  6.3.1       not_in_place              1  1 open finding (1 CRITICAL) tests it directly',
      'Requirement 10: Log and monitor access to components and cardholder data',
      '  10.7.1      not_applicable            0  Applies to service providers only; this deployment is assessed as a',
      '                                           merchant',
      'Requirement 11: Test security of systems and networks regularly',
      '  11.3.1      not_tested                0  No passing check names it in the latest ok image scans (1 finding',
      '                                           accepted by 1 exception: exc-zlib)',
      'Requirement 12: Support information security with organizational policies and programs',
      '  12.5.2      not_tested                0  Manual: no scanner tests it; needs documents, records or interviews',
      'Appendix A1: Additional requirements for multi-tenant service providers',
      '  A1.1.1      not_applicable            0  Applies to multi-tenant service providers only; this deployment is',
      '                                           assessed as a merchant',
      '',
      'Requirements: 6 · 0 in_place · 1 not_in_place · 3 not_tested · 2 not_applicable · 0 manually_attested',
      // Accepted for 11.3.1 only, the finding still fails 6.3.1: it is open, not accepted.
      'Findings: 1 open (1 CRITICAL · 0 HIGH · 0 MEDIUM · 0 LOW · 0 UNKNOWN), 0 accepted',
      '',
    ];
    assert.deepEqual(text.split('\n'), expected);
    for (const line of text.split('\n')) assert.ok(line.length <= 110, `within 110 columns: ${line}`);
  });

  it('counts a finding an exception accepts for every requirement as accepted, not open', () => {
    // given the same scan with a second finding, and an exception for the first with no requirement limit
    const openssl = vuln({
      cve: 'CVE-2023-5363',
      pkg: 'libssl3',
      installed: '3.0.11-1~deb12u1',
      imageRef: APP,
      digest: 'sha256:' + 'c3'.repeat(32),
      severity: Severity.HIGH,
    });
    const both = buildSnapshot({
      state: fold([
        e.reported('img-2', zlib, 1),
        e.reported('img-2', openssl, 1),
        e.completed({
          scanId: 'img-2',
          scanner: ScannerKind.IMAGE,
          targetKey: APP,
          minute: 2,
          findingIds: [zlib.id, openssl.id],
        }),
        e.exception({ id: 'exc-zlib-all', selector: { findingIds: [zlib.id] }, expiresMinute: 600 }, 3),
      ]),
      scope: { cluster: 'prod' },
      catalog: subsetCatalog(['6.3.1', '11.3.1']),
      entityType: 'merchant',
      logPosition: [{ topic: 'scans', partition: 0, offset: '3' }],
      createdAt: new Date('2026-11-02T12:00:00Z'),
    });
    // when rendered, then the snapshot still holds both findings, and the footer counts them apart
    assert.equal(both.report.findings.length, 2);
    assert.deepEqual([...acceptedFindingIds(both.report)], [zlib.id]);
    const lines = renderComplianceTable(both.report).split('\n');
    assert.ok(
      lines.includes('Findings: 1 open (0 CRITICAL · 1 HIGH · 0 MEDIUM · 0 LOW · 0 UNKNOWN), 1 accepted'),
      lines.join('\n'),
    );
    // and the requirement-limited exception of the first snapshot accepts nothing
    assert.deepEqual([...acceptedFindingIds(snapshot.report)], []);
  });

  it("ends with the deployment's evidence key fingerprint when given", () => {
    const fingerprint = 'sha256:' + 'ef'.repeat(32);
    const lines = renderComplianceTable(snapshot.report, { evidenceKeyFingerprint: fingerprint }).split('\n');
    assert.deepEqual(lines.slice(-3), [
      'Findings: 1 open (1 CRITICAL · 0 HIGH · 0 MEDIUM · 0 LOW · 0 UNKNOWN), 0 accepted',
      `Evidence key ${fingerprint} (vigil evidence key)`,
      '',
    ]);
    assert.ok(lines.every((l) => l.length <= 110));
  });

  it('wraps to a narrower width and refuses one too narrow for the columns', () => {
    const lines = renderComplianceTable(snapshot.report, { width: 80 }).split('\n');
    assert.ok(lines.every((l) => l.length <= 80));
    assert.ok(
      lines.includes('  6.3.1       not_in_place              1  1 open finding (1 CRITICAL) tests it'),
    );
    assert.throws(
      () => renderComplianceTable(snapshot.report, { width: 50 }),
      /width 50 is too narrow \(at least 63\)/,
    );
  });
});
