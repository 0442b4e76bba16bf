import { test } from 'node:test';
import assert from 'node:assert/strict';
import { create, equals, getOption, type DescEnum, type JsonObject } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { AssetKind } from './gen/vigil/v1/common_pb.js';
import { file_vigil_v1_common } from './gen/vigil/v1/common_pb.js';
import { file_vigil_v1_compliance, RequirementStatus } from './gen/vigil/v1/compliance_pb.js';
import { file_vigil_v1_envelope } from './gen/vigil/v1/envelope_pb.js';
import { FindingSelectorSchema, file_vigil_v1_exception } from './gen/vigil/v1/exception_pb.js';
import { file_vigil_v1_finding, FindingSource, MatchType, Severity } from './gen/vigil/v1/finding_pb.js';
import { file_vigil_v1_inventory } from './gen/vigil/v1/inventory_pb.js';
import { file_vigil_v1_options, json_word_case, JsonWordCase } from './gen/vigil/v1/options_pb.js';
import {
  CheckStatus,
  ComplianceReportSchema,
  file_vigil_v1_report,
  HostReportSchema,
  SnapshotDiffSchema,
} from './gen/vigil/v1/report_pb.js';
import { file_vigil_v1_scan, ScanStatus, TargetKind } from './gen/vigil/v1/scan_pb.js';
import { file_vigil_v1_snapshot } from './gen/vigil/v1/snapshot_pb.js';
import { fromReportJson, toReportJson } from './report-json.js';

const files = [
  file_vigil_v1_options,
  file_vigil_v1_common,
  file_vigil_v1_finding,
  file_vigil_v1_scan,
  file_vigil_v1_inventory,
  file_vigil_v1_exception,
  file_vigil_v1_compliance,
  file_vigil_v1_snapshot,
  file_vigil_v1_report,
  file_vigil_v1_envelope,
];

function allEnums(): DescEnum[] {
  const out: DescEnum[] = [];
  for (const f of files) {
    out.push(...f.enums);
    const stack = [...f.messages];
    while (stack.length) {
      const m = stack.pop()!;
      out.push(...m.nestedEnums);
      stack.push(...m.nestedMessages);
    }
  }
  return out;
}

const started = new Date('2026-03-01T10:00:00Z');
const completed = new Date('2026-03-01T10:00:02.5Z');

function hostReport() {
  return create(HostReportSchema, {
    schemaVersion: 1,
    scanId: 'scan-host-1',
    scope: { cluster: 'default' },
    target: {
      kind: TargetKind.NODE,
      key: 'worker-1',
      ref: { case: 'node', value: { node: 'worker-1', rootPath: '/host' } },
    },
    status: ScanStatus.OK,
    startedAt: timestampFromDate(started),
    completedAt: timestampFromDate(completed),
    checks: [
      {
        id: 'host-sshd-permit-root-login',
        version: 1,
        title: 'SSH daemon refuses root logins',
        status: CheckStatus.FAIL,
        severity: Severity.HIGH,
        pciRequirements: ['2.2.6', '8.2.2'],
        field: '/etc/ssh/sshd_config PermitRootLogin',
        expected: 'no',
        actual: 'yes',
        findingId: 'host-0f1e2d3c4b5a69788796a5b4c3d2e1f0',
      },
      {
        id: 'host-kubelet-anonymous-auth',
        version: 3,
        title: 'Kubelet rejects anonymous requests',
        status: CheckStatus.PASS,
        severity: Severity.CRITICAL,
      },
      {
        id: 'host-auditd-running',
        version: 1,
        status: CheckStatus.NOT_APPLICABLE,
        reason: 'no auditd unit on this node',
      },
      {
        id: 'host-shadow-permissions',
        version: 1,
        status: CheckStatus.ERROR,
        severity: Severity.UNKNOWN,
        reason: '/etc/shadow: EACCES',
      },
    ],
    summary: { pass: 1, fail: 1, notApplicable: 1, error: 1, total: 4 },
  });
}

