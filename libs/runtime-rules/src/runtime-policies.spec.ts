import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { AssetKind, Severity } from '@vigil/contracts';
import { assertKnownRequirementIds } from '@vigil/pci';
import { ingestEvents, type IngestEventsResult } from './index.js';
import { corpusPath, fixedClock } from '@vigil/testing';

const clock = fixedClock('2030-01-01T00:00:00Z');
const run = (path: string, policy?: { egressAllowList: string[] }): IngestEventsResult =>
  ingestEvents({ input: readFileSync(corpusPath('runtime', path)), clock, cluster: 'lab', policy });
const summary = (r: IngestEventsResult) =>
  r.findings.map(
    (f) =>
      `${f.ruleId} @ ${f.locations[0] ?? ''} x${f.evidence.find((e) => e.key === 'occurrences')?.value ?? '?'}`,
  );

describe('vigil runtime policies over Tetragon events', () => {
  it('lifecycle: the shell, the keystore read and the nc connection, linked to their pod', () => {
    const r = run('tetragon/lifecycle-secret-read-and-reverse-shell/events.jsonl');
    assert.deepEqual(summary(r), [
      'runtime/shell-in-container @ /usr/bin/sh x1',
      'runtime/sensitive-file-read @ /usr/share/elasticsearch/config/elasticsearch.keystore x1',
      'runtime/unexpected-egress @ 64.225.45.153:443 x1',
    ]);
    const egress = r.findings[2]!;
    assert.deepEqual(egress.pciRequirements, ['1.3.2', '11.5.1']);
    assert.equal(egress.asset?.kind, AssetKind.CONTAINER);
    assert.equal(egress.asset?.namespace, 'tenant-jobs');
    assert.equal(egress.asset?.name, 'elasticsearch');
    assert.equal(egress.asset?.resourceKind, 'Deployment');
    assert.equal(egress.asset?.imageRef, 'quay.io/isovalent/jobs-app-elasticsearch:latest');
    const parent = r.detections.find((d) => d.ruleId === 'runtime/unexpected-egress')?.parent;
    assert.equal(parent?.executable, '/usr/bin/sh');
  });

  it('an allow-listed destination is not unexpected egress', () => {
    const r = run('tetragon/lifecycle-secret-read-and-reverse-shell/events.jsonl', {
      egressAllowList: ['64.225.45.0/24'],
    });
    assert.ok(!r.findings.some((f) => f.ruleId === 'runtime/unexpected-egress'));
  });

  it('golden signals: a write to /etc/passwd and curl to a public address; plain execs are no detection', () => {
    const r = run('tetragon/golden-signals-curl-vi-python/events.jsonl');
    assert.deepEqual(summary(r), [
      'runtime/critical-file-write @ /etc/passwd x1',
      'runtime/unexpected-egress @ 142.250.180.196:80 x1',
    ]);
    assert.equal(r.counts.events, 6);
    assert.deepEqual(r.findings[0]!.pciRequirements, ['11.5.2', '11.5.1']);
    assert.deepEqual(run('tetragon/tetra-getevents-testdata/events.jsonl').findings, []);
  });

  it('docs samples: a host kernel-module load belongs to the cluster when the node is unnamed', () => {
    const r = run('tetragon/docs-use-case-samples/events.jsonl');
    const insmod = r.findings.find((f) => f.locations[0] === '/usr/sbin/insmod');
    assert.equal(insmod?.ruleId, 'runtime/privilege-escalation');
    assert.equal(insmod?.asset?.kind, AssetKind.CLUSTER);
    const passwd = r.findings.find((f) => f.ruleId === 'runtime/critical-file-write');
    // security_file_permission with mask 2 (MAY_WRITE) on /etc/passwd, policy file-monitoring.
    assert.equal(passwd?.locations[0], '/etc/passwd');
  });
});

