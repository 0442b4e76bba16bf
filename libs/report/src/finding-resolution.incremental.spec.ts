// The incremental resolution (what a long-lived fold gets from resolveFindings) must answer exactly what a full
// pass over the same state answers, after every single event and in any arrival order: superseding scans of a
// tag, failed scans, scans that did not run a finding's unit, completions before their starts, re-reports, and
// runtime detections that are closed, reopened and go quiet.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DetectionCloseReason,
  create,
  FindingSchema,
  newEnvelope,
  timestampFromDate,
  type EventEnvelope,
  type Finding,
} from '@vigil/contracts';
import {
  Events,
  PRODUCER,
  ScannerKind,
  ScanStatus,
  Severity,
  at,
  misconfig,
  runtimeAlert,
  vuln,
} from './events.spec-helper.js';
import { evolve, initialState, type ScopeState } from './scope-state.js';
import { resolveFindings, type OpenFinding } from './finding-resolution.js';
import { pciCatalog } from './pci-catalog.adapter.js';
import { buildSnapshot, contentHashOf } from './snapshot.builder.js';

const APP = 'registry.example.com/payments/api:1.4';
const DIGEST_A = 'sha256:' + 'a1'.repeat(32);
const DIGEST_B = 'sha256:' + 'b2'.repeat(32);

let closeNo = 0;
function closed(findingId: string, minute: number): EventEnvelope {
  closeNo += 1;
  return newEnvelope({
    payload: {
      case: 'detectionClosed',
      value: {
        findingId,
        scope: { cluster: 'prod' },
        reason: DetectionCloseReason.ACKNOWLEDGED,
        closedAt: timestampFromDate(at(minute)),
        closedBy: 'oncall@example.com',
        note: 'expected during the change window',
      },
    },
    scope: { cluster: 'prod' },
    subjectKey: findingId,
    producer: PRODUCER,
    clock: () => at(minute),
    newId: () => `00000000-0000-4000-a000-${String(closeNo).padStart(12, '0')}`,
  });
}

function seen(alert: Finding, firstMinute: number, lastMinute: number): Finding {
  return create(FindingSchema, {
    ...alert,
    firstSeen: timestampFromDate(at(firstMinute)),
    lastSeen: timestampFromDate(at(lastMinute)),
  });
}

function scenario(): EventEnvelope[] {
  const ev = new Events();
  const opensslA = vuln({
    cve: 'CVE-2024-0727',
    pkg: 'openssl',
    installed: '3.0.11-1~deb12u2',
    fixed: '3.0.13-1~deb12u1',
    imageRef: APP,
    digest: DIGEST_A,
    severity: Severity.MEDIUM,
  });
  const zlibA = vuln({
    cve: 'CVE-2023-45853',
    pkg: 'zlib1g',
    installed: '1:1.2.13.dfsg-1',
    imageRef: APP,
    digest: DIGEST_A,
    severity: Severity.CRITICAL,
  });
  const zlibB = vuln({
    ...{ cve: 'CVE-2023-45853', pkg: 'zlib1g', installed: '1:1.2.13.dfsg-1' },
    imageRef: APP,
    digest: DIGEST_B,
    severity: Severity.CRITICAL,
  });
  const privileged = misconfig({
    check: 'VGL-K8S-001',
    namespace: 'payments',
    workload: 'api',
    field: 'spec.template.spec.containers[0].securityContext.privileged',
    severity: Severity.HIGH,
    pci: ['2.2.1'],
  });
  const rootLogin = misconfig({
    check: 'sshd.permit-root-login',
    namespace: 'node',
    workload: 'pay-worker-1',
    field: 'PermitRootLogin',
    severity: Severity.HIGH,
    pci: ['8.2.1'],
  });
  const shell = runtimeAlert('falco:Terminal shell in container', 'pay-worker-1', ['10.2.1']);
  const read = runtimeAlert('falco:Read sensitive file untrusted', 'pay-worker-2', ['10.2.1.2']);
  const units = (...ids: string[]) => ids.map((id) => ({ id, version: 1 }));
  return [
    ev.started('img-1', ScannerKind.IMAGE, APP, 1),
    ev.reported('img-1', opensslA, 2),
    ev.reported('img-1', zlibA, 2),
    ev.completed({
      scanId: 'img-1',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      minute: 3,
      digest: DIGEST_A,
      findingIds: [opensslA.id, zlibA.id],
    }),
    ev.started('cfg-1', ScannerKind.CONFIG, 'live', 4),
    ev.reported('cfg-1', privileged, 5),
    ev.completed({
      scanId: 'cfg-1',
      scanner: ScannerKind.CONFIG,
      targetKey: 'live',
      minute: 6,
      findingIds: [privileged.id],
    }),
    ev.reported('rt', seen(shell, 5, 6), 6),
    ev.reported('rt', seen(read, 6, 7), 7),
    ev.started('host-1', ScannerKind.HOST, 'pay-worker-1', 7),
    ev.reported('host-1', rootLogin, 8),
    ev.completed({
      scanId: 'host-1',
      scanner: ScannerKind.HOST,
      targetKey: 'pay-worker-1',
      minute: 9,
      units: units('sshd.permit-root-login'),
      findingIds: [rootLogin.id],
    }),
    // A failed image scan resolves nothing.
    ev.completed({
      scanId: 'img-2',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      minute: 10,
      status: ScanStatus.FAILED,
      error: 'registry unreachable',
      findingIds: [],
    }),
    closed(shell.id, 11),
    // A new digest under the same tag, its completion folded before its start: openssl is fixed, zlib remains.
    ev.completed({
      scanId: 'img-3',
      scanner: ScannerKind.IMAGE,
      targetKey: APP,
      minute: 13,
      digest: DIGEST_B,
      findingIds: [zlibB.id],
    }),
    ev.reported('img-3', zlibB, 13),
    ev.started('img-3', ScannerKind.IMAGE, APP, 12),
    // The config scan no longer lists the privileged container.
    ev.completed({
      scanId: 'cfg-2',
      scanner: ScannerKind.CONFIG,
      targetKey: 'live',
      minute: 14,
      findingIds: [],
    }),
    // A host scan without the sshd unit says nothing about root login; one with it resolves it.
    ev.completed({
      scanId: 'host-2',
      scanner: ScannerKind.HOST,
      targetKey: 'pay-worker-1',
      minute: 15,
      units: units('host.os-package-vulnerabilities'),
      findingIds: [],
    }),
    // The shell alert fires again after its acknowledgement: open again.
    ev.reported('rt-2', seen(shell, 16, 16), 16),
    ev.completed({
      scanId: 'host-3',
      scanner: ScannerKind.HOST,
      targetKey: 'pay-worker-1',
      minute: 17,
      units: units('sshd.permit-root-login'),
      findingIds: [],
    }),
    // Eight days on, by the sensors' own clock: the read alert has been quiet for the quiet period.
    ev.reported('rt-3', seen(shell, 16 + 8 * 24 * 60, 16 + 8 * 24 * 60), 16 + 8 * 24 * 60),
  ];
}

