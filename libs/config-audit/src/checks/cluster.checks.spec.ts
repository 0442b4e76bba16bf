import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { corpusPath, repoRoot } from '@vigil/testing';
import { auditManifests, auditObjects, type AuditedOutcome } from '../audit.js';
import { type Json, type LoadedObject } from '../model/k8s-object.js';

const IDS = ['cluster/secrets-not-encrypted-at-rest', 'cluster/no-audit-policy'];
const nodeConfig = (...p: string[]) => corpusPath('k8s', 'manifests', 'node-config', ...p);
const show = (o: AuditedOutcome) =>
  `${o.checkId} ${o.resource} ${o.pass ? 'pass' : 'fail'} ${o.field}: ${o.actual}`;

async function audit(path: string) {
  const r = await auditManifests({ paths: [path], cluster: 'corpus', checks: IDS });
  assert.deepEqual(r.errors, []);
  return r;
}

test('the kind control plane in the recorded PodList has neither encryption at rest nor audit logging', async () => {
  const r = await audit(corpusPath('k8s', 'api', 'bodies', 'v1-36-PodList.json'));
  assert.deepEqual(r.outcomes.map(show), [
    'cluster/secrets-not-encrypted-at-rest Pod/kube-system/kube-apiserver-v1.36-control-plane fail spec.containers[name=kube-apiserver].command: flag absent',
    'cluster/no-audit-policy Pod/kube-system/kube-apiserver-v1.36-control-plane fail spec.containers[name=kube-apiserver].command: missing --audit-policy-file, --audit-log-path or --audit-webhook-config-file',
  ]);
  const f = r.findings.find((x) => x.ruleId === 'cluster/secrets-not-encrypted-at-rest');
  assert.deepEqual(f?.pciRequirements, ['8.3.2', '3.6.1.2', '3.5.1']);
  const a = r.findings.find((x) => x.ruleId === 'cluster/no-audit-policy');
  assert.deepEqual(a?.pciRequirements.slice(0, 5), ['10.2.1', '10.2.1.2', '10.2.1.5', '10.2.1.7', '10.2.2']);
});

test('without control-plane evidence the cluster checks say nothing (a managed API server is not a failure)', async () => {
  const r = await audit(join(repoRoot(), 'examples', 'payments', 'k8s'));
  assert.deepEqual(r.outcomes, []);
  // The recorded DeploymentList has workloads but no kube-apiserver Pod either.
  assert.deepEqual(
    (await audit(corpusPath('k8s', 'api', 'bodies', 'v1-36-DeploymentList.json'))).outcomes,
    [],
  );
});

test('EncryptionConfigurations are judged by the first provider for secrets', async () => {
  assert.deepEqual((await audit(nodeConfig('hard-way', 'encryption-config.yaml'))).outcomes.map(show), [
    'cluster/secrets-not-encrypted-at-rest EncryptionConfiguration// pass resources[0].providers[0]: aescbc first',
  ]);
  const identity = await audit(
    nodeConfig('kubescape-hostdata', 'controlplane-encryption-identity-only.decoded.yaml'),
  );
  assert.deepEqual(identity.outcomes.map(show), [
    'cluster/secrets-not-encrypted-at-rest EncryptionConfiguration// fail resources[0].providers[0]: identity first',
  ]);
  const aescbc = await audit(nodeConfig('kubescape-hostdata', 'controlplane-encryption-aescbc.decoded.yaml'));
  assert.deepEqual(
    aescbc.outcomes.map((o) => o.pass),
    [true],
  );
});

async function objectsOf(...files: string[]): Promise<LoadedObject[]> {
  return Promise.all(
    files.map(async (file, i) => ({
      raw: parse(await readFile(file, 'utf8')) as Json,
      source: { file, document: 0, line: undefined, item: i },
    })),
  );
}

