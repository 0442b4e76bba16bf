// `vigil scan k8s` against a live cluster through the real CLI: a recorded kind cluster served by the fake API
// server (the one component here we cannot run for real), reached through a kubeconfig and a context, as a user
// would. The JSON report is { target, findings, inventory }, and SARIF carries the same findings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startFakeApiServer, type FakeApiServer } from '@vigil/testing';
import { explain, freshTempDir, runVigil, vigilJson, type Json } from './vigil-cli.js';

describe('vigil scan k8s on a live cluster', () => {
  const tmp = freshTempDir('live');
  let server: FakeApiServer;
  before(async () => {
    server = await startFakeApiServer();
  });
  after(async () => {
    await server.stop();
    tmp.remove();
  });

  test('reads the cluster through the kubeconfig and reports findings and inventory', async () => {
    const args = ['scan', 'k8s', '--kubeconfig', server.kubeconfigPath, '--context', server.context];
    const { json } = await vigilJson([
      ...args,
      '--cluster',
      'kind-pay',
      '--data-dir',
      tmp.dataDir,
      '--format',
      'json',
    ]);
    assert.equal(json.status, 'ok', JSON.stringify(json.error));
    assert.equal(json.target.key, 'live');
    const findings = json.findings as Json[];
    const privileged = findings.filter((f) => f.ruleId === 'k8s/privileged');
    assert.deepEqual(
      privileged.map((f) => f.asset.name as string).map((n) => n.replace(/-[a-z0-9]+$/, '')),
      ['kube-proxy'],
    );
    assert.ok(findings.some((f) => f.ruleId === 'k8s/added-capabilities' && /kindnet/.test(f.asset.name)));
    const inventory = json.inventory as Json[];
    const cluster = inventory.find((i) => i.cluster)?.cluster;
    assert.equal(cluster.kubernetesVersion, 'v1.36.2');
    assert.ok(
      inventory.some((i) => i.container?.name === 'etcd' && /^sha256:/.test(i.container.imageDigest)),
    );
    assert.ok(inventory.some((i) => i.namespace?.name === 'kube-system'));

    const sarif = await runVigil([
      ...args,
      '--cluster',
      'kind-pay',
      '--data-dir',
      tmp.dataDir,
      '--format',
      'sarif',
    ]);
    assert.equal(sarif.code, 0, explain(args, sarif));
    const log = JSON.parse(sarif.stdout) as Json;
    assert.ok((log.runs[0].results as Json[]).some((r) => r.ruleId === 'k8s/privileged'));
  });

  test('a kubeconfig whose token the server rejects fails the scan, naming the server', async () => {
    const bad = server.writeKubeconfig({ token: 'not-the-token' });
    const args = [
      'scan',
      'k8s',
      '--kubeconfig',
      bad,
      '--data-dir',
      tmp.dataDir,
      '--format',
      'json',
      '--fail-on',
      'high',
    ];
    const r = await runVigil(args);
    // A scan that could not read its input is an input error: exit 2, one line, no report.
    assert.equal(r.code, 2, explain(args, r));
    assert.equal(r.stdout, '', explain(args, r));
    assert.match(r.stderr.trim(), /^vigil scan k8s: live: .+/, explain(args, r));
    assert.ok(r.stderr.includes(server.url), explain(args, r));
  });
});
