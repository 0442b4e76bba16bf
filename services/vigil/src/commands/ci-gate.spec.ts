// The `vigil ci` gate: baseline comparison, exceptions, the ignore file, severity and requirement thresholds. The
// findings are the example platform's (examples/payments): CVE-2023-5363 in libssl3 (DSA-5532-1, fixed in
// 3.0.11-1~deb12u2), CVE-2023-4911 in libc6 (DSA-5514-1) and the tokenizer's privileged container; their ids are the
// contracts' findingId, as the engines derive them. Baselines are parsed from the published JSON the CLI prints.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AssetKind,
  ComplianceReportSchema,
  FindingSchema,
  FindingSource,
  RequirementStatus,
  ScanReportSchema,
  ScannerKind,
  ScanStatus,
  Severity,
  create,
  findingId,
  toReportJson,
  type ComplianceReport,
  type Finding,
} from '@vigil/contracts';
import { parseIgnoreFile } from '@vigil/policy';
import { UsageError } from '../usage-error.js';
import {
  baselineOf,
  evaluateGate,
  exceptedIds,
  findingsSummary,
  isNew,
  parseBaseline,
  requirementMatches,
} from './ci-gate.js';
import { ciReports } from './ci.command.js';
import type { PolicyInput } from './findings-view.js';

const NOW = new Date('2026-11-02T10:00:00Z');
const image = {
  kind: AssetKind.IMAGE,
  cluster: 'default',
  imageRef: 'payment-api.tar',
  imageDigest: 'sha256:' + 'c'.repeat(64),
};

function vuln(cve: string, pkg: string, version: string, fixed: string, severity: Severity): Finding {
  const purl = `pkg:deb/debian/${pkg}`;
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.IMAGE, ruleId: cve, asset: image, location: purl }),
    source: FindingSource.IMAGE,
    ruleId: cve,
    title: `${pkg}: ${cve}`,
    severity,
    pciRequirements: ['6.3.1', '11.3.1'],
    asset: image,
    package: { ecosystem: 'deb', name: pkg, version, purl: `${purl}@${version}`, fixedVersion: fixed },
    locations: [purl],
  });
}
const ssl = vuln('CVE-2023-5363', 'libssl3', '3.0.11-1~deb12u1', '3.0.11-1~deb12u2', Severity.HIGH);
const libc = vuln('CVE-2023-4911', 'libc6', '2.36-9+deb12u1', '2.36-9+deb12u3', Severity.HIGH);
const tokenizer = {
  kind: AssetKind.WORKLOAD,
  cluster: 'default',
  namespace: 'payments',
  name: 'tokenizer',
  resourceKind: 'Deployment',
};
const field = 'spec.template.spec.containers[0].securityContext.privileged';
const privileged = create(FindingSchema, {
  id: findingId({
    source: FindingSource.CONFIG,
    ruleId: 'workload/privileged',
    asset: tokenizer,
    location: field,
  }),
  source: FindingSource.CONFIG,
  ruleId: 'workload/privileged',
  title: 'privileged container',
  severity: Severity.CRITICAL,
  pciRequirements: ['2.2.5'],
  asset: tokenizer,
  locations: [field],
});
const findings = [ssl, libc, privileged];

function snapshot(excepted: Finding[] = []): ComplianceReport {
  const open = (ids: string[]) => ids.filter((id) => !excepted.some((f) => f.id === id));
  return create(ComplianceReportSchema, {
    schemaVersion: 1,
    scope: { tenant: '', cluster: 'default' },
    frameworkVersion: '4.0.1',
    snapshotVersion: 2,
    contentHash: 'sha256:' + 'd'.repeat(64),
    requirements: [
      {
        id: '2.2.5',
        status: RequirementStatus.NOT_IN_PLACE,
        findingIds: open([privileged.id]),
        exceptedFindingIds: excepted.filter((f) => f === privileged).map((f) => f.id),
        exceptionIds: excepted.includes(privileged) ? ['x-1'] : [],
      },
      {
        id: '6.3.1',
        status: RequirementStatus.NOT_IN_PLACE,
        findingIds: open([ssl.id, libc.id]),
        exceptedFindingIds: excepted.filter((f) => f !== privileged).map((f) => f.id),
      },
    ],
    findings,
  });
}
const policy = (threshold?: PolicyInput['threshold'], ignores = ''): PolicyInput => ({
  ...(threshold ? { threshold } : {}),
  ignores: ignores ? parseIgnoreFile(ignores, '.vigilignore').rules : [],
  now: NOW,
});

