import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DetectionCloseReason,
  FindingSchema,
  RequirementStatus,
  SnapshotDiffSchema,
  TimeWindowSchema,
  create,
  newEnvelope,
  timestampFromDate,
  toReportJson,
  type EventEnvelope,
  type Finding,
} from '@vigil/contracts';
import {
  Events,
  PRODUCER,
  ScannerKind,
  Severity,
  at,
  misconfig,
  runtimeAlert,
  subsetCatalog,
  vuln,
} from './events.spec-helper.js';
import { DEFAULT_RUNTIME_QUIET_PERIOD_MS } from './runtime-window.js';
import { fold } from './scope-state.js';
import { buildSnapshot, type Snapshot } from './snapshot.builder.js';
import { diffSnapshots } from './snapshot-diff.js';

const APP = 'registry.example.com/payments/api:1.4';
const OLD = 'sha256:' + 'd4'.repeat(32);
const NEW = 'sha256:' + 'e5'.repeat(32);
const catalog = subsetCatalog(['2.2.5', '6.3.1', '11.3.1', '12.5.2']);

function snapshot(events: readonly EventEnvelope[], previous?: Snapshot): Snapshot {
  return buildSnapshot({
    state: fold(events),
    scope: { cluster: 'prod' },
    catalog,
    entityType: 'merchant',
    logPosition: [{ topic: 'scans', partition: 0, offset: String(events.length) }],
    createdAt: new Date('2026-11-02T12:00:00Z'),
    ...(previous ? { previous } : {}),
  });
}

