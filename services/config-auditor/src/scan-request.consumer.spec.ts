import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ScanStatus,
  ScannerKind,
  TargetKind,
  create,
  ScanRequestedSchema,
  TargetSchema,
  type ScanRequested,
} from '@vigil/contracts';
import { configAuditorEngine } from './index.js';

function manifestsRequest(source: string): ScanRequested {
  return create(ScanRequestedSchema, {
    scanId: 'scan-1',
    scanner: ScannerKind.CONFIG,
    scope: { cluster: 'test-cluster' },
    target: create(TargetSchema, {
      kind: TargetKind.MANIFESTS,
      key: source,
      ref: { case: 'manifests', value: { source } },
    }),
  });
}

const PRIVILEGED_POD = `apiVersion: v1
kind: Pod
metadata: { name: web, namespace: shop }
spec:
  containers:
  - name: app
    image: nginx:1.27
    securityContext: { privileged: true }
`;

test('a manifests scan publishes one FindingReported per finding and completes ok with ids, passing results and units', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'config-auditor-'));
  try {
    await writeFile(join(dir, 'pod.yaml'), PRIVILEGED_POD);
    const engine = configAuditorEngine({ clock: () => new Date('2026-12-01T00:00:00Z') });
    assert.equal(engine.scanner, ScannerKind.CONFIG);
    const result = await engine.scan(manifestsRequest(dir));
    assert.equal(result.status, ScanStatus.OK);
    assert.equal(result.error, '');
    const events = result.events ?? [];
    assert.equal(events.length, result.findingIds?.length);
    const privileged = events.find(
      (e) => e.payload.case === 'findingReported' && e.payload.value?.finding?.ruleId === 'k8s/privileged',
    );
    assert.ok(privileged, 'k8s/privileged finding published');
    assert.equal(privileged.subjectKey, (privileged.payload.value as { finding: { id: string } }).finding.id);
    const finding = privileged.payload.value as {
      scanId: string;
      finding: { asset: { cluster: string; name: string } };
    };
    assert.equal(finding.scanId, 'scan-1');
    assert.equal(finding.finding.asset.cluster, 'test-cluster');
    assert.equal(finding.finding.asset.name, 'web');
    assert.ok(result.passing?.some((p) => p.checkId === 'k8s/host-namespaces'));
    assert.ok(result.units?.some((u) => u.id === 'k8s/privileged' && u.version === 1));
    assert.equal(result.counts?.total, result.findingIds?.length);
    assert.ok((result.counts?.critical ?? 0) >= 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unreadable manifests path fails the scan and names the path', async () => {
  const result = await configAuditorEngine().scan(manifestsRequest('/nonexistent/manifests-dir'));
  assert.equal(result.status, ScanStatus.FAILED);
  assert.match(result.error, /\/nonexistent\/manifests-dir/);
});

test('a live-cluster scan stays unavailable in this build', async () => {
  const request = create(ScanRequestedSchema, {
    scanId: 's',
    scanner: ScannerKind.CONFIG,
    scope: { cluster: 'c' },
    target: create(TargetSchema, {
      kind: TargetKind.LIVE_CLUSTER,
      key: 'live',
      ref: { case: 'liveCluster', value: {} },
    }),
  });
  const result = await configAuditorEngine().scan(request);
  assert.deepEqual(result, {
    status: ScanStatus.UNAVAILABLE,
    error: 'live cluster audit is not available in this build',
  });
});
