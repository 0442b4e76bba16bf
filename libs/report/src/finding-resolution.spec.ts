import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  Events,
  ScannerKind,
  ScanStatus,
  Severity,
  misconfig,
  runtimeAlert,
  vuln,
} from './events.spec-helper.js';
import { fold, initialState, evolve, readyForSnapshot, scanReadiness, scopeStateOf } from './scope-state.js';
import { resolveFindings } from './finding-resolution.js';

const APP = 'registry.example.com/payments/api:1.4';
const DIGEST_A = 'sha256:' + 'a1'.repeat(32);
const DIGEST_B = 'sha256:' + 'b2'.repeat(32);

const openssl = (digest: string) =>
  vuln({
    cve: 'CVE-2024-0727',
    pkg: 'openssl',
    installed: '3.0.11-1~deb12u2',
    fixed: '3.0.13-1~deb12u1',
    imageRef: APP,
    digest,
    severity: Severity.MEDIUM,
  });
const zlib = (digest: string) =>
  vuln({
    cve: 'CVE-2023-45853',
    pkg: 'zlib1g',
    installed: '1:1.2.13.dfsg-1',
    imageRef: APP,
    digest,
    severity: Severity.CRITICAL,
  });

function openIds(events: ReturnType<Events['started']>[]): string[] {
  const state = fold(events);
  const scope = scopeStateOf(state, { cluster: 'prod' });
  assert.ok(scope, 'the prod scope exists');
  return resolveFindings(scope).open.map((o) => o.finding.id);
}