describe('diffSnapshots', () => {
  it('shows a fixed finding as resolved, a re-rated one as changed, a new one as added, and the status change', () => {
    // given version 1: two vulnerabilities and a privileged container
    const e = new Events();
    const zlib = vuln({
      cve: 'CVE-2023-45853',
      pkg: 'zlib1g',
      installed: '1:1.2.13.dfsg-1',
      imageRef: APP,
      digest: OLD,
      severity: Severity.CRITICAL,
    });
    const openssl = vuln({
      cve: 'CVE-2024-0727',
      pkg: 'openssl',
      installed: '3.0.11-1~deb12u2',
      fixed: '3.0.13-1~deb12u1',
      imageRef: APP,
      digest: OLD,
      severity: Severity.MEDIUM,
    });
    const priv = misconfig({
      check: 'k8s-privileged-container',
      namespace: 'payments',
      workload: 'api',
      field: 'spec.template.spec.containers[0].securityContext.privileged',
      severity: Severity.HIGH,
      pci: ['2.2.5'],
    });
    const before = [
      e.reported('img-1', zlib, 1),
      e.reported('img-1', openssl, 1),
      e.completed({
        scanId: 'img-1',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        digest: OLD,
        minute: 2,
        findingIds: [zlib.id, openssl.id],
      }),
      e.reported('k8s-1', priv, 3),
      e.completed({
        scanId: 'k8s-1',
        scanner: ScannerKind.CONFIG,
        targetKey: 'live',
        minute: 4,
        findingIds: [priv.id],
      }),
    ];
    const v1 = snapshot(before);

    // when the image is rebuilt (zlib fixed, openssl re-rated HIGH, nghttp2 new) and the privileged flag removed
    const opensslHigh = vuln({
      cve: 'CVE-2024-0727',
      pkg: 'openssl',
      installed: '3.0.11-1~deb12u2',
      fixed: '3.0.13-1~deb12u1',
      imageRef: APP,
      digest: NEW,
      severity: Severity.HIGH,
    });
    const nghttp2 = vuln({
      cve: 'CVE-2024-28182',
      pkg: 'libnghttp2-14',
      installed: '1.52.0-1',
      fixed: '1.52.0-1+deb12u1',
      imageRef: APP,
      digest: NEW,
      severity: Severity.MEDIUM,
    });
    const after = [
      ...before,
      e.reported('img-2', opensslHigh, 20),
      e.reported('img-2', nghttp2, 20),
      e.completed({
        scanId: 'img-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        digest: NEW,
        minute: 21,
        findingIds: [opensslHigh.id, nghttp2.id],
      }),
      e.completed({
        scanId: 'k8s-2',
        scanner: ScannerKind.CONFIG,
        targetKey: 'live',
        minute: 22,
        findingIds: [],
      }),
    ];
    const v2 = snapshot(after, v1);
    const diff = diffSnapshots(v1, v2);

    // then
    assert.equal(diff.from, 1);
    assert.equal(diff.to, 2);
    assert.deepEqual(
      diff.findings?.added.map((f) => f.ruleId),
      ['CVE-2024-28182'],
    );
    assert.deepEqual(diff.findings?.resolved.map((f) => f.ruleId).sort(), [
      'CVE-2023-45853',
      'k8s-privileged-container',
    ]);
    assert.deepEqual(
      diff.findings?.changed.map((c) => [c.findingId, c.fields]),
      [[openssl.id, ['severity', 'asset']]],
    );
    assert.equal(diff.findings?.changed[0]?.before?.severity, Severity.MEDIUM);
    assert.equal(diff.findings?.changed[0]?.after?.severity, Severity.HIGH);
    assert.deepEqual(
      diff.requirements.map((r) => [r.id, RequirementStatus[r.from], RequirementStatus[r.to]]),
      [['2.2.5', 'NOT_IN_PLACE', 'NOT_TESTED']],
    );

    // and its JSON is the published shape, with statuses as plain words
    const json = toReportJson(SnapshotDiffSchema, diff) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json).sort(), [
      'findings',
      'from',
      'requirements',
      'schemaVersion',
      'scope',
      'to',
    ]);
    assert.deepEqual(json['requirements'], [{ id: '2.2.5', from: 'not_in_place', to: 'not_tested' }]);
  });

  it('reports nothing between two versions of the same content', () => {
    const e = new Events();
    const zlib = vuln({
      cve: 'CVE-2023-45853',
      pkg: 'zlib1g',
      installed: '1:1.2.13.dfsg-1',
      imageRef: APP,
      digest: OLD,
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
    const v1 = snapshot(events);
    // a rescan that sees the same finding again moves last seen only
    const again = [
      ...events,
      e.reported('img-2', zlib, 30),
      e.completed({
        scanId: 'img-2',
        scanner: ScannerKind.IMAGE,
        targetKey: APP,
        minute: 31,
        findingIds: [zlib.id],
      }),
    ];
    const v2 = snapshot(again, v1);
    const diff = diffSnapshots(v1, v2);
    assert.deepEqual(
      [
        diff.findings?.added.length,
        diff.findings?.resolved.length,
        diff.findings?.changed.length,
        diff.requirements.length,
      ],
      [0, 0, 0, 0],
    );
  });

  it('refuses to diff snapshots of different scopes', () => {
    const a = snapshot([]);
    const b = buildSnapshot({
      state: fold([]),
      scope: { cluster: 'stage' },
      catalog,
      entityType: 'merchant',
      logPosition: [],
      createdAt: new Date(0),
    });
    assert.throws(() => diffSnapshots(a, b), /different scopes \("prod" and "stage"\)/);
  });

  it('names the runtime detections that left as quiet apart from other resolved findings, outside the message', () => {
    const sevenDays = DEFAULT_RUNTIME_QUIET_PERIOD_MS / 60_000;
    const seen = (alert: Finding, first: number, last: number): Finding => {
      const start = timestampFromDate(at(first));
      const end = timestampFromDate(at(last));
      return create(FindingSchema, {
        ...alert,
        firstSeen: start,
        lastSeen: end,
        window: create(TimeWindowSchema, { start, end }),
      });
    };
    const e = new Events();
    const shell = runtimeAlert('falco:Terminal shell in container', 'node-a', ['11.5.1']);
    const egress = runtimeAlert('runtime/unexpected-egress', 'node-b', ['1.3.2']);
    const acked = runtimeAlert('falco:Write below etc', 'node-c', ['11.5.2']);
    const priv = misconfig({
      check: 'k8s-privileged-container',
      namespace: 'payments',
      workload: 'api',
      field: 'spec.template.spec.containers[0].securityContext.privileged',
      severity: Severity.HIGH,
      pci: ['2.2.5'],
    });
    const v1Events = [
      e.reported('rt-1', seen(shell, 1, 10), 11),
      e.reported('rt-1', seen(acked, 2, 12), 13),
      e.reported('k8s-1', priv, 14),
      e.completed({
        scanId: 'k8s-1',
        scanner: ScannerKind.CONFIG,
        targetKey: 'live',
        minute: 15,
        findingIds: [priv.id],
      }),
    ];
    const v1 = snapshot(v1Events);
    // Version 2: another node's detection, seven days after the shell's last occurrence (on the dot) and less than
    // that after the acknowledged one's; the acknowledgement; a config scan that no longer lists the privileged flag.
    const ack = newEnvelope({
      payload: {
        case: 'detectionClosed',
        value: {
          findingId: acked.id,
          scope: { cluster: 'prod' },
          reason: DetectionCloseReason.ACKNOWLEDGED,
          closedAt: timestampFromDate(at(20)),
          closedBy: 'alice@example.com',
          note: 'change window',
          exceptionId: '',
        },
      },
      scope: { cluster: 'prod' },
      subjectKey: acked.id,
      producer: PRODUCER,
      clock: () => at(20),
      newId: () => '00000000-0000-4000-9000-000000000001',
    });
    const v2 = snapshot(
      [
        ...v1Events,
        ack,
        e.reported('rt-2', seen(egress, 10 + sevenDays - 5, 10 + sevenDays), 10 + sevenDays + 1),
        e.completed({
          scanId: 'k8s-2',
          scanner: ScannerKind.CONFIG,
          targetKey: 'live',
          minute: 10 + sevenDays + 2,
          findingIds: [],
        }),
      ],
      v1,
    );
    const d = diffSnapshots(v1, v2);
    assert.deepEqual(d.findings?.resolved.map((f) => f.id).sort(), [shell.id, acked.id, priv.id].sort());
    assert.deepEqual(d.findings?.closedQuietIds, [shell.id]);
    assert.deepEqual(
      d.findings?.added.map((f) => f.id),
      [egress.id],
    );
    const json = toReportJson(SnapshotDiffSchema, d) as { findings: { closedQuietIds: string[] } };
    assert.deepEqual(json.findings.closedQuietIds, [shell.id]);
    // In the other direction nothing left as quiet.
    assert.deepEqual(diffSnapshots(v2, v1).findings?.closedQuietIds, []);
  });
});