describe('baseline comparison', () => {
  it('a finding is new when its id is not in the baseline or its severity went up', () => {
    const base = baselineOf('report.json', [ssl, { ...libc, severity: Severity.MEDIUM }]);
    assert.equal(isNew(ssl, base), false);
    assert.equal(isNew(libc, base), true, 'MEDIUM → HIGH is new risk');
    assert.equal(isNew(privileged, base), true);
    assert.equal(isNew({ ...ssl, severity: Severity.LOW }, base), false, 'a lower severity is not new');
    assert.equal(isNew(ssl, undefined), true);
  });

  it('reads the JSON of vigil report and of vigil scan', () => {
    const report = JSON.stringify(toReportJson(ComplianceReportSchema, snapshot()));
    const fromReport = parseBaseline('report.json', report);
    assert.deepEqual(
      [...fromReport.severities],
      [
        [ssl.id, Severity.HIGH],
        [libc.id, Severity.HIGH],
        [privileged.id, Severity.CRITICAL],
      ],
    );
    const scan = create(ScanReportSchema, {
      schemaVersion: 1,
      scanId: '6f1c1f62-8d1e-4a55-9a43-3b1a0b6c2f10',
      scanner: ScannerKind.IMAGE,
      status: ScanStatus.OK,
      findings: [ssl],
    });
    const fromScan = parseBaseline('scan.json', JSON.stringify(toReportJson(ScanReportSchema, scan)));
    assert.deepEqual([...fromScan.severities.keys()], [ssl.id]);
  });

  it('names the file and the problem when the baseline is not a report', () => {
    const bad = (text: string, why: RegExp) =>
      assert.throws(
        () => parseBaseline('old.json', text),
        (e: Error) =>
          e instanceof UsageError && /--baseline old\.json: /.test(e.message) && why.test(e.message),
      );
    bad('{"findings": [', /not JSON/);
    bad('[]', /not a vigil report/);
    bad('{"summary": {}}', /not a vigil report/);
    bad('{"schemaVersion": 1, "findings": [{"severity": "TERRIBLE"}]}', /severity|TERRIBLE/i);
  });
});