test('a kube-apiserver with the flag still fails when the EncryptionConfiguration in the input writes identity first', async () => {
  const [podList] = await objectsOf(corpusPath('k8s', 'api', 'bodies', 'v1-36-PodList.json'));
  const items = (podList!.raw['items'] as Json[]).filter(
    (p) => (p['metadata'] as Json)['name'] === 'kube-apiserver-v1.36-control-plane',
  );
  const pod = structuredClone(items[0]!);
  const container = ((pod['spec'] as Json)['containers'] as Json[])[0]!;
  container['command'] = [
    ...(container['command'] as string[]),
    '--encryption-provider-config=/etc/kubernetes/enc/enc.yaml',
    '--audit-policy-file',
    '/etc/kubernetes/audit/policy.yaml',
    '--audit-log-path=/var/log/kubernetes/audit.log',
  ];
  const podObject: LoadedObject = {
    raw: { ...pod, kind: 'Pod', apiVersion: 'v1' },
    source: { file: 'v1-36-PodList.json', document: 0, line: undefined, item: 4 },
  };
  const run = (configs: LoadedObject[]) =>
    auditObjects([podObject, ...configs], { cluster: 'c', checks: IDS }).outcomes.map(show);
  assert.deepEqual(run([]), [
    'cluster/secrets-not-encrypted-at-rest Pod/kube-system/kube-apiserver-v1.36-control-plane pass spec.containers[name=kube-apiserver].command: --encryption-provider-config=/etc/kubernetes/enc/enc.yaml',
    'cluster/no-audit-policy Pod/kube-system/kube-apiserver-v1.36-control-plane pass spec.containers[name=kube-apiserver].command: policy /etc/kubernetes/audit/policy.yaml, log /var/log/kubernetes/audit.log',
  ]);
  const weak = await objectsOf(
    nodeConfig('kubescape-hostdata', 'controlplane-encryption-identity-only.decoded.yaml'),
  );
  assert.equal(
    run(weak)[0],
    `cluster/secrets-not-encrypted-at-rest Pod/kube-system/kube-apiserver-v1.36-control-plane fail spec.containers[name=kube-apiserver].command: --encryption-provider-config=/etc/kubernetes/enc/enc.yaml (${weak[0]!.source.file}: identity first)`,
  );
});

test('audit Policies are evaluated rule by rule, first match wins, for reading Secrets and pods/exec', async () => {
  const falco = await audit(nodeConfig('audit-policy-falco-k8saudit.yaml'));
  // Secrets hit the explicit Metadata rule; pods/exec is not "pods", so it falls to the core-group Request rule.
  assert.deepEqual(
    falco.outcomes.map((o) => `${o.detail} ${o.pass} ${o.actual}`),
    ['secrets true Metadata (rule 8)', 'pods/exec true Request (rule 9)'],
  );
  // The kubescape "missing-one" policy lacks an explicit pods rule, but its core-group Request rule still logs
  // pods, Secrets and exec; by Kubernetes semantics it is not a gap for these requests.
  const missingOne = await audit(
    nodeConfig('kubescape-hostdata', 'controlplane-audit-policy-missing-one.decoded.yaml'),
  );
  assert.deepEqual(
    missingOne.outcomes.map((o) => `${o.detail} ${o.pass} ${o.actual}`),
    ['secrets true Metadata (rule 1)', 'pods/exec true Metadata (rule 2)'],
  );
  // The same Falco policy with a catch-all None rule put first logs nothing.
  const [policy] = await objectsOf(nodeConfig('audit-policy-falco-k8saudit.yaml'));
  const silenced: LoadedObject = {
    ...policy!,
    raw: { ...policy!.raw, rules: [{ level: 'None' }, ...(policy!.raw['rules'] as Json[])] },
  };
  const r = auditObjects([silenced], { cluster: 'c', checks: IDS });
  assert.deepEqual(
    r.outcomes.map((o) => `${o.detail} ${o.pass} ${o.actual}`),
    ['secrets false None (rule 0)', 'pods/exec false None (rule 0)'],
  );
  // A policy without rules records nothing.
  const empty = auditObjects([{ ...policy!, raw: { ...policy!.raw, rules: [] } }], {
    cluster: 'c',
    checks: IDS,
  });
  assert.deepEqual(
    empty.outcomes.map((o) => `${o.detail} ${o.pass} ${o.actual}`),
    ['secrets false no rule matches (None)', 'pods/exec false no rule matches (None)'],
  );
});

test('the node-config directory: each configuration file is judged once, and none is put in a namespace', async () => {
  const r = await auditManifests({ paths: [nodeConfig()], cluster: 'corpus' });
  const enc = r.outcomes.filter((o) => o.checkId === 'cluster/secrets-not-encrypted-at-rest');
  assert.deepEqual(
    enc.map((o) => `${o.subject.source.file.slice(nodeConfig().length + 1)} ${o.pass}`),
    [
      'hard-way/encryption-config.yaml true',
      'kubescape-hostdata/controlplane-encryption-aescbc.decoded.yaml true',
      'kubescape-hostdata/controlplane-encryption-identity-only.decoded.yaml false',
    ],
  );
  assert.equal(r.outcomes.filter((o) => o.checkId === 'cluster/no-audit-policy').length, 6);
  // EncryptionConfiguration, Policy, KubeletConfiguration and the kubescape records live on disk, not in the API.
  assert.deepEqual(
    r.outcomes.filter((o) => o.checkId === 'k8s/default-namespace').map((o) => o.resource),
    [],
  );
});
