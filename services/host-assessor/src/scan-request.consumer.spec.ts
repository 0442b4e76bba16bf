import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ScanRequestedSchema,
  ScanStatus,
  ScannerKind,
  TargetKind,
  create,
  type ScanRequested,
} from '@vigil/contracts';
import { HOST_CHECKS, materializeFixture } from '@vigil/host-assess';
import { assertKnownRequirementIds } from '@vigil/pci';
import { corpusPath } from '@vigil/testing';
import { hostAssessorEngine } from './index.js';

function nodeRequest(rootPath: string, node: string): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId: 'scan-1',
    scanner: ScannerKind.HOST,
    scope: { cluster: 'payments-prod' },
    target: { kind: TargetKind.NODE, key: node, ref: { case: 'node', value: { node, rootPath } } },
  });
}

test('the host-assessor engine assesses a node root: one finding event per failed check, passing results, units', async () => {
  const fixture = corpusPath('host', 'fixtures', 'kubeadm-worker-defaults');
  const expected = JSON.parse(readFileSync(join(fixture, 'expected.json'), 'utf8')) as {
    checks: { expected: string }[];
  };
  const failVerdicts = expected.checks.filter((c) => c.expected === 'fail').length;
  const { root } = materializeFixture(fixture);
  try {
    const engine = hostAssessorEngine();
    assert.equal(engine.scanner, ScannerKind.HOST);
    const result = await engine.scan(nodeRequest(root, 'worker-1'));
    assert.equal(result.status, ScanStatus.OK, result.error);
    const inventory = (result.events ?? []).filter((e) => e.payload.case === 'inventoryObserved');
    assert.equal(inventory.length, 1, 'one node inventory event');
    const events = (result.events ?? []).filter((e) => e.payload.case === 'findingReported');
    // Every fail verdict of the fixture's expected.json (25 CIS worker + 39 Linux checks) is one finding, plus
    // vigil's own kubelet.protect-kernel-defaults (not in the corpus): kubeadm's config.yaml leaves it unset.
    assert.equal(events.length, failVerdicts + 1);
    assert.ok(
      events.some(
        (e) =>
          e.payload.case === 'findingReported' &&
          e.payload.value?.finding?.ruleId === 'kubelet.protect-kernel-defaults',
      ),
    );
    assert.ok(failVerdicts > 20);
    assert.deepEqual(
      result.findingIds,
      events.map((e) => e.subjectKey),
    );
    const first = events.find(
      (e) => e.payload.case === 'findingReported' && e.payload.value?.finding?.ruleId === 'cis-k8s-4.1.1',
    );
    assert.ok(first, 'CIS 4.1.1 (10-kubeadm.conf mode 0644) is reported');
    const finding = first.payload.case === 'findingReported' ? first.payload.value?.finding : undefined;
    assert.deepEqual(finding?.locations?.[0], '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf');
    assert.equal(finding?.asset?.cluster, 'payments-prod');
    assert.equal(finding?.detection?.actual, 'mode 0644');
    const passingIds = (result.passing ?? []).map((p) => p.checkId);
    assert.ok(passingIds.includes('kubelet.anonymous-auth-disabled'));
    assert.ok(passingIds.includes('time.sync-configured'));
    for (const p of result.passing ?? [])
      assertKnownRequirementIds(p.pciRequirements, `passing ${p.checkId}`);
    // Only the host checks ran: the fixture has no package database, so neither the package check nor the matcher.
    assert.deepEqual(
      result.units?.map((u) => u.id),
      HOST_CHECKS.map((c) => c.id),
    );
    assert.equal(result.assets?.[0]?.node, 'worker-1');
    assert.equal(result.counts?.total, failVerdicts + 1);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a missing root is a FAILED scan that names it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'host-assessor-'));
  const missing = join(dir, 'no-such-root');
  try {
    const result = await hostAssessorEngine().scan(nodeRequest(missing, 'n1'));
    assert.equal(result.status, ScanStatus.FAILED);
    assert.match(result.error ?? '', new RegExp(`host root ${missing} is not readable`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a request without a node target is FAILED, not guessed', async () => {
  const result = await hostAssessorEngine().scan(
    create(ScanRequestedSchema, { scanId: 's', scanner: ScannerKind.HOST }),
  );
  assert.equal(result.status, ScanStatus.FAILED);
  assert.match(result.error ?? '', /needs a node target/);
});
