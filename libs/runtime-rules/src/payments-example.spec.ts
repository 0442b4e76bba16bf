import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FindingSource, Severity, findingId } from '@vigil/contracts';
import { assertKnownRequirementIds } from '@vigil/pci';
import { fixedClock, repoRoot } from '@vigil/testing';
import { ingestEvents, type RuntimeInventoryPort } from './index.js';

// examples/payments/README.md, "Runtime": the expected runtime findings of falco-alerts.jsonl.
const file = join(repoRoot(), 'examples', 'payments', 'runtime', 'falco-alerts.jsonl');
const result = ingestEvents({
  input: readFileSync(file),
  clock: fixedClock('2026-11-21T00:00:00Z'),
  cluster: 'payments-prod',
  name: file,
});
const byRule = (ruleId: string) => result.findings.filter((f) => f.ruleId === ruleId);
const one = (ruleId: string) => {
  const found = byRule(ruleId);
  assert.equal(found.length, 1, `${ruleId}: expected one finding, got ${found.length}`);
  return found[0]!;
};
const ev = (f: ReturnType<typeof one>, key: string) =>
  f.evidence.filter((e) => e.key === key).map((e) => e.value);

describe('examples/payments runtime alerts', () => {
  it('reads 10 alerts and the metrics event, reports the 6 banner lines, and turns telemetry into nothing', () => {
    assert.equal(result.counts.lines, 17);
    assert.deepEqual(
      result.skipped.map((s) => s.line),
      [1, 2, 3, 4, 5, 6],
    );
    assert.ok(result.skipped.every((s) => s.reason.startsWith('not JSON')));
    assert.equal(result.counts.events, 11);
    assert.deepEqual(
      result.telemetry.map((t) => [t.line, t.node, t.drops]),
      [[17, 'pay-worker-1', 0]],
    );
    assert.equal(result.events.length, 10);
    assert.ok(result.detections.every((d) => !d.eventType.startsWith('Falco internal')));
  });

  it('reads the syslog-prefixed alert', () => {
    const f = one('falco:Network Connection outside Local Subnet');
    assert.equal(f.asset?.namespace, 'payments');
    assert.equal(f.asset?.name, 'tokenizer');
    assert.equal(f.asset?.resourceKind, 'Deployment');
    assert.deepEqual(f.locations, ['203.0.113.50:443']);
    assert.deepEqual(ev(f, 'input_lines'), ['16']);
  });

  it('produces one finding per distinct problem, the two shells as one with count 2 and a window', () => {
    const expected = [
      'falco:Launch Privileged Container',
      'falco:Terminal shell in container',
      'falco:Read sensitive file untrusted',
      'falco:Launch Package Management Process in Container',
      'falco:Contact K8S API Server From Container',
      'falco:Drop and execute new binary in container',
      'runtime/drift',
      'runtime/crypto-mining',
      'falco:Write below etc',
      'falco:Redirect STDOUT/STDIN to Network Connection in Container',
      'falco:Network Connection outside Local Subnet',
    ];
    assert.deepEqual([...result.findings.map((f) => f.ruleId)].sort(), [...expected].sort());
    const shell = one('falco:Terminal shell in container');
    assert.deepEqual(ev(shell, 'occurrences'), ['2']);
    assert.deepEqual(ev(shell, 'first_seen'), ['2026-11-20T14:02:11.482913117Z']);
    assert.deepEqual(ev(shell, 'last_seen'), ['2026-11-20T14:06:15.093318402Z']);
    assert.equal(shell.window?.start?.nanos, 482913117);
    assert.equal(shell.asset?.name, 'payment-api');
    assert.equal(shell.asset?.container, 'api');
    assert.equal(shell.asset?.imageRef, 'registry.example.com/acme/payment-api:1.4.2');
    for (const f of result.findings.filter((x) => x !== shell))
      assert.deepEqual(ev(f, 'occurrences'), ['1'], f.ruleId);
  });

  it('remaps the legacy Falco PCI tags and never passes them through', () => {
    assert.deepEqual(one('falco:Launch Privileged Container').pciRequirements.includes('10.2.1.5'), true);
    const drop = one('falco:Drop and execute new binary in container');
    assert.deepEqual(drop.pciRequirements.slice(0, 2), ['11.5.2', '11.5.1']);
    const egress = one('falco:Network Connection outside Local Subnet');
    assert.deepEqual(egress.pciRequirements, ['1.3.2', '11.5.1']);
    assert.ok(!egress.pciRequirements.includes('6.4.2'));
    for (const f of result.findings) {
      assert.ok(f.pciRequirements.length > 0, f.ruleId);
      assertKnownRequirementIds(f.pciRequirements, f.ruleId);
      assert.ok(
        f.pciRequirements.every((id) => !/PCI_DSS/i.test(id)),
        f.ruleId,
      );
    }
    assert.deepEqual(ev(egress, 'legacy_pci_tag'), ['PCI_DSS_6.4.2 → 1.3.2, 11.5.1']);
  });

  it('derives vigil drift and a mining indicator from the dropped binary', () => {
    const drift = one('runtime/drift');
    assert.deepEqual(drift.locations, ['/tmp/.x/kworkerd']);
    assert.deepEqual(drift.pciRequirements, ['11.5.2', '11.5.1']);
    const mining = one('runtime/crypto-mining');
    assert.deepEqual(mining.pciRequirements, ['5.2.2', '11.5.1']);
    assert.equal(mining.severity, Severity.CRITICAL);
    assert.match(ev(mining, 'reason')[0] ?? '', /198\.51\.100\.23:3333/);
  });

  it('gives every finding a deterministic id over rule, asset and location, and the detection unit', () => {
    for (const f of result.findings) {
      assert.equal(
        f.id,
        findingId({
          source: FindingSource.RUNTIME,
          ruleId: f.ruleId,
          asset: f.asset!,
          location: f.locations[0],
        }),
      );
      assert.ok(f.detection?.unit?.id && f.detection.unit.version >= 1, f.ruleId);
      assert.ok(f.remediation?.summary, f.ruleId);
    }
    const again = ingestEvents({
      input: readFileSync(file),
      clock: fixedClock('2027-01-01T00:00:00Z'),
      cluster: 'payments-prod',
    });
    assert.deepEqual(
      again.findings.map((f) => f.id),
      result.findings.map((f) => f.id),
    );
  });
});

