import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrategicMerge, StrategicMergeError } from './strategic-merge.js';

// The Deployment of the Kubernetes docs' kubectl patch task ("Update API Objects in Place Using kubectl patch").
const patchDemo = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'patch-demo' },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'nginx' } },
    template: {
      metadata: { labels: { app: 'nginx' } },
      spec: {
        containers: [{ name: 'patch-demo-ctr', image: 'nginx' }],
        tolerations: [{ effect: 'NoSchedule', key: 'dedicated', value: 'test-team' }],
      },
    },
  },
});

test('containers merge by name: a new container is added and the existing one kept (docs example)', () => {
  const out = applyStrategicMerge(patchDemo(), {
    spec: { template: { spec: { containers: [{ name: 'patch-demo-ctr-2', image: 'redis' }] } } },
  });
  const spec = (out['spec'] as { template: { spec: { containers: unknown[] } } }).template.spec;
  assert.deepEqual(spec.containers, [
    { name: 'patch-demo-ctr', image: 'nginx' },
    { name: 'patch-demo-ctr-2', image: 'redis' },
  ]);
});

test('tolerations have no patch strategy, so the patch list replaces them (docs example)', () => {
  const out = applyStrategicMerge(patchDemo(), {
    spec: { template: { spec: { tolerations: [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }] } } },
  });
  const spec = (out['spec'] as { template: { spec: Record<string, unknown> } }).template.spec;
  assert.deepEqual(spec['tolerations'], [{ effect: 'NoSchedule', key: 'disktype', value: 'ssd' }]);
  assert.deepEqual(spec['containers'], [{ name: 'patch-demo-ctr', image: 'nginx' }]);
});

test('a matched element merges field by field and null deletes a field; the input is not modified', () => {
  const before = patchDemo();
  const out = applyStrategicMerge(before, {
    metadata: { labels: { team: 'pay' } },
    spec: {
      replicas: null,
      template: {
        spec: {
          containers: [{ name: 'patch-demo-ctr', image: null, securityContext: { privileged: false } }],
        },
      },
    },
  });
  assert.deepEqual(out['metadata'], { name: 'patch-demo', labels: { team: 'pay' } });
  const spec = out['spec'] as Record<string, unknown>;
  assert.equal('replicas' in spec, false);
  assert.deepEqual((spec['template'] as { spec: { containers: unknown[] } }).spec.containers, [
    { name: 'patch-demo-ctr', securityContext: { privileged: false } },
  ]);
  assert.deepEqual(before, patchDemo());
});

test('env and volumes merge by name, container ports by containerPort, volumeMounts by mountPath', () => {
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      volumes: [
        { name: 'host', hostPath: { path: '/var/run' } },
        { name: 'cfg', configMap: { name: 'c' } },
      ],
      containers: [
        {
          name: 'app',
          image: 'a:1',
          env: [
            { name: 'DB_PASSWORD', value: 'x' },
            { name: 'LOG', value: 'debug' },
          ],
          ports: [
            { containerPort: 8080, hostPort: 80 },
            { containerPort: 9090, name: 'metrics' },
          ],
          volumeMounts: [{ name: 'host', mountPath: '/host' }],
        },
      ],
    },
  };
  const out = applyStrategicMerge(pod, {
    spec: {
      volumes: [{ name: 'host', hostPath: null, emptyDir: {} }],
      containers: [
        {
          name: 'app',
          env: [{ name: 'DB_PASSWORD', value: null, valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
          ports: [{ containerPort: 8080, hostPort: null }],
          volumeMounts: [{ mountPath: '/host', readOnly: true }],
        },
      ],
    },
  });
  const spec = out['spec'] as { volumes: unknown[]; containers: Record<string, unknown>[] };
  assert.deepEqual(spec.volumes, [
    { name: 'host', emptyDir: {} },
    { name: 'cfg', configMap: { name: 'c' } },
  ]);
  const c = spec.containers[0]!;
  assert.deepEqual(c['env'], [
    { name: 'DB_PASSWORD', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
    { name: 'LOG', value: 'debug' },
  ]);
  assert.deepEqual(c['ports'], [{ containerPort: 8080 }, { containerPort: 9090, name: 'metrics' }]);
  assert.deepEqual(c['volumeMounts'], [{ name: 'host', mountPath: '/host', readOnly: true }]);
});

test('capabilities.add has no merge key: the patched list replaces it', () => {
  const pod = {
    kind: 'Pod',
    spec: {
      initContainers: [
        {
          name: 'init',
          securityContext: { capabilities: { add: ['SYS_ADMIN', 'NET_BIND_SERVICE'], drop: ['ALL'] } },
        },
      ],
    },
  };
  const out = applyStrategicMerge(pod, {
    spec: {
      initContainers: [{ name: 'init', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } } }],
    },
  });
  assert.deepEqual(out, {
    kind: 'Pod',
    spec: {
      initContainers: [
        { name: 'init', securityContext: { capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] } } },
      ],
    },
  });
});

test('Service ports merge by port, the key ServiceSpec declares', () => {
  const svc = { kind: 'Service', spec: { ports: [{ port: 80, nodePort: 30080 }, { port: 443 }] } };
  const out = applyStrategicMerge(svc, { spec: { ports: [{ port: 80, nodePort: null }] } });
  assert.deepEqual(out, { kind: 'Service', spec: { ports: [{ port: 80 }, { port: 443 }] } });
  // Outside a Service a "ports" list under spec has no declared key and is replaced.
  const other = applyStrategicMerge(
    { kind: 'Other', spec: { ports: [{ port: 1 }] } },
    { spec: { ports: [{ port: 2 }] } },
  );
  assert.deepEqual(other, { kind: 'Other', spec: { ports: [{ port: 2 }] } });
});

test('$patch: delete removes a keyed element or a map; $patch: replace replaces a map', () => {
  const pod = {
    kind: 'Pod',
    spec: {
      containers: [{ name: 'a' }, { name: 'b' }],
      securityContext: { runAsUser: 0, fsGroup: 2000 },
      dnsConfig: { nameservers: ['1.1.1.1'] },
    },
  };
  const out = applyStrategicMerge(pod, {
    spec: {
      containers: [{ name: 'a', $patch: 'delete' }],
      securityContext: { $patch: 'replace', runAsUser: 1000 },
      dnsConfig: { $patch: 'delete' },
    },
  });
  assert.deepEqual(out, {
    kind: 'Pod',
    spec: { containers: [{ name: 'b' }], securityContext: { runAsUser: 1000 } },
  });
});

test('a keyed list element without its merge key is rejected with its path, as the API server does', () => {
  assert.throws(
    () => applyStrategicMerge({ kind: 'Pod', spec: {} }, { spec: { containers: [{ image: 'x' }] } }),
    (e: unknown) =>
      e instanceof StrategicMergeError &&
      e.message ===
        'strategic merge patch at spec.containers[0]: element does not contain the declared merge key name',
  );
  assert.throws(
    () => applyStrategicMerge({ kind: 'Pod' }, { spec: { $retainKeys: ['a'] } }),
    /spec: directive \$retainKeys is not supported/,
  );
});