test('HostReport JSON: plain enum words, lowerCamelCase, zero values present', () => {
  const json = toReportJson(HostReportSchema, hostReport());
  const checks = json['checks'] as JsonObject[];
  assert.deepEqual(
    checks.map((c) => c['status']),
    ['fail', 'pass', 'not_applicable', 'error'],
  );
  assert.deepEqual(
    checks.map((c) => c['severity']),
    ['HIGH', 'CRITICAL', 'UNSPECIFIED', 'UNKNOWN'],
  );
  assert.equal(json['status'], 'ok');
  assert.equal(json['schemaVersion'], 1);
  assert.equal(json['startedAt'], '2026-03-01T10:00:00Z');
  assert.equal(json['completedAt'], '2026-03-01T10:00:02.500Z');
  assert.deepEqual(json['target'], {
    kind: 'node',
    key: 'worker-1',
    node: { node: 'worker-1', rootPath: '/host' },
  });
  // Zero values are written, not left out.
  assert.equal(json['error'], '');
  const third = checks[2]!;
  assert.equal(third['title'], '');
  assert.deepEqual(third['pciRequirements'], []);
  assert.equal(third['findingId'], '');
  assert.equal(third['expected'], '');
  assert.deepEqual((json['summary'] as JsonObject)['notApplicable'], 1);
  assert.deepEqual(json['scope'], { tenant: '', cluster: 'default' });
});

test('HostReport survives a JSON round trip', () => {
  const report = hostReport();
  const json = JSON.parse(JSON.stringify(toReportJson(HostReportSchema, report))) as unknown;
  assert.ok(equals(HostReportSchema, fromReportJson(HostReportSchema, json), report));
});

function complianceReport() {
  return create(ComplianceReportSchema, {
    schemaVersion: 1,
    scope: { cluster: 'default' },
    frameworkVersion: '4.0.1',
    snapshotVersion: 7,
    contentHash: 'sha256:' + '1'.repeat(64),
    previousHash: 'sha256:' + '2'.repeat(64),
    logPosition: [{ topic: 'scans', partition: 2, offset: '9007199254740993' }],
    generatedAt: timestampFromDate(completed),
    requirements: [
      {
        id: '2.2.6',
        status: RequirementStatus.NOT_IN_PLACE,
        findingIds: ['host-0f1e2d3c4b5a69788796a5b4c3d2e1f0'],
      },
      { id: '6.3.3', status: RequirementStatus.IN_PLACE, evidence: [{ key: 'images scanned', value: '3' }] },
      { id: '10.2.1', status: RequirementStatus.NOT_TESTED, reason: 'no runtime events ingested' },
      { id: '3.5.1', status: RequirementStatus.NOT_APPLICABLE },
      { id: '12.8.1', status: RequirementStatus.MANUALLY_ATTESTED },
    ],
    summary: { inPlace: 1, notInPlace: 1, notTested: 1, notApplicable: 1, manuallyAttested: 1, total: 5 },
    findings: [
      {
        id: 'host-0f1e2d3c4b5a69788796a5b4c3d2e1f0',
        source: FindingSource.HOST,
        ruleId: 'host-sshd-permit-root-login',
        severity: Severity.HIGH,
        asset: { kind: AssetKind.NODE, cluster: 'default', node: 'worker-1' },
        detection: {
          matchType: MatchType.CHECK,
          unit: { id: 'host-sshd-permit-root-login', version: 1 },
          expected: 'no',
          actual: 'yes',
        },
      },
    ],
  });
}

test('ComplianceReport JSON: requirement statuses and nested finding enums as words', () => {
  const json = toReportJson(ComplianceReportSchema, complianceReport());
  const reqs = json['requirements'] as JsonObject[];
  assert.deepEqual(
    reqs.map((r) => r['status']),
    ['not_in_place', 'in_place', 'not_tested', 'not_applicable', 'manually_attested'],
  );
  const finding = (json['findings'] as JsonObject[])[0]!;
  assert.equal(finding['source'], 'host');
  assert.equal(finding['severity'], 'HIGH');
  assert.equal((finding['asset'] as JsonObject)['kind'], 'node');
  assert.equal((finding['detection'] as JsonObject)['matchType'], 'check');
  assert.equal(finding['description'], '');
  assert.deepEqual(finding['aliases'], []);
  // 64-bit offsets are strings in proto3 JSON; beyond 2^53 they must not lose digits.
  assert.deepEqual(json['logPosition'], [{ topic: 'scans', partition: 2, offset: '9007199254740993' }]);
  assert.equal(reqs[2]!['reason'], 'no runtime events ingested');
  assert.deepEqual(reqs[0]!['exceptionIds'], []);
  const back = fromReportJson(ComplianceReportSchema, JSON.parse(JSON.stringify(json)));
  assert.ok(equals(ComplianceReportSchema, back, complianceReport()));
});