describe('examples/payments runtime alerts with an inventory', () => {
  // The image's own dpkg file lists (examples/payments/image/rootfs), as an inventory service would hold them.
  const infoDir = join(repoRoot(), 'examples', 'payments', 'image', 'rootfs', 'var', 'lib', 'dpkg', 'info');
  const shipped = new Set(
    readdirSync(infoDir)
      .filter((f) => f.endsWith('.list'))
      .flatMap((f) =>
        readFileSync(join(infoDir, f), 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      ),
  );
  const image = 'registry.example.com/acme/payment-api:1.4.2';
  const inventory: RuntimeInventoryPort = {
    workloadOf: ({ namespace, pod }) =>
      namespace === 'monitoring' && pod?.startsWith('node-agent-')
        ? { workload: { kind: 'DaemonSet', name: 'node-agent', from: 'inventory' } }
        : undefined,
    imageShipsFile: (img, path) => (img === image ? shipped.has(path) : undefined),
  };
  const r = ingestEvents({
    input: readFileSync(file),
    clock: fixedClock('2026-11-21T00:00:00Z'),
    cluster: 'payments-prod',
    inventory,
  });

  it('asks the inventory for the workload the pod name cannot tell', () => {
    const privileged = r.findings.find((f) => f.ruleId === 'falco:Launch Privileged Container');
    assert.equal(privileged?.asset?.resourceKind, 'DaemonSet');
    assert.equal(privileged?.asset?.name, 'node-agent');
  });

  it('judges drift by the image file lists: bash and apt-get are shipped, the dropped miner is not', () => {
    assert.ok(shipped.has('/bin/bash') && shipped.has('/usr/bin/apt-get'));
    const drift = r.findings.filter((f) => f.ruleId === 'runtime/drift');
    assert.deepEqual(
      drift.map((f) => f.locations[0]),
      ['/tmp/.x/kworkerd'],
    );
    assert.match(
      drift[0]!.description,
      /in none of the package file lists or the SBOM of registry\.example\.com\/acme\/payment-api:1\.4\.2/,
    );
  });
});