describe('vigil audit policies', () => {
  const r = run('k8s-audit/constructed-payments-exec-and-secret-read/audit.log');
  const f = (rule: string) => r.findings.filter((x) => x.ruleId === rule);

  it('kubectl exec into the payments pod is a finding on its Deployment, by its user', () => {
    const [exec] = f('runtime/exec-into-pod');
    assert.equal(exec?.asset?.kind, AssetKind.WORKLOAD);
    assert.equal(exec?.asset?.name, 'payment-api');
    assert.deepEqual(exec?.locations, ['user alice@example.com']);
    assert.deepEqual(exec?.pciRequirements, ['11.5.1', '10.2.1.2']);
    assert.equal(exec?.severity, Severity.MEDIUM);
  });

  it('secret reads: the allowed human read and the denied service-account list, the denied one weighing less', () => {
    const reads = f('runtime/secret-read');
    assert.deepEqual(reads.map((x) => x.locations[0]).sort(), [
      'user alice@example.com',
      'user system:serviceaccount:payments:payment-api',
    ]);
    const human = reads.find((x) => x.locations[0] === 'user alice@example.com')!;
    const denied = reads.find((x) => x !== human)!;
    assert.equal(human.asset?.resourceKind, 'Secret');
    assert.equal(human.asset?.name, 'payment-db-credentials');
    assert.equal(human.severity, Severity.MEDIUM);
    assert.equal(denied.severity, Severity.LOW);
    assert.ok(denied.evidence.some((e) => e.key === 'denied' && e.value === 'true'));
  });

  it('the denied cluster-admin binding and the anonymous request', () => {
    const [rbac] = f('runtime/rbac-change');
    assert.match(rbac?.title ?? '', /cluster-admin/);
    assert.equal(rbac?.asset?.resourceKind, 'ClusterRoleBinding');
    const [anon] = f('runtime/anonymous-request');
    assert.deepEqual(anon?.pciRequirements, ['8.2.1', '8.3.1', '7.3.3']);
    assert.deepEqual(anon?.locations, ['source 203.0.113.45']);
  });

  it('impersonation is attributed to the impersonated user', () => {
    const imp = run('k8s-audit/impersonation-forbidden-demo/audit.log');
    assert.equal(imp.events.length, 37);
    // Line 37: system:admin lists secrets in ns1 as alice; the finding names alice, the evidence keeps both.
    assert.deepEqual(summary(imp), ['runtime/secret-read @ user alice x1']);
    const [read] = imp.findings;
    assert.equal(read?.asset?.kind, AssetKind.NAMESPACE);
    assert.equal(read?.asset?.name, 'ns1');
    assert.match(read?.description ?? '', /^alice \(impersonated by system:admin\): list secrets/);
  });
});

describe('aggregation of bursts', () => {
  it('the memfd burst: one finding per asset with its occurrence count and window', () => {
    const r = run('falco-alerts/falco-0.43-bursty-duplicates/alerts.jsonl');
    const memfd = r.findings.filter((x) => x.ruleId === 'falco:Fileless execution via memfd_create');
    // 12 alerts: 11 from runc on the host, 1 inside the event-generator container.
    assert.deepEqual(
      memfd.map((x) => [x.asset?.kind, x.evidence.find((e) => e.key === 'occurrences')?.value]),
      [
        [AssetKind.NODE, '11'],
        [AssetKind.CONTAINER, '1'],
      ],
    );
    const host = memfd[0]!;
    assert.equal(host.evidence.find((e) => e.key === 'first_seen')?.value, '2026-04-06T19:31:30.725992942Z');
    assert.equal(host.evidence.find((e) => e.key === 'last_seen')?.value, '2026-04-06T19:32:27.269526421Z');
    assert.equal(host.window?.end?.nanos, 269526421);
  });

  it('the same problem on two pods of one Deployment is one finding; long bursts list a capped set of lines', () => {
    const shell = readFileSync(
      corpusPath('runtime/falco-alerts/constructed-payments-pod-intrusion/alerts.jsonl'),
      'utf8',
    ).split('\n')[0]!;
    const otherPod = shell.replaceAll('payment-api-7c9d8f6b5-x2k4q', 'payment-api-7c9d8f6b5-m9zt2');
    const input = [...Array.from({ length: 24 }, () => shell), otherPod].join('\n');
    const r = ingestEvents({ input, clock, cluster: 'lab' });
    assert.equal(r.findings.length, 1);
    const ev = (k: string) => r.findings[0]!.evidence.find((e) => e.key === k)?.value;
    assert.equal(ev('occurrences'), '25');
    assert.equal(ev('pods'), 'payment-api-7c9d8f6b5-x2k4q,payment-api-7c9d8f6b5-m9zt2');
    assert.equal(ev('input_lines'), `${Array.from({ length: 20 }, (_, i) => i + 1).join(',')} and 5 more`);
  });

  it('every emitted PCI id is a v4.0.1 catalog id, across the whole corpus', () => {
    for (const p of [
      'falco-alerts/falco-0.43-event-generator-docker/alerts.jsonl',
      'falco-alerts/constructed-payments-pod-intrusion/alerts.jsonl',
      'falco-alerts/k8s-audit-source-alerts/alerts.jsonl',
      'tetragon/docs-use-case-samples/events.jsonl',
      'k8s-audit/impersonation-forbidden-demo/audit.log',
    ]) {
      for (const x of run(p).findings) {
        assert.ok(x.pciRequirements.length > 0, `${p} ${x.ruleId}`);
        assertKnownRequirementIds(x.pciRequirements, `${p} ${x.ruleId}`);
      }
    }
  });
});