function shuffled<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

// A full pass: the same scope without its change journal.
function fullOf(scope: ScopeState) {
  const { changedFindings: _journal, ...rest } = scope;
  return resolveFindings(rest as ScopeState);
}

function view(open: readonly OpenFinding[]) {
  return open.map((o) => ({ id: o.finding.id, finding: o.finding, scanIds: o.scanIds }));
}

describe('resolveFindings on a long-lived fold', () => {
  const events = scenario();
  const orders: [string, EventEnvelope[]][] = [
    ['log order', events],
    ['reverse order', [...events].reverse()],
    ...[7, 19, 42, 1234].map((seed): [string, EventEnvelope[]] => [
      `shuffle ${seed}`,
      shuffled(events, seed),
    ]),
  ];
  for (const [name, order] of orders) {
    it(`answers what a full pass answers after every event (${name})`, () => {
      const state = initialState();
      // What a caller that follows changedSince sees, rebuilt from the changes alone.
      const followed = new Map<string, OpenFinding>();
      let epoch: number | undefined;
      for (const e of order) {
        evolve(state, e);
        const scope = state.scopes.get('prod') as ScopeState;
        const incremental = resolveFindings(scope);
        assert.deepEqual(view(incremental.open), view(fullOf(scope).open), `after ${e.eventId}`);
        const changes = epoch === undefined ? undefined : incremental.changedSince?.(epoch);
        if (changes === undefined) {
          followed.clear();
          for (const o of incremental.open) followed.set(o.finding.id, o);
        } else {
          for (const id of changes) {
            const o = incremental.openById?.get(id);
            if (o) followed.set(id, o);
            else followed.delete(id);
          }
        }
        assert.deepEqual(
          [...followed.keys()].sort(),
          incremental.open.map((o) => o.finding.id),
          `changedSince after ${e.eventId}`,
        );
        epoch = incremental.epoch;
      }
    });
  }

  it('ends the scenario with what the rules say is open', () => {
    const state = initialState();
    for (const e of events) evolve(state, e);
    const open = resolveFindings(state.scopes.get('prod') as ScopeState).open;
    // zlib under the new digest and the shell alert that fired again; openssl and the privileged container fixed,
    // root login resolved by the scan that ran its unit, the read alert quiet.
    assert.deepEqual(open.map((o) => o.finding.ruleId).sort(), [
      'CVE-2023-45853',
      'falco:Terminal shell in container',
    ]);
    const shell = open.find((o) => o.finding.ruleId.startsWith('falco'));
    assert.deepEqual(shell?.scanIds, ['rt', 'rt-2', 'rt-3']);
  });

  it('keeps an unchanged finding the same object and reports no changes when nothing was folded', () => {
    const state = initialState();
    for (const e of events) evolve(state, e);
    const scope = state.scopes.get('prod') as ScopeState;
    const first = resolveFindings(scope);
    const again = resolveFindings(scope);
    assert.equal(again.epoch, first.epoch);
    assert.equal(again.changedSince?.(first.epoch as number)?.size, 0);
    assert.equal(again.open[0]?.finding, first.open[0]?.finding);
  });

  it('builds, version after version of a long-lived fold, the bytes a fresh fold of the same events builds', () => {
    const catalog = pciCatalog();
    const input = {
      scope: { cluster: 'prod' },
      catalog,
      entityType: 'merchant' as const,
      logPosition: [{ topic: 'vigil.scans.v1', partition: 0, offset: '1' }],
      createdAt: new Date(0),
    };
    const live = initialState();
    let previous: { version: number; contentHash: string } | undefined;
    for (let i = 0; i < events.length; i++) {
      evolve(live, events[i] as EventEnvelope);
      const fresh = initialState();
      for (const e of events.slice(0, i + 1)) evolve(fresh, e);
      const a = buildSnapshot({ ...input, state: live, ...(previous ? { previous } : {}) });
      const b = buildSnapshot({ ...input, state: fresh, ...(previous ? { previous } : {}) });
      assert.equal(a.contentHash, b.contentHash, `after ${events[i]?.eventId}`);
      assert.deepEqual(Buffer.from(a.content), Buffer.from(b.content));
      assert.equal(contentHashOf(a.report), a.contentHash);
      previous = { version: a.version, contentHash: a.contentHash };
    }
  });
});
