// infra/k8s is vigil's own deployment, and vigil is a PCI DSS tool: its manifests must pass the hardening it
// asks of others. Checked on the output of `kubectl kustomize` (what a cluster would receive) when kubectl is
// installed, and on the raw files otherwise, so the same rules hold either way.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TOPIC_PARTITIONS } from '@vigil/contracts';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './repo-paths.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML; the assertions check shapes */
type Doc = Record<string, any>;

const root = repoRoot();
const k8s = join(root, 'infra/k8s');
const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
const haveKubectl = kubectl.status === 0;
const SCANNERS = ['image-scanner', 'config-auditor', 'runtime-ingest'];
const DISTRIBUTED = readdirSync(join(root, 'services'))
  .filter((s) => s !== 'vigil')
  .sort();

function parseDocs(text: string, where: string): Doc[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`${where}: ${d.errors[0]!.message}`);
      return d.toJS() as Doc | null;
    })
    .filter((d): d is Doc => d !== null && typeof d === 'object');
}

function render(dir: string): Doc[] {
  const r = spawnSync('kubectl', ['kustomize', join(k8s, dir)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`kubectl kustomize infra/k8s/${dir} failed: ${r.stderr.trim()}`);
  return parseDocs(r.stdout, `kubectl kustomize infra/k8s/${dir}`);
}

/** Every resource file under a kustomization directory, without kustomize (no generators, no patches). */
function rawDocs(dir: string): Doc[] {
  const out: Doc[] = [];
  for (const f of readdirSync(join(k8s, dir)).sort()) {
    if (!/\.ya?ml$/.test(f) || f === 'kustomization.yaml') continue;
    out.push(...parseDocs(readFileSync(join(k8s, dir, f), 'utf8'), `infra/k8s/${dir}/${f}`));
  }
  return out;
}

const base = haveKubectl ? render('base') : rawDocs('base');
const topics = haveKubectl ? render('kafka-topics') : rawDocs('kafka-topics');
const ofKind = (docs: Doc[], kind: string) => docs.filter((d) => d.kind === kind);
const workloads = base.filter((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet');

describe('infra/k8s workloads', () => {
  it('deploy every service: a Deployment each, the host assessor as a DaemonSet', () => {
    const names = workloads.map((w) => w.metadata.name).sort();
    assert.deepEqual(names, DISTRIBUTED);
    assert.equal(workloads.find((w) => w.metadata.name === 'host-assessor')?.kind, 'DaemonSet');
  });

  for (const w of workloads) {
    const name = `${w.kind} ${w.metadata.name}`;
    const pod = w.spec.template.spec;

    it(`${name}: probes /healthz and /readyz on the HTTP port 8080, and announces /metrics`, () => {
      for (const c of pod.containers) {
        const port = c.ports?.find((p: Doc) => p.name === 'http');
        assert.equal(port?.containerPort, 8080, `${name}/${c.name}: no http port 8080`);
        assert.equal(c.livenessProbe?.httpGet?.path, '/healthz', `${name}/${c.name}: liveness`);
        assert.equal(c.readinessProbe?.httpGet?.path, '/readyz', `${name}/${c.name}: readiness`);
        assert.equal(c.livenessProbe.httpGet.port, 'http');
        assert.equal(c.readinessProbe.httpGet.port, 'http');
      }
      const a = w.spec.template.metadata.annotations ?? {};
      assert.equal(a['prometheus.io/scrape'], 'true');
      assert.equal(a['prometheus.io/port'], '8080');
      assert.equal(a['prometheus.io/path'], '/metrics');
    });

    it(`${name}: runs as non-root with a read-only root filesystem, no capabilities and the default seccomp profile`, () => {
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${name}: runAsNonRoot`);
      assert.ok(pod.securityContext?.runAsUser > 0, `${name}: runAsUser must be a non-zero uid`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${name}: seccomp`);
      assert.notEqual(pod.hostNetwork, true, `${name}: hostNetwork`);
      assert.notEqual(pod.hostIPC, true, `${name}: hostIPC`);
      for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
        const sc = c.securityContext ?? {};
        assert.equal(sc.readOnlyRootFilesystem, true, `${name}/${c.name}: readOnlyRootFilesystem`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${name}/${c.name}: allowPrivilegeEscalation`);
        assert.notEqual(sc.privileged, true, `${name}/${c.name}: privileged`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${name}/${c.name}: capabilities.drop`);
        assert.equal(sc.capabilities?.add, undefined, `${name}/${c.name}: adds capabilities`);
        assert.notEqual(sc.runAsUser, 0, `${name}/${c.name}: runAsUser 0`);
      }
    });

    it(`${name}: sets requests and limits, gets its settings from the ConfigMap (and Secret), mounts nothing writable from the host`, () => {
      for (const c of pod.containers) {
        for (const k of ['requests', 'limits']) {
          assert.ok(c.resources?.[k]?.cpu, `${name}/${c.name}: resources.${k}.cpu`);
          assert.ok(c.resources?.[k]?.memory, `${name}/${c.name}: resources.${k}.memory`);
        }
        const refs = (c.envFrom ?? []).map((e: Doc) => e.configMapRef?.name ?? `secret:${e.secretRef?.name}`);
        assert.ok(
          refs.some((r: string) => r.startsWith('vigil-config')),
          `${name}/${c.name}: no envFrom vigil-config`,
        );
        if (w.kind === 'Deployment')
          assert.ok(
            refs.some((r: string) => r.startsWith('secret:vigil-secrets')),
            `${name}: no envFrom vigil-secrets`,
          );
      }
      const hostPaths = (pod.volumes ?? []).filter((v: Doc) => v.hostPath);
      if (w.metadata.name !== 'host-assessor') assert.equal(hostPaths.length, 0, `${name}: hostPath volume`);
      for (const v of hostPaths) {
        for (const c of pod.containers) {
          for (const m of (c.volumeMounts ?? []).filter((m: Doc) => m.name === v.name)) {
            assert.equal(
              m.readOnly,
              true,
              `${name}: hostPath ${v.hostPath.path} mounted writable at ${m.mountPath}`,
            );
          }
        }
      }
    });
  }

  it('the host assessor sees the node: hostPID and the host root read-only at /host', () => {
    const ds = workloads.find((w) => w.metadata.name === 'host-assessor')!;
    const pod = ds.spec.template.spec;
    assert.equal(pod.hostPID, true);
    const vol = pod.volumes.find((v: Doc) => v.hostPath?.path === '/');
    assert.ok(vol, 'no hostPath volume of /');
    const mount = pod.containers[0].volumeMounts.find((m: Doc) => m.name === vol.name);
    assert.deepEqual({ path: mount.mountPath, readOnly: mount.readOnly }, { path: '/host', readOnly: true });
  });

  it('every Deployment has a Service on port 8080 that selects its pods', () => {
    for (const d of ofKind(base, 'Deployment')) {
      const svc = ofKind(base, 'Service').find(
        (s) => s.metadata.name === d.metadata.name && s.metadata.namespace === d.metadata.namespace,
      );
      assert.ok(svc, `no Service for ${d.metadata.name}`);
      assert.equal(svc.spec.ports[0].port, 8080);
      for (const [k, v] of Object.entries(svc.spec.selector))
        assert.equal(d.spec.template.metadata.labels[k], v, `${d.metadata.name}: selector ${k}`);
    }
  });

  it('each scanner has an autoscaling/v2 HPA whose target exists, capped at the scan-request partitions', () => {
    const hpas = ofKind(base, 'HorizontalPodAutoscaler');
    assert.deepEqual(hpas.map((h) => h.metadata.name).sort(), [...SCANNERS].sort());
    for (const h of hpas) {
      assert.equal(h.apiVersion, 'autoscaling/v2');
      const ref = h.spec.scaleTargetRef;
      const target = base.find(
        (d) =>
          d.kind === ref.kind &&
          d.metadata.name === ref.name &&
          d.metadata.namespace === h.metadata.namespace,
      );
      assert.ok(target, `HPA ${h.metadata.name} targets ${ref.kind} ${ref.name}, which does not exist`);
      assert.ok(h.spec.minReplicas >= 1 && h.spec.minReplicas <= h.spec.maxReplicas);
      assert.ok(
        h.spec.maxReplicas <= TOPIC_PARTITIONS['scan.requests.image']!,
        `${h.metadata.name}: more replicas than partitions`,
      );
      for (const c of target.spec.template.spec.containers)
        assert.ok(c.resources.requests.cpu, 'a CPU-utilization HPA needs CPU requests');
    }
  });
});

describe('infra/k8s RBAC', () => {
  const READ = new Set(['get', 'list', 'watch']);

  it('the config auditor can read the kinds it audits, nothing else, and no Secret', () => {
    const role = ofKind(base, 'ClusterRole').find((r) => r.metadata.name === 'vigil-config-auditor');
    assert.ok(role);
    const readable = new Set<string>();
    for (const rule of role.rules) {
      for (const v of rule.verbs) assert.ok(READ.has(v), `ClusterRole vigil-config-auditor grants "${v}"`);
      assert.ok(
        !rule.resources.includes('*') && !rule.apiGroups.includes('*'),
        'wildcards in the auditor role',
      );
      assert.ok(
        !rule.resources.includes('secrets'),
        'the auditor role must not read secrets (see the comment in config-auditor-rbac.yaml)',
      );
      for (const r of rule.resources) readable.add(r);
    }
    for (const kind of [
      'pods',
      'namespaces',
      'deployments',
      'daemonsets',
      'networkpolicies',
      'roles',
      'clusterrolebindings',
      'serviceaccounts',
    ]) {
      assert.ok(readable.has(kind), `the auditor role cannot read ${kind}`);
    }
    const binding = ofKind(base, 'ClusterRoleBinding').find((b) => b.roleRef.name === 'vigil-config-auditor');
    assert.deepEqual(binding?.subjects, [
      { kind: 'ServiceAccount', name: 'config-auditor', namespace: 'vigil' },
    ]);
  });

  it('only the config auditor mounts a service account token', () => {
    for (const w of workloads) {
      const mounts = w.spec.template.spec.automountServiceAccountToken;
      assert.equal(
        mounts,
        w.metadata.name === 'config-auditor',
        `${w.metadata.name}: automountServiceAccountToken`,
      );
    }
  });
});

describe('infra/k8s Kafka topics', () => {
  it('define every topic of @vigil/contracts with its partition count, and no other', () => {
    const kt = ofKind(topics, 'KafkaTopic');
    const declared = Object.fromEntries(kt.map((t) => [t.spec.topicName, t.spec.partitions]));
    assert.deepEqual(declared, { ...TOPIC_PARTITIONS });
    for (const t of kt) {
      assert.equal(t.apiVersion, 'kafka.strimzi.io/v1beta2');
      assert.equal(t.metadata.labels['strimzi.io/cluster'], 'vigil-kafka');
      assert.ok(
        t.spec.replicas >= t.spec.config['min.insync.replicas'],
        `${t.spec.topicName}: min.insync.replicas above replicas`,
      );
    }
  });
});

describe('kubectl kustomize', () => {
  const skip = haveKubectl
    ? false
    : 'kubectl is not on PATH (install kubectl or the kubernetes-client package to render infra/k8s)';

  it(
    'renders overlays/dev into a deployable whole: every envFrom reference resolves in its namespace',
    { skip },
    () => {
      const dev = render('overlays/dev');
      const have = new Set(dev.map((d) => `${d.kind}/${d.metadata.namespace ?? ''}/${d.metadata.name}`));
      for (const w of dev.filter((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet')) {
        const ns = w.metadata.namespace;
        assert.ok(have.has(`Namespace//${ns}`), `${w.metadata.name}: namespace ${ns} is not rendered`);
        assert.ok(
          have.has(`ServiceAccount/${ns}/${w.spec.template.spec.serviceAccountName}`),
          `${w.metadata.name}: service account`,
        );
        for (const c of w.spec.template.spec.containers) {
          assert.match(c.image, /^vigil\/[a-z-]+:dev$/);
          for (const e of c.envFrom ?? []) {
            const ref = e.configMapRef
              ? `ConfigMap/${ns}/${e.configMapRef.name}`
              : `Secret/${ns}/${e.secretRef.name}`;
            assert.ok(have.has(ref), `${w.metadata.name}: envFrom ${ref} is not rendered`);
          }
        }
      }
      const cm = dev.find((d) => d.kind === 'ConfigMap' && d.metadata.namespace === 'vigil');
      assert.equal(cm?.data.EVENT_LOG, 'kafka');
      assert.ok(cm?.data.KAFKA_BROKERS);
      const secret = dev.find((d) => d.kind === 'Secret' && d.metadata.namespace === 'vigil');
      assert.match(Buffer.from(secret?.data.DATABASE_URL ?? '', 'base64').toString(), /^postgresql:\/\//);
      // The single dev broker holds every replica.
      for (const t of dev.filter((d) => d.kind === 'KafkaTopic'))
        assert.equal(t.spec.replicas, 1, t.spec.topicName);
    },
  );
});