describe('finding resolution', () => {
  it('keeps a reported finding open until a scan completes', () => {
    // given a scan that reported a finding but has not completed
    const e = new Events();
    const f = openssl(DIGEST_A);
    // when folded
    const ids = openIds([e.started('scan-1', ScannerKind.IMAGE, APP, 0), e.reported('scan-1', f, 1)]);
    // then the finding is open
    assert.deepEqual(ids, [f.id]);
  });

  it('resolves a finding that a later ok scan of the same scanner, scope and target key no longer lists', () => {
    const e = new Events();
    const a = openssl(DIGEST_A);
    const b = zlib(DIGEST_A);
    const ids = openIds([
      e.reported('scan-1', a, 1),
      e.reported('scan-1', b, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id, b.id],
      }),
      e.reported('scan-2', b, 11),
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 12,
        findingIds: [b.id],
      }),
    ]);
    assert.deepEqual(ids, [b.id].sort());
  });

  it('resolves a finding only through a later scan that ran its unit', () => {
    // A host scan without advisory data runs the host checks but not the package matcher: it must not resolve
    // the package findings an earlier scan with advisory data reported.
    const e = new Events();
    const on = { namespace: '', workload: 'pay-worker-1', severity: Severity.HIGH, pci: ['2.2.4'] };
    const pkg = misconfig({ ...on, check: 'host.os-package-vulnerabilities', field: '/var/lib/dpkg/status' });
    const sshd = misconfig({ ...on, check: 'sshd.permit-root-login', field: '/etc/ssh/sshd_config' });
    const units = (...ids: string[]) => ids.map((id) => ({ id, version: 1 }));
    const base = [
      e.reported('scan-1', pkg, 1),
      e.reported('scan-1', sshd, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.HOST,
        targetKey: 'pay-worker-1',
        minute: 2,
        findingIds: [pkg.id, sshd.id],
        units: units('host.os-package-vulnerabilities', 'sshd.permit-root-login'),
      }),
    ];
    const withoutMatcher = openIds([
      ...base,
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.HOST,
        targetKey: 'pay-worker-1',
        minute: 12,
        findingIds: [],
        units: units('sshd.permit-root-login'),
      }),
    ]);
    assert.deepEqual(withoutMatcher, [pkg.id]);
    const withMatcher = openIds([
      ...base,
      e.completed({
        scanId: 'scan-3',
        scanner: ScannerKind.HOST,
        targetKey: 'pay-worker-1',
        minute: 12,
        findingIds: [],
        units: units('sshd.permit-root-login', 'host.os-package-vulnerabilities'),
      }),
    ]);
    assert.deepEqual(withMatcher, []);
  });

  it('does not resolve a finding through a scan of another target key', () => {
    const e = new Events();
    const a = openssl(DIGEST_A);
    const other = 'registry.example.com/payments/api:1.5';
    const ids = openIds([
      e.reported('scan-1', a, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id],
      }),
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.IMAGE,
        targetKey: other,
        minute: 12,
        findingIds: [],
      }),
    ]);
    assert.deepEqual(ids, [a.id]);
  });

  it('does not resolve a finding through another scanner with the same target key', () => {
    const e = new Events();
    const a = openssl(DIGEST_A);
    const ids = openIds([
      e.reported('scan-1', a, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id],
      }),
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.CONFIG,
        targetKey: APP,
        minute: 12,
        findingIds: [],
      }),
    ]);
    assert.deepEqual(ids, [a.id]);
  });

  it('resolves nothing through a failed or unavailable scan', () => {
    for (const status of [ScanStatus.FAILED, ScanStatus.UNAVAILABLE]) {
      const e = new Events();
      const a = openssl(DIGEST_A);
      const ids = openIds([
        e.reported('scan-1', a, 1),
        e.completed({
          scanId: 'scan-1',
          scanner: ScannerKind.IMAGE,
          targetKey: APP,
          minute: 2,
          findingIds: [a.id],
        }),
        e.completed({
          scanId: 'scan-2',
          scanner: ScannerKind.IMAGE,
          targetKey: APP,
          minute: 12,
          findingIds: [],
          status,
          error: 'registry timed out',
        }),
      ]);
      assert.deepEqual(ids, [a.id], `status ${ScanStatus[status]}`);
    }
  });

  it('lets a scan of a new digest under the same tag supersede the old digest', () => {
    // given the tag scanned at digest A with two findings, then rebuilt to digest B that fixed openssl
    const e = new Events();
    const events = [
      e.reported('scan-1', openssl(DIGEST_A), 1),
      e.reported('scan-1', zlib(DIGEST_A), 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        digest: DIGEST_A,
        minute: 2,
        findingIds: [openssl(DIGEST_A).id, zlib(DIGEST_A).id],
      }),
      e.reported('scan-2', zlib(DIGEST_B), 21),
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        digest: DIGEST_B,
        minute: 22,
        findingIds: [zlib(DIGEST_B).id],
      }),
    ];
    // when folded
    const scope = scopeStateOf(fold(events), { cluster: 'prod' });
    assert.ok(scope);
    const open = resolveFindings(scope).open;
    // then only zlib is open, shown as seen on the new digest, first seen at the first scan
    assert.deepEqual(
      open.map((o) => o.finding.ruleId),
      ['CVE-2023-45853'],
    );
    assert.equal(open[0]?.finding.asset?.imageDigest, DIGEST_B);
    assert.equal(open[0]?.finding.firstSeen?.seconds, BigInt(Date.parse('2026-11-02T09:01:00Z') / 1000));
    assert.equal(open[0]?.finding.lastSeen?.seconds, BigInt(Date.parse('2026-11-02T09:21:00Z') / 1000));
  });

  it('keeps a finding re-reported by a scan that started after the last ok scan', () => {
    // scan-3 is still running and has re-found the openssl issue scan-2 did not list
    const e = new Events();
    const a = openssl(DIGEST_A);
    const ids = openIds([
      e.reported('scan-1', a, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id],
      }),
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 12,
        findingIds: [],
      }),
      e.started('scan-3', ScannerKind.IMAGE, APP, 20),
      e.reported('scan-3', a, 21),
    ]);
    assert.deepEqual(ids, [a.id]);
  });

  it('orders scans by their own start time, not by arrival', () => {
    // the completion of the older scan arrives last; the newer scan (which no longer lists the finding) still wins
    const e = new Events();
    const a = openssl(DIGEST_A);
    const ids = openIds([
      e.completed({
        scanId: 'scan-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 12,
        findingIds: [],
      }),
      e.reported('scan-1', a, 1),
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id],
      }),
    ]);
    assert.deepEqual(ids, []);
  });

  it('does not resolve runtime detections by absence', () => {
    const e = new Events();
    const alert = runtimeAlert('Terminal shell in container', 'node-a', ['10.2.1', '11.5.1']);
    const events = [
      e.reported('rt-1', alert, 1),
      e.completed({
        scanId: 'rt-1',
        scanner: ScannerKind.RUNTIME,
        targetKey: 'falco:/var/log/falco.json',
        minute: 2,
        findingIds: [alert.id],
      }),
      e.completed({
        scanId: 'rt-2',
        scanner: ScannerKind.RUNTIME,
        targetKey: 'falco:/var/log/falco.json',
        minute: 12,
        findingIds: [],
      }),
    ];
    assert.deepEqual(openIds(events), [alert.id]);
    // and the hook closes it when the runtime window rule says so
    const scope = scopeStateOf(fold(events), { cluster: 'prod' });
    assert.ok(scope);
    assert.deepEqual(resolveFindings(scope, { runtimeOpen: () => false }).open, []);
  });

  it('is idempotent on event id', () => {
    const e = new Events();
    const a = openssl(DIGEST_A);
    const reported = e.reported('scan-1', a, 1);
    const completed = e.completed({
      scanId: 'scan-1',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      minute: 2,
      findingIds: [a.id],
    });
    const once = fold([reported, completed]);
    const twice = fold([reported, completed, reported, completed]);
    assert.equal(twice.seenEventIds.size, 2);
    assert.equal(
      scopeStateOf(twice, { cluster: 'prod' })?.eventCount,
      scopeStateOf(once, { cluster: 'prod' })?.eventCount,
    );
  });

  it('keeps scopes apart', () => {
    const prod = new Events('prod');
    const stage = new Events('stage');
    const a = openssl(DIGEST_A);
    const state = fold([
      prod.reported('scan-1', a, 1),
      prod.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id],
      }),
      stage.completed({
        scanId: 'scan-9',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 12,
        findingIds: [],
      }),
    ]);
    const scope = scopeStateOf(state, { cluster: 'prod' });
    assert.ok(scope);
    assert.deepEqual(
      resolveFindings(scope).open.map((o) => o.finding.id),
      [a.id],
    );
  });

  it('rejects an event without a scope cluster, naming the event', () => {
    const e = new Events();
    const event = e.reported('scan-1', openssl(DIGEST_A), 1);
    event.scope = undefined;
    assert.throws(
      () => evolve(initialState(), event),
      /event 00000000-0000-4000-8000-000000000001 \(vigil\.v1\.FindingReported\) has no scope cluster/,
    );
  });
});

