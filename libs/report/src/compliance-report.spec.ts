import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ComplianceReportSchema, SnapshotListSchema, fromReportJson, toReportJson } from '@vigil/contracts';
import { canonicalJson } from './canonical-json.js';
import { Events, ScannerKind, Severity, subsetCatalog, vuln } from './events.spec-helper.js';
import { fold } from './scope-state.js';
import { buildSnapshot, contentHashOf, reportFromContent } from './snapshot.builder.js';
import { complianceReport, snapshotList } from './compliance-report.js';

describe('complianceReport and snapshotList', () => {
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
  const events = [
    e.reported('img-1', zlib, 1),
    e.completed({
      scanId: 'img-1',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      minute: 2,
      findingIds: [zlib.id],
    }),
  ];
  const input = {
    state: fold(events),
    scope: { cluster: 'prod' },
    catalog: subsetCatalog(['6.3.1', '12.5.2']),
    entityType: 'merchant' as const,
    logPosition: [{ topic: 'scans', partition: 0, offset: '2' }],
  };
  const v1 = buildSnapshot({ ...input, createdAt: new Date('2026-11-02T12:00:00Z'), scanId: 'img-1' });
  const v2 = buildSnapshot({ ...input, createdAt: new Date('2026-11-02T13:00:00Z'), previous: v1 });

  it('prints the report as the contracts JSON with plain-word enums and the content hash', () => {
    const json = toReportJson(ComplianceReportSchema, complianceReport(v1)) as Record<string, unknown>;
    assert.equal(json['schemaVersion'], 1);
    assert.equal(json['contentHash'], v1.contentHash);
    assert.equal(json['frameworkVersion'], '4.0.1');
    const reqs = json['requirements'] as Record<string, unknown>[];
    assert.deepEqual(
      reqs.map((r) => [r['id'], r['status']]),
      [
        ['6.3.1', 'not_in_place'],
        ['12.5.2', 'not_tested'],
      ],
    );
    const findings = json['findings'] as Record<string, unknown>[];
    assert.deepEqual(
      findings.map((f) => [f['ruleId'], f['severity'], f['source']]),
      [['CVE-2023-45853', 'CRITICAL', 'image']],
    );
  });

  it('hashes the canonical form of the report without its hash, so a holder of the JSON can verify it', () => {
    const json = toReportJson(ComplianceReportSchema, complianceReport(v1));
    const parsed = fromReportJson(ComplianceReportSchema, json);
    assert.equal(contentHashOf(parsed), v1.contentHash);
    assert.equal(Buffer.from(v1.content).toString('utf8'), canonicalJson({ ...parsed, contentHash: '' }));
    const tampered = fromReportJson(ComplianceReportSchema, { ...json, snapshotVersion: 7 });
    assert.notEqual(contentHashOf(tampered), v1.contentHash);
  });

  it('reads stored content back into the same report, and refuses content that does not match its hash', () => {
    const back = reportFromContent(v1.content, v1.contentHash);
    assert.equal(contentHashOf(back), v1.contentHash);
    assert.deepEqual(
      toReportJson(ComplianceReportSchema, back),
      toReportJson(ComplianceReportSchema, complianceReport(v1)),
    );
    const altered = Buffer.from(
      Buffer.from(v1.content).toString('utf8').replace('CVE-2023-45853', 'CVE-2023-45854'),
    );
    assert.throws(() => reportFromContent(altered, v1.contentHash), /does not match its hash/);
  });

  it('lists versions in order with their chain and counts', () => {
    const list = snapshotList({ cluster: 'prod' }, [v2, v1]);
    const json = toReportJson(SnapshotListSchema, list) as { snapshots: Record<string, unknown>[] };
    assert.deepEqual(
      json.snapshots.map((s) => [
        s['version'],
        s['previousHash'],
        s['contentHash'],
        s['createdAt'],
        s['scanId'],
      ]),
      [
        [1, '', v1.contentHash, '2026-11-02T12:00:00Z', 'img-1'],
        [2, v1.contentHash, v2.contentHash, '2026-11-02T13:00:00Z', ''],
      ],
    );
    assert.deepEqual((json.snapshots[0]?.['findingCounts'] as Record<string, number>)['critical'], 1);
    assert.deepEqual((json.snapshots[0]?.['summary'] as Record<string, number>)['notInPlace'], 1);
  });

  it('rejects a snapshot of another scope and a version listed twice', () => {
    assert.throws(
      () => snapshotList({ cluster: 'stage' }, [v1]),
      /snapshot version 1 belongs to scope "prod", not "stage"/,
    );
    assert.throws(() => snapshotList({ cluster: 'prod' }, [v1, v1]), /lists version 1 twice/);
  });
});
