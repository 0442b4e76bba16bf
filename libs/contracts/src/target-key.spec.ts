import { test } from 'node:test';
import assert from 'node:assert/strict';
import { targetKeyOf } from './target-key.js';

test('targetKeyOf keys each kind of target as the resolution rule needs', () => {
  const ref = 'registry.example/payments/api:1.4.2';
  assert.equal(
    targetKeyOf({ ref: { case: 'image', value: { ref, digest: 'sha256:' + 'a'.repeat(64) } } }),
    ref,
  );
  assert.equal(
    targetKeyOf({ ref: { case: 'image', value: { ref, digest: 'sha256:' + 'b'.repeat(64) } } }),
    targetKeyOf({ ref: { case: 'image', value: { ref } } }),
    'a new digest under the same tag keeps the key',
  );
  assert.equal(
    targetKeyOf({ ref: { case: 'image', value: { digest: 'sha256:' + 'c'.repeat(64) } } }),
    '@sha256:' + 'c'.repeat(64),
  );
  assert.equal(
    targetKeyOf({ ref: { case: 'manifests', value: { source: 'examples/payments/k8s' } } }),
    'examples/payments/k8s',
  );
  assert.equal(targetKeyOf({ ref: { case: 'liveCluster', value: { context: 'kind-payments' } } }), 'live');
  assert.equal(
    targetKeyOf({ ref: { case: 'node', value: { node: 'worker-1', rootPath: '/host' } } }),
    'worker-1',
  );
  assert.equal(
    targetKeyOf({ ref: { case: 'runtimeEvents', value: { format: 'falco', source: 'falco.jsonl' } } }),
    'falco.jsonl',
  );
  assert.throws(() => targetKeyOf({}), /targetKeyOf: the target has no ref/);
  assert.throws(
    () => targetKeyOf({ ref: { case: 'node', value: { rootPath: '/host' } } }),
    /the node target names nothing/,
  );
});