describe('evaluateGate', () => {
  it('fails on findings at or above --fail-on and names their requirements', () => {
    const g = evaluateGate({
      findings,
      report: snapshot(),
      policy: policy('CRITICAL'),
      failOnRequirements: [],
    });
    assert.equal(g.exitCode, 1);
    assert.deepEqual(
      g.failing.map((f) => f.id),
      [privileged.id],
    );
    assert.deepEqual(g.failingRequirements, ['2.2.5']);
    assert.deepEqual(g.reasons, ['1 finding(s) at or above CRITICAL']);
    assert.equal(g.waived.get(ssl.id), 'below the gate');
  });

  it('fails on any finding of a named requirement group', () => {
    const g = evaluateGate({ findings, report: snapshot(), policy: policy(), failOnRequirements: ['6.3'] });
    assert.deepEqual(
      g.failing.map((f) => f.ruleId),
      ['CVE-2023-5363', 'CVE-2023-4911'],
    );
    assert.deepEqual(g.failingRequirements, ['6.3.1']);
    assert.deepEqual(g.reasons, ['2 finding(s) failing requirement 6.3']);
    assert.equal(requirementMatches('6.3', '6.3.10'), true);
    assert.equal(requirementMatches('6.3', '6.30.1'), false);
  });

  it('passes when only baseline findings remain, and fails on the one that is new', () => {
    const all = baselineOf('snapshot 1', findings);
    const pass = evaluateGate({
      findings,
      report: snapshot(),
      policy: policy('HIGH'),
      failOnRequirements: [],
      baseline: all,
    });
    assert.equal(pass.exitCode, 0);
    assert.equal(pass.newCount, 0);
    assert.equal(pass.waived.get(privileged.id), 'in the baseline (snapshot 1)');
    const some = baselineOf('snapshot 1', [ssl, privileged]);
    const fail = evaluateGate({
      findings,
      report: snapshot(),
      policy: policy('HIGH'),
      failOnRequirements: [],
      baseline: some,
    });
    assert.deepEqual(
      fail.failing.map((f) => f.ruleId),
      ['CVE-2023-4911'],
    );
    assert.deepEqual(fail.reasons, ['1 new finding(s) at or above HIGH']);
  });

  it('counts findings an exception accepts apart from the open ones', () => {
    assert.equal(
      findingsSummary(findings, new Set()),
      '3 open (1 critical, 2 high, 0 medium, 0 low, 0 unknown), 0 accepted',
    );
    assert.equal(
      findingsSummary(findings, exceptedIds(snapshot([privileged]))),
      '2 open (0 critical, 2 high, 0 medium, 0 low, 0 unknown), 1 accepted',
    );
  });

  it('does not fail on active exceptions or ignore-file entries; an expired entry fails again', () => {
    assert.deepEqual([...exceptedIds(snapshot([privileged]))], [privileged.id]);
    const excepted = evaluateGate({
      findings,
      report: snapshot([privileged]),
      policy: policy('CRITICAL'),
      failOnRequirements: [],
    });
    assert.equal(excepted.exitCode, 0);
    assert.equal(excepted.waived.get(privileged.id), 'accepted risk (exception)');
    const ignoreFile = (expires: string) =>
      `ignores:\n  - id: workload/privileged\n    reason: the tokenizer needs the HSM device until Q1\n    expires: ${expires}\n`;
    const ignored = evaluateGate({
      findings,
      report: snapshot(),
      policy: policy('CRITICAL', ignoreFile('2027-01-31')),
      failOnRequirements: [],
    });
    assert.equal(ignored.exitCode, 0);
    assert.equal(ignored.waived.get(privileged.id), 'accepted in the ignore file');
    const expired = evaluateGate({
      findings,
      report: snapshot(),
      policy: policy('CRITICAL', ignoreFile('2026-10-01')),
      failOnRequirements: [],
    });
    assert.equal(expired.exitCode, 1);
    assert.match(
      expired.warnings[0] ?? '',
      /\.vigilignore:\d+: the rule for workload\/privileged expired on 2026-10-01/,
    );
  });
});

describe('vigil ci reports', () => {
  const fingerprint = 'SHA256:' + 'k'.repeat(43);
  const files = (keyFingerprint: string) =>
    ciReports({
      findings,
      report: snapshot(),
      failingIds: new Set([privileged.id]),
      waived: new Map([[ssl.id, 'in the baseline']]),
      toolVersion: '0.1.0',
      keyFingerprint,
    });

  it('carry the evidence key fingerprint under the names vigil report gives it', () => {
    const sarif = JSON.parse(files(fingerprint).sarif()) as {
      runs: { properties: Record<string, string> }[];
    };
    assert.equal(sarif.runs[0]!.properties['vigil-evidence-key-fingerprint'], fingerprint);
    const junit = files(fingerprint).junit();
    assert.ok(
      junit.includes(`<property name="vigil.evidence-key.fingerprint" value="${fingerprint}"/>`),
      junit.slice(0, 600),
    );
  });

  it('leave it out when there is no key, and still fail what the gate failed', () => {
    assert.ok(!files('').sarif().includes('vigil-evidence-key-fingerprint'));
    const junit = files('').junit();
    assert.ok(!junit.includes('vigil.evidence-key.fingerprint'));
    assert.match(junit, /<failure/);
  });
});