test('SnapshotDiff JSON: enums in repeated nested messages; repeated enum fields', () => {
  const diff = create(SnapshotDiffSchema, {
    schemaVersion: 1,
    scope: { cluster: 'default' },
    from: 6,
    to: 7,
    findings: { resolved: [{ id: 'config-1', source: FindingSource.CONFIG, severity: Severity.MEDIUM }] },
    requirements: [{ id: '2.2.6', from: RequirementStatus.IN_PLACE, to: RequirementStatus.NOT_IN_PLACE }],
  });
  const json = toReportJson(SnapshotDiffSchema, diff);
  assert.deepEqual(json['requirements'], [{ id: '2.2.6', from: 'in_place', to: 'not_in_place' }]);
  const findings = json['findings'] as JsonObject;
  assert.deepEqual(findings['added'], []);
  assert.equal((findings['resolved'] as JsonObject[])[0]!['source'], 'config');
  assert.ok(equals(SnapshotDiffSchema, fromReportJson(SnapshotDiffSchema, json), diff));

  const selector = create(FindingSelectorSchema, {
    sources: [FindingSource.IMAGE, FindingSource.CORRELATED],
  });
  const selJson = toReportJson(FindingSelectorSchema, selector);
  assert.deepEqual(selJson['sources'], ['image', 'correlated']);
  assert.ok(equals(FindingSelectorSchema, fromReportJson(FindingSelectorSchema, selJson), selector));
});

test('fromReportJson names the path and the allowed words of a bad enum value', () => {
  const json = toReportJson(ComplianceReportSchema, complianceReport());
  const reqs = json['requirements'] as JsonObject[];
  reqs[3] = { ...reqs[3]!, status: 'in-place' };
  assert.throws(() => fromReportJson(ComplianceReportSchema, json), {
    message:
      'ComplianceReport.requirements[3].status: "in-place" is not a RequirementStatus (expected one of unspecified, in_place, not_in_place, not_tested, not_applicable, manually_attested)',
  });
  const good = toReportJson(ComplianceReportSchema, complianceReport());
  assert.throws(() => fromReportJson(ComplianceReportSchema, []), /must be a JSON object, got object/);
  assert.throws(
    () => fromReportJson(ComplianceReportSchema, { ...good, schemaVersion: 2 }),
    /schemaVersion 2 is newer than this build reads \(1\)/,
  );
  const { schemaVersion: _dropped, ...unversioned } = good;
  assert.throws(
    () => fromReportJson(ComplianceReportSchema, unversioned),
    /schemaVersion must be a positive integer, got null/,
  );
  assert.throws(
    () => fromReportJson(ComplianceReportSchema, { ...good, colour: 'red' }),
    /not a valid vigil\.v1\.ComplianceReport: .*colour/,
  );
  assert.throws(
    () => toReportJson(HostReportSchema, create(HostReportSchema)),
    /HostReport\.schemaVersion is not set/,
  );
});

test('fromReportJson reads proto enum names too and never mutates its input', () => {
  const json = toReportJson(HostReportSchema, hostReport());
  const checks = json['checks'] as JsonObject[];
  checks[0] = { ...checks[0]!, status: 'CHECK_STATUS_FAIL', severity: 'SEVERITY_HIGH' };
  const snapshot = JSON.stringify(json);
  assert.ok(equals(HostReportSchema, fromReportJson(HostReportSchema, json), hostReport()));
  assert.equal(JSON.stringify(json), snapshot);
});

test('every vigil enum declares its JSON word case, and the words are the ones the issues use', () => {
  const byName = new Map(allEnums().map((e) => [e.typeName, e]));
  for (const e of byName.values()) {
    if (e.typeName === 'vigil.v1.JsonWordCase') continue;
    assert.notEqual(
      getOption(e, json_word_case),
      JsonWordCase.UNSPECIFIED,
      `${e.typeName} has no (vigil.v1.json_word_case)`,
    );
  }
  const words = (typeName: string, sample: (v: number) => unknown) =>
    byName
      .get(typeName)!
      .values.filter((v) => v.number !== 0)
      .map((v) => sample(v.number));
  const selectorWith = (n: number) =>
    toReportJson(FindingSelectorSchema, create(FindingSelectorSchema, { sources: [n] }))['sources'];
  assert.deepEqual(
    words('vigil.v1.FindingSource', (n) => (selectorWith(n) as string[])[0]),
    ['image', 'config', 'runtime', 'host', 'correlated'],
  );
  const checkWith = (field: 'status' | 'severity') => (n: number) =>
    (
      toReportJson(
        HostReportSchema,
        create(HostReportSchema, { schemaVersion: 1, checks: [{ [field]: n }] }),
      )['checks'] as JsonObject[]
    )[0]![field];
  assert.deepEqual(words('vigil.v1.Severity', checkWith('severity')), [
    'CRITICAL',
    'HIGH',
    'MEDIUM',
    'LOW',
    'UNKNOWN',
  ]);
  assert.deepEqual(words('vigil.v1.CheckStatus', checkWith('status')), [
    'pass',
    'fail',
    'not_applicable',
    'error',
  ]);
});
