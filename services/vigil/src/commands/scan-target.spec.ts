import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ScannerKind, TargetKind } from '@vigil/contracts';
import { UsageError } from '../usage-error.js';
import { normalizeImageRef, scanTarget } from './scan-target.js';

describe('image references', () => {
  it('follows Docker reference rules for registry, library/ and latest', () => {
    assert.equal(normalizeImageRef('nginx').key, 'docker.io/library/nginx:latest');
    assert.equal(normalizeImageRef('nginx:1.25').key, 'docker.io/library/nginx:1.25');
    assert.equal(normalizeImageRef('bitnami/redis:7.2').key, 'docker.io/bitnami/redis:7.2');
    assert.equal(
      normalizeImageRef('index.docker.io/library/alpine:3.19').key,
      'docker.io/library/alpine:3.19',
    );
    assert.equal(normalizeImageRef('localhost:5000/acme/api').key, 'localhost:5000/acme/api:latest');
    assert.equal(
      normalizeImageRef('registry.example.com/acme/payment-api:1.4.2').key,
      'registry.example.com/acme/payment-api:1.4.2',
    );
  });

  it('keys a tagged reference with a digest on its tag, so a new digest under the tag supersedes the old', () => {
    const digest = 'sha256:' + 'ab'.repeat(32);
    const r = normalizeImageRef(`ghcr.io/acme/api:2.0@${digest}`);
    assert.equal(r.key, 'ghcr.io/acme/api:2.0');
    assert.equal(r.digest, digest);
    assert.equal(r.ref, `ghcr.io/acme/api:2.0@${digest}`);
    assert.equal(normalizeImageRef(`alpine@${digest}`).key, `docker.io/library/alpine@${digest}`);
  });

  it('rejects what is not a reference, naming it', () => {
    assert.throws(() => normalizeImageRef('nginx@sha256:xyz'), /"nginx@sha256:xyz" has a malformed digest/);
    assert.throws(() => normalizeImageRef('not an image'), /"not an image" is not an image reference/);
  });
});

describe('scan targets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-target-'));
  mkdirSync(join(dir, 'etc'));
  writeFileSync(join(dir, 'etc/hostname'), 'pay-worker-7\n');

  it('names a node by the root filesystem it was given', () => {
    const t = scanTarget('host', [], { root: dir });
    assert.equal(t.scanner, ScannerKind.HOST);
    assert.equal(t.target.kind, TargetKind.NODE);
    assert.equal(t.target.key, 'pay-worker-7');
    assert.equal(scanTarget('host', [], { root: dir, node: 'n1' }).target.key, 'n1');
  });

  it('keys manifests on their absolute path and the live cluster on "live"', () => {
    assert.equal(scanTarget('k8s', [dir], {}).target.key, dir);
    assert.equal(scanTarget('k8s', [], { live: true }).target.key, 'live');
  });

  it('audits several manifest paths as one target keyed on the sorted set', () => {
    mkdirSync(join(dir, 'b'), { recursive: true });
    const t = scanTarget('k8s', [join(dir, 'etc')], { manifests: [join(dir, 'b')] });
    assert.equal(t.target.key, `${join(dir, 'b')}+${join(dir, 'etc')}`);
    assert.equal(t.target.ref.case, 'manifests');
    if (t.target.ref.case === 'manifests')
      assert.deepEqual(t.target.ref.value.sources, [join(dir, 'etc'), join(dir, 'b')]);
    assert.equal(
      scanTarget('k8s', [], { manifests: [join(dir, 'b'), join(dir, 'etc')] }).target.key,
      t.target.key,
    );
  });

  it('reads --kubeconfig and --context as a live audit, and refuses mixing it with manifests', () => {
    const kc = join(dir, 'kubeconfig');
    writeFileSync(
      kc,
      'apiVersion: v1\nkind: Config\ncurrent-context: kind-pay\ncontexts:\n  - name: kind-pay\n    context: { cluster: kind, user: admin }\n',
    );
    const t = scanTarget('k8s', [], { kubeconfig: kc, context: 'kind-pay' });
    assert.equal(t.target.key, 'live');
    assert.equal(t.target.ref.case, 'liveCluster');
    if (t.target.ref.case === 'liveCluster') {
      assert.equal(t.target.ref.value.kubeconfig, kc);
      assert.equal(t.target.ref.value.context, 'kind-pay');
    }
    assert.throws(() => scanTarget('k8s', [dir], { context: 'x' }), /not both/);
    assert.throws(
      () => scanTarget('k8s', [], { kubeconfig: join(dir, 'none') }),
      /--kubeconfig .* does not exist/,
    );
    // A kubeconfig the auditor could not use is a usage error before anything is requested or stored.
    assert.throws(
      () => scanTarget('k8s', [], { kubeconfig: kc, context: 'nope' }),
      /has no context "nope" \(contexts: kind-pay\)/,
    );
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'just some words\n');
    assert.throws(() => scanTarget('k8s', [], { kubeconfig: text }), /is not a kubeconfig/);
    const broken = join(dir, 'broken.yaml');
    writeFileSync(broken, 'contexts: [\n');
    assert.throws(() => scanTarget('k8s', [], { kubeconfig: broken }), /is not YAML/);
    assert.throws(() => scanTarget('k8s', [], { kubeconfig: dir }), /is not a file/);
  });

  it('refuses missing paths and unknown kinds with a usage error', () => {
    assert.throws(() => scanTarget('k8s', [join(dir, 'nope')], {}), UsageError);
    assert.throws(() => scanTarget('host', [], { root: join(dir, 'etc/hostname') }), /is not a directory/);
    assert.throws(() => scanTarget('cloud', [], {}), /unknown scan kind "cloud"/);
    assert.throws(() => scanTarget('image', [], {}), /exactly one image reference/);
  });
});