describe('readyForSnapshot', () => {
  it('waits until every finding id of the completed scan has been projected', () => {
    // given a completion listing two findings, with the reports arriving after it
    const e = new Events();
    const a = openssl(DIGEST_A);
    const b = misconfig({
      check: 'k8s-privileged-container',
      namespace: 'payments',
      workload: 'api',
      field: 'spec.template.spec.containers[0].securityContext.privileged',
      severity: Severity.HIGH,
      pci: ['2.2.5'],
    });
    let state = initialState();
    assert.equal(readyForSnapshot(state, 'scan-1'), false, 'unknown scan');
    state = evolve(state, e.started('scan-1', ScannerKind.IMAGE, APP, 0));
    assert.equal(readyForSnapshot(state, 'scan-1'), false, 'started, not completed');
    state = evolve(
      state,
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 2,
        findingIds: [a.id, b.id],
      }),
    );
    assert.deepEqual(scanReadiness(state, 'scan-1').missingFindingIds, [a.id, b.id].sort());
    assert.equal(readyForSnapshot(state, 'scan-1'), false);
    state = evolve(state, e.reported('scan-1', a, 1));
    assert.deepEqual(scanReadiness(state, 'scan-1').missingFindingIds, [b.id]);
    state = evolve(state, e.reported('scan-1', b, 1));
    // then it is ready once the last one is in
    assert.equal(readyForSnapshot(state, 'scan-1'), true);
  });

  it('is ready at once for a completed scan that found nothing, or was unavailable', () => {
    const e = new Events();
    const state = fold([
      e.completed({
        scanId: 'scan-1',
        scanner: ScannerKind.HOST,
        targetKey: 'node-a',
        minute: 2,
        findingIds: [],
        status: ScanStatus.UNAVAILABLE,
        error: 'host assessor engine not available',
      }),
    ]);
    assert.equal(readyForSnapshot(state, 'scan-1'), true);
  });
});
