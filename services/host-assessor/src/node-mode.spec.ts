import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ScanRequestedSchema, ScanStatus, ScannerKind, TargetKind, create } from '@vigil/contracts';
import { repoRoot } from '@vigil/testing';
import { hostAssessorEngine } from './scan-request.consumer.js';

const nodeRequest = (node: string, rootPath: string) =>
  create(ScanRequestedSchema, {
    scanId: `s-${node}`,
    scanner: ScannerKind.HOST,
    scope: { cluster: 'pay' },
    target: { kind: TargetKind.NODE, key: node, ref: { case: 'node', value: { node, rootPath } } },
  });

test('on a node (the DaemonSet) the engine runs only its own node, from where the node root is mounted', async () => {
  const root = join(repoRoot(), 'examples', 'payments', 'node', 'files');
  const engine = hostAssessorEngine({
    advisories: null,
    node: { name: 'pay-worker-1', root },
    clock: () => new Date('2026-12-01T00:00:00Z'),
  });
  assert.equal(engine.accepts?.(nodeRequest('pay-worker-2', '/host')), false);
  assert.equal(engine.accepts?.(nodeRequest('pay-worker-1', '/host')), true);
  // The requester named "/", as `vigil scan host` on a laptop would; the node's root here is the fixture.
  const result = await engine.scan(nodeRequest('pay-worker-1', '/does-not-exist'));
  assert.equal(result.status, ScanStatus.OK, result.error);
  assert.ok((result.findingIds ?? []).length > 0);
  // Without a node, every request is run as given.
  assert.equal(hostAssessorEngine({ advisories: null }).accepts, undefined);
});
