#!/usr/bin/env node
// bench/config-audit/generate: writes a synthetic cluster as multi-document YAML manifest files, shaped after the
// real manifests in ../shared/corpus/k8s/manifests (microservices-demo, sock-shop, k8s-bootstrap-rbac,
// network-policy-recipes, ingress-nginx-rendered). Deterministic for a given seed and scale.
//
// At scale 1: ~200 namespaces (about one in seven labelled pci-scope: cde), 10,000 workloads with their Services,
// ServiceAccounts and some Ingresses, 2,000 NetworkPolicies and 5,000 RoleBindings/ClusterRoleBindings over
// namespaced Roles, custom ClusterRoles and the built-in ones. Every count scales linearly.
//
//   node bench/config-audit/generate.mjs --out /tmp/cluster [--scale 0.1] [--seed 42]
//
// The layout follows how such a cluster's manifests are usually kept: one directory per namespace with a file per
// concern (workloads, services, network policies, rbac), plus cluster-scoped files.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { stringify } from 'yaml';

export const FULL_SIZE = { namespaces: 200, workloads: 10_000, networkPolicies: 2_000, bindings: 5_000 };

/** mulberry32: small, fast and good enough to vary manifests; the point is reproducibility, not randomness. */
function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    /** Picks by weight from [[value, weight], ...]. */
    weighted: (pairs) => {
      const total = pairs.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [v, w] of pairs) if ((r -= w) < 0) return v;
      return pairs[pairs.length - 1][0];
    },
  };
}

const TEAMS = [
  'payments',
  'checkout',
  'catalog',
  'identity',
  'platform',
  'data',
  'search',
  'ml',
  'edge',
  'risk',
];
const ENVS = ['prod', 'staging', 'dev'];
const APP_WORDS = [
  'frontend',
  'cart',
  'checkout',
  'payment',
  'currency',
  'shipping',
  'email',
  'recommendation',
  'ad',
  'catalogue',
  'orders',
  'user',
  'queue-master',
  'session',
  'auth',
  'ledger',
  'tokenizer',
  'fraud',
  'reporting',
  'inventory',
  'pricing',
  'notifier',
  'gateway',
  'search',
  'indexer',
  'billing',
  'audit',
  'export',
  'import',
  'scheduler',
];
const DATASTORES = [
  { name: 'redis', image: 'redis:7.2-alpine', port: 6379 },
  { name: 'mongo', image: 'mongo:4.4', port: 27017 },
  { name: 'mysql', image: 'mysql:8.0.36', port: 3306 },
  { name: 'rabbitmq', image: 'rabbitmq:3.6.8-management', port: 5672 },
  { name: 'postgres', image: 'postgres:16', port: 5432 },
];
const REGISTRIES = [
  'us-central1-docker.pkg.dev/online-boutique-ci/microservices-demo',
  'weaveworksdemos',
  'registry.k8s.io/ingress-nginx',
  'ghcr.io/acme',
  'docker.io/library',
];

/** The counts for a scale; never below one namespace or one of each object kind, so tiny runs still exercise everything. */
export function sizesFor(scale) {
  const n = (full) => Math.max(1, Math.round(full * scale));
  return {
    namespaces: n(FULL_SIZE.namespaces),
    workloads: n(FULL_SIZE.workloads),
    networkPolicies: n(FULL_SIZE.networkPolicies),
    bindings: n(FULL_SIZE.bindings),
  };
}

/**
 * Builds the cluster's objects in memory, grouped by the file they are written to: { "<relative path>": [object] }.
 * Exported so a caller can count or inspect what was generated without reading the files back.
 */
export function buildCluster({ scale = 1, seed = 42 } = {}) {
  const rnd = prng(seed);
  const sizes = sizesFor(scale);
  const files = new Map();
  const add = (file, obj) => {
    if (!files.has(file)) files.set(file, []);
    files.get(file).push(obj);
  };

  // --- namespaces --------------------------------------------------------------------------------------------
  const namespaces = [];
  for (let i = 0; i < sizes.namespaces; i++) {
    const team = TEAMS[i % TEAMS.length];
    const env = ENVS[Math.floor(i / TEAMS.length) % ENVS.length];
    const name = `${team}-${env}-${String(i).padStart(3, '0')}`;
    // Payment-like teams in prod are the CDE; a few others are too, as in a real scoping exercise.
    const cde =
      (env === 'prod' && (team === 'payments' || team === 'checkout' || team === 'risk')) || rnd.chance(0.05);
    const labels = { 'kubernetes.io/metadata.name': name, team, env };
    if (cde) labels['pci-scope'] = 'cde';
    if (rnd.chance(0.3)) labels['istio-injection'] = 'enabled';
    namespaces.push({ name, team, env, cde, apps: [] });
    add('cluster/namespaces.yaml', { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } });
  }
  // kube-system and ingress-nginx exist in every cluster and are what DNS egress and ingress rules point at.
  add('cluster/namespaces.yaml', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: {
      name: 'ingress-nginx',
      labels: { 'kubernetes.io/metadata.name': 'ingress-nginx', 'app.kubernetes.io/name': 'ingress-nginx' },
    },
  });

  // --- workloads, services, service accounts, ingresses ------------------------------------------------------
  for (let i = 0; i < sizes.workloads; i++) {
    const ns = namespaces[i % namespaces.length];
    const w = workload(rnd, ns, i);
    ns.apps.push(w.app);
    add(`${ns.name}/workloads.yaml`, w.object);
    if (w.serviceAccount) add(`${ns.name}/service-accounts.yaml`, w.serviceAccount);
    if (w.service) add(`${ns.name}/services.yaml`, w.service);
  }
  for (const ns of namespaces) {
    const exposed = ns.apps.filter((a) => a.http);
    if (exposed.length === 0) continue;
    // Roughly one Ingress per five HTTP apps; most with TLS, the dev ones often without.
    for (let k = 0; k < Math.ceil(exposed.length / 5); k++) {
      const paths = exposed.slice(k * 5, k * 5 + 5);
      const host = `${paths[0].name}.${ns.name}.shop.example.com`;
      const tls = ns.env !== 'dev' ? rnd.chance(0.9) : rnd.chance(0.4);
      add(`${ns.name}/ingresses.yaml`, {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: {
          name: `${paths[0].name}-ingress`,
          namespace: ns.name,
          annotations: { 'nginx.ingress.kubernetes.io/ssl-redirect': tls ? 'true' : 'false' },
        },
        spec: {
          ingressClassName: 'nginx',
          ...(tls ? { tls: [{ hosts: [host], secretName: `${paths[0].name}-tls` }] } : {}),
          rules: [
            {
              host,
              http: {
                paths: paths.map((a) => ({
                  path: `/${a.name}`,
                  pathType: 'Prefix',
                  backend: { service: { name: a.name, port: { number: a.port } } },
                })),
              },
            },
          ],
        },
      });
    }
  }

  // --- network policies --------------------------------------------------------------------------------------
  networkPolicies(rnd, namespaces, sizes.networkPolicies, add);

  // --- RBAC ----------------------------------------------------------------------------------------------------
  rbac(rnd, namespaces, sizes.bindings, add);

  return {
    sizes,
    files,
    namespaces: namespaces.length + 1,
    cdeNamespaces: namespaces.filter((ns) => ns.cde).length,
  };
}

function workload(rnd, ns, i) {
  const word = rnd.pick(APP_WORDS);
  const store = rnd.chance(0.12) ? rnd.pick(DATASTORES) : undefined;
  const name = store ? `${word}-${store.name}-${i}` : `${word}-${i}`;
  const kind = store
    ? 'StatefulSet'
    : rnd.weighted([
        ['Deployment', 78],
        ['DaemonSet', 3],
        ['Job', 5],
        ['CronJob', 6],
        ['Pod', 2],
        ['ReplicationController', 1],
      ]);
  // The four styles of the corpus: hardened (microservices-demo), container-level hardening with
  // NET_BIND_SERVICE (sock-shop), the ingress-nginx controller, and the bare examples with nothing set.
  const style = rnd.weighted([
    ['boutique', 40],
    ['sockshop', 25],
    ['nginx', 10],
    ['bare', 25],
  ]);
  const port = store ? store.port : rnd.pick([80, 8080, 3550, 5050, 7000, 7070, 9555, 50051, 8443]);
  const labels = {
    app: name,
    'app.kubernetes.io/name': word,
    'app.kubernetes.io/part-of': ns.team,
    tier: store ? 'data' : rnd.pick(['web', 'api', 'worker']),
  };
  if (rnd.chance(0.5)) labels.version = `v${rnd.int(1, 3)}.${rnd.int(0, 12)}.${rnd.int(0, 9)}`;
  // Some CDE pods sit outside CDE namespaces, labelled individually.
  if (!ns.cde && rnd.chance(0.02)) labels['pci-scope'] = 'cde';

  const image = store
    ? store.image
    : rnd.weighted([
        [`${rnd.pick(REGISTRIES)}/${word}:v0.${rnd.int(1, 10)}.${rnd.int(0, 9)}`, 80],
        [`${rnd.pick(REGISTRIES)}/${word}:latest`, 8],
        [`${rnd.pick(REGISTRIES)}/${word}`, 4],
        [`${rnd.pick(REGISTRIES)}/${word}@sha256:${hex(rnd, 64)}`, 8],
      ]);
  const containers = [container(rnd, style, 'server', image, port, ns)];
  // Sidecars (log shippers, proxies) are common and rarely as hardened as the main container.
  if (rnd.chance(0.2))
    containers.push(
      container(rnd, rnd.pick(['bare', style]), 'sidecar', 'fluent/fluent-bit:3.0.4', 2020, ns),
    );
  const podSpec = {
    ...(style === 'boutique' || style === 'nginx' ? { serviceAccountName: name } : {}),
    ...(style === 'nginx'
      ? { automountServiceAccountToken: true }
      : rnd.chance(0.2)
        ? { automountServiceAccountToken: false }
        : {}),
    ...(style === 'boutique'
      ? { securityContext: { fsGroup: 1000, runAsGroup: 1000, runAsNonRoot: true, runAsUser: 1000 } }
      : {}),
    ...(rnd.chance(0.1)
      ? { initContainers: [container(rnd, style, 'init', 'busybox:1.36', undefined, ns)] }
      : {}),
    containers,
    ...(style === 'sockshop'
      ? { nodeSelector: { 'beta.kubernetes.io/os': 'linux' } }
      : { nodeSelector: { 'kubernetes.io/os': 'linux' } }),
    ...(kind === 'DaemonSet' && rnd.chance(0.3) ? { hostNetwork: true, hostPID: rnd.chance(0.3) } : {}),
    ...(kind === 'DaemonSet' && rnd.chance(0.4)
      ? { volumes: [{ name: 'varlog', hostPath: { path: '/var/log' } }] }
      : store
        ? {}
        : { volumes: [{ name: 'tmp', emptyDir: {} }] }),
    ...(kind === 'Job' || kind === 'CronJob' ? { restartPolicy: 'OnFailure' } : {}),
  };
  if (containers.some((c) => c.volumeMounts?.some((m) => m.name === 'docker-sock')))
    podSpec.volumes = [
      ...(podSpec.volumes ?? []),
      { name: 'docker-sock', hostPath: { path: '/var/run/docker.sock', type: 'Socket' } },
    ];
  const template = { metadata: { labels: { ...labels } }, spec: podSpec };
  const metadata = { name, namespace: ns.name, labels };
  let object;
  switch (kind) {
    case 'Pod':
      object = { apiVersion: 'v1', kind, metadata, spec: podSpec };
      break;
    case 'Job':
      object = { apiVersion: 'batch/v1', kind, metadata, spec: { backoffLimit: 4, template } };
      break;
    case 'CronJob':
      object = {
        apiVersion: 'batch/v1',
        kind,
        metadata,
        spec: { schedule: `${rnd.int(0, 59)} ${rnd.int(0, 23)} * * *`, jobTemplate: { spec: { template } } },
      };
      break;
    case 'ReplicationController':
      object = { apiVersion: 'v1', kind, metadata, spec: { replicas: 2, selector: { app: name }, template } };
      break;
    case 'StatefulSet':
      object = {
        apiVersion: 'apps/v1',
        kind,
        metadata,
        spec: {
          serviceName: name,
          replicas: rnd.int(1, 3),
          selector: { matchLabels: { app: name } },
          template,
          volumeClaimTemplates: [
            {
              metadata: { name: 'data' },
              spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
            },
          ],
        },
      };
      break;
    default:
      // sock-shop still ships extensions/v1beta1 Deployments; keep a few so the loader sees both.
      object = {
        apiVersion: style === 'sockshop' && rnd.chance(0.3) ? 'extensions/v1beta1' : 'apps/v1',
        kind,
        metadata,
        spec: {
          ...(kind === 'Deployment' ? { replicas: rnd.int(1, 5) } : {}),
          selector: { matchLabels: { app: name } },
          template,
        },
      };
  }
  const serviceable = kind !== 'Job' && kind !== 'CronJob' && kind !== 'Pod';
  const type = serviceable
    ? rnd.weighted([
        ['ClusterIP', 92],
        ['LoadBalancer', 3],
        ['NodePort', 4],
        ['externalIPs', 1],
      ])
    : undefined;
  const service = serviceable
    ? {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns.name, labels: { app: name } },
        spec: {
          ...(type === 'ClusterIP' || type === 'externalIPs' ? {} : { type }),
          ...(type === 'externalIPs' ? { externalIPs: [`203.0.113.${rnd.int(1, 254)}`] } : {}),
          selector: { app: name },
          ports: [{ name: 'http', port: port === 8080 ? 80 : port, targetPort: port, protocol: 'TCP' }],
        },
      }
    : undefined;
  const serviceAccount = podSpec.serviceAccountName
    ? { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: ns.name } }
    : undefined;
  return {
    object,
    service,
    serviceAccount,
    app: {
      name,
      labels,
      port,
      http: Boolean(service) && !store && rnd.chance(0.4),
      tier: labels.tier,
      store: Boolean(store),
    },
  };
}

function container(rnd, style, name, image, port, ns) {
  const c = { name, image };
  if (port)
    c.ports = [{ containerPort: port, ...(style === 'nginx' ? { name: 'http', protocol: 'TCP' } : {}) }];
  if (rnd.chance(0.6))
    c.env = [
      { name: 'PORT', value: String(port ?? 8080) },
      { name: 'ENABLE_PROFILER', value: '0' },
      ...(rnd.chance(0.1) ? [{ name: 'DB_PASSWORD', value: `pw-${hex(rnd, 8)}` }] : []),
      ...(rnd.chance(0.3)
        ? [{ name: 'API_TOKEN', valueFrom: { secretKeyRef: { name: `${name}-secrets`, key: 'token' } } }]
        : []),
    ];
  if (port && rnd.chance(0.7)) {
    c.readinessProbe = { initialDelaySeconds: 10, httpGet: { path: '/_healthz', port } };
    c.livenessProbe = { initialDelaySeconds: 10, httpGet: { path: '/_healthz', port } };
  }
  if (style === 'boutique') {
    c.securityContext = {
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      privileged: false,
      readOnlyRootFilesystem: true,
    };
    c.resources = { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '200m', memory: '128Mi' } };
  } else if (style === 'sockshop') {
    c.securityContext = {
      runAsNonRoot: rnd.chance(0.7),
      runAsUser: 10001,
      capabilities: {
        drop: ['all'],
        add: rnd.chance(0.5) ? ['NET_BIND_SERVICE'] : ['CHOWN', 'SETGID', 'SETUID'],
      },
      readOnlyRootFilesystem: rnd.chance(0.8),
    };
    c.resources = { limits: { cpu: '100m', memory: '100Mi' }, requests: { cpu: '100m', memory: '100Mi' } };
  } else if (style === 'nginx') {
    c.securityContext = {
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_BIND_SERVICE'], drop: ['ALL'] },
      readOnlyRootFilesystem: false,
      runAsGroup: 82,
      runAsNonRoot: true,
      runAsUser: 101,
      seccompProfile: { type: 'RuntimeDefault' },
    };
    c.resources = { requests: { cpu: '100m', memory: '90Mi' } };
  } else if (rnd.chance(0.05)) {
    // The occasional debugging leftover of the bare examples.
    c.securityContext = { privileged: true };
  }
  if (ns.cde && rnd.chance(0.02))
    c.volumeMounts = [{ name: 'docker-sock', mountPath: '/var/run/docker.sock' }];
  return c;
}

function hex(rnd, n) {
  let s = '';
  for (let i = 0; i < n; i++) s += '0123456789abcdef'[rnd.int(0, 15)];
  return s;
}

/**
 * NetworkPolicies after the recipes and microservices-demo: a namespace-wide deny-all in most namespaces that have
 * any, then per-app policies allowing named peers, namespaces, external CIDRs, DNS-only egress, and the classic
 * mistakes (ingress: [{}], egress: [{}], 0.0.0.0/0, a selector that matches nothing, bare-label selectors).
 */
function networkPolicies(rnd, namespaces, total, add) {
  let made = 0;
  const covered = namespaces.filter((ns) => ns.cde || rnd.chance(0.55));
  const emit = (ns, policy) => {
    add(`${ns.name}/network-policies.yaml`, policy);
    made++;
  };
  for (const ns of covered) {
    if (made >= total) break;
    emit(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny-all', namespace: ns.name },
      spec: { podSelector: {}, policyTypes: rnd.chance(0.7) ? ['Ingress', 'Egress'] : ['Ingress'] },
    });
  }
  // Per-app policies round-robin over the covered namespaces until the total is reached.
  const pool = covered.length ? covered : namespaces;
  let round = 0;
  while (made < total) {
    const ns = pool[round % pool.length];
    const app = ns.apps[Math.floor(round / pool.length) % Math.max(1, ns.apps.length)];
    round++;
    if (!app) continue;
    const peer = ns.apps.length > 1 ? rnd.pick(ns.apps) : app;
    const recipe = rnd.weighted([
      ['from-app', 35],
      ['from-namespace', 12],
      ['from-ns-and-pod', 6],
      ['external-cidr', 6],
      ['allow-all-ingress', 4],
      ['dns-only-egress', 12],
      ['all-egress', 8],
      ['match-expressions', 8],
      ['stale-selector', 4],
      ['bare-labels', 2],
      ['open-cidr-egress', 3],
    ]);
    const ports = [{ port: app.port, protocol: 'TCP' }];
    let spec;
    const sel = { matchLabels: { app: app.name } };
    switch (recipe) {
      case 'from-app':
        spec = {
          podSelector: sel,
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { app: peer.name } } }], ports }],
        };
        break;
      case 'from-namespace':
        spec = {
          podSelector: sel,
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: rnd.pick(TEAMS) } } }], ports }],
        };
        break;
      case 'from-ns-and-pod':
        spec = {
          podSelector: sel,
          ingress: [
            {
              from: [
                {
                  namespaceSelector: { matchLabels: { team: 'platform' } },
                  podSelector: { matchLabels: { type: 'monitoring' } },
                },
              ],
            },
          ],
        };
        break;
      case 'external-cidr':
        spec = {
          podSelector: sel,
          policyTypes: ['Ingress'],
          ingress: [
            {
              from: [
                {
                  ipBlock: rnd.chance(0.5)
                    ? { cidr: `10.${rnd.int(0, 255)}.0.0/16`, except: [`10.${rnd.int(0, 255)}.1.0/24`] }
                    : { cidr: '0.0.0.0/0', except: ['169.254.169.254/32'] },
                },
              ],
              ports: [
                { port: 443, protocol: 'TCP' },
                { port: 8000, endPort: 8100, protocol: 'TCP' },
              ],
            },
          ],
        };
        break;
      case 'allow-all-ingress':
        spec = { podSelector: sel, ingress: [{}] };
        break;
      case 'dns-only-egress':
        spec = {
          podSelector: sel,
          policyTypes: ['Egress'],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
                  podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
                },
              ],
              ports: [
                { port: 53, protocol: 'UDP' },
                { port: 53, protocol: 'TCP' },
              ],
            },
            {
              to: [{ podSelector: { matchLabels: { app: peer.name } } }],
              ports: [{ port: peer.port, protocol: 'TCP' }],
            },
          ],
        };
        break;
      case 'all-egress':
        // microservices-demo's paymentservice: ingress from one caller, egress anywhere.
        spec = {
          podSelector: sel,
          policyTypes: ['Ingress', 'Egress'],
          ingress: [{ from: [{ podSelector: { matchLabels: { app: peer.name } } }], ports }],
          egress: [{}],
        };
        break;
      case 'match-expressions':
        spec = {
          podSelector: {
            matchExpressions: [
              { key: 'tier', operator: 'In', values: [app.tier, 'api'] },
              { key: 'app', operator: 'Exists' },
            ],
          },
          ingress: [
            {
              from: [
                { podSelector: { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['data'] }] } },
              ],
              ports: [{ port: 'http' }],
            },
          ],
        };
        break;
      case 'stale-selector':
        // A policy left behind after its app was renamed.
        spec = {
          podSelector: { matchLabels: { app: `${app.name}-old` } },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: peer.name } } }] }],
        };
        break;
      case 'bare-labels':
        // Labels written directly under podSelector: the API server drops them and the policy selects every pod.
        spec = {
          podSelector: { app: app.name },
          ingress: [{ from: [{ podSelector: { matchLabels: { app: peer.name } } }] }],
        };
        break;
      case 'open-cidr-egress':
        spec = {
          podSelector: sel,
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: '0.0.0.0/0' } }], ports: [{ port: 443, protocol: 'TCP' }] }],
        };
        break;
    }
    emit(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `${app.name}-${recipe}-${made}`, namespace: ns.name },
      spec,
    });
  }
}

const VERB_SETS = {
  read: ['get', 'list', 'watch'],
  write: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  all: ['*'],
};

/**
 * RBAC after k8s-bootstrap-rbac and ingress-nginx: a Role per app for the ones with a service account (configmaps,
 * leases, sometimes secrets), team Roles per namespace, custom ClusterRoles (readers, operators, a few wildcards and
 * escalation rights), and bindings of those and of the built-in admin/edit/view/cluster-admin to users, groups and
 * service accounts, with the rare system:authenticated or system:unauthenticated subject.
 */
function rbac(rnd, namespaces, total, add) {
  const clusterRoles = [];
  const clusterRole = (name, rules) => {
    clusterRoles.push(name);
    add('cluster/cluster-roles.yaml', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'platform' } },
      rules,
    });
  };
  const customRoles = Math.max(4, Math.round(total / 50));
  for (let i = 0; i < customRoles; i++) {
    const shape = rnd.weighted([
      ['reader', 40],
      ['operator', 30],
      ['controller', 15],
      ['wildcard', 5],
      ['escalator', 5],
      ['node-proxy', 5],
    ]);
    const rules =
      shape === 'reader'
        ? [
            {
              apiGroups: ['', 'apps'],
              resources: ['pods', 'services', 'deployments', 'configmaps'],
              verbs: VERB_SETS.read,
            },
          ]
        : shape === 'operator'
          ? [
              { apiGroups: ['apps'], resources: ['deployments', 'statefulsets'], verbs: VERB_SETS.write },
              { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: VERB_SETS.read },
              ...(rnd.chance(0.4) ? [{ apiGroups: [''], resources: ['pods/exec'], verbs: ['create'] }] : []),
            ]
          : shape === 'controller'
            ? [
                // ingress-nginx's ClusterRole: list/watch most things, read secrets cluster-wide.
                {
                  apiGroups: [''],
                  resources: ['configmaps', 'endpoints', 'nodes', 'pods', 'secrets', 'namespaces'],
                  verbs: ['list', 'watch'],
                },
                { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['list', 'watch'] },
                {
                  apiGroups: ['networking.k8s.io'],
                  resources: ['ingresses', 'ingressclasses'],
                  verbs: ['get', 'list', 'watch'],
                },
                { apiGroups: ['networking.k8s.io'], resources: ['ingresses/status'], verbs: ['update'] },
              ]
            : shape === 'wildcard'
              ? [{ apiGroups: ['*'], resources: ['*'], verbs: rnd.chance(0.5) ? ['*'] : VERB_SETS.read }]
              : shape === 'escalator'
                ? [
                    {
                      apiGroups: ['rbac.authorization.k8s.io'],
                      resources: ['clusterroles', 'rolebindings'],
                      verbs: ['bind', 'escalate'],
                    },
                  ]
                : [{ apiGroups: [''], resources: ['nodes/proxy', 'nodes/stats'], verbs: ['get'] }];
    clusterRole(`platform:${shape}-${i}`, rules);
  }
  const roleNames = new Map();
  const role = (ns, name, rules) => {
    if (!roleNames.has(ns.name)) roleNames.set(ns.name, []);
    roleNames.get(ns.name).push(name);
    add(`${ns.name}/rbac.yaml`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name, namespace: ns.name },
      rules,
    });
  };
  for (const ns of namespaces) {
    role(ns, `${ns.team}-developer`, [
      {
        apiGroups: ['', 'apps', 'batch'],
        resources: ['pods', 'pods/log', 'deployments', 'jobs', 'configmaps'],
        verbs: VERB_SETS.write,
      },
      ...(rnd.chance(0.3) ? [{ apiGroups: [''], resources: ['secrets'], verbs: VERB_SETS.read }] : []),
    ]);
    role(ns, `${ns.team}-viewer`, [
      { apiGroups: ['', 'apps'], resources: ['pods', 'services', 'deployments'], verbs: VERB_SETS.read },
    ]);
    if (rnd.chance(0.1)) role(ns, `${ns.team}-admin`, [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]);
    // ingress-nginx's namespaced Role: its own configmap, its leader lease and one named secret.
    for (const app of ns.apps.filter((a) => !a.store).slice(0, 3))
      role(ns, `${app.name}-leader`, [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: [`${app.name}-leader`],
          verbs: ['get', 'update'],
        },
        { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
        ...(rnd.chance(0.3)
          ? [{ apiGroups: [''], resources: ['secrets'], resourceNames: [`${app.name}-tls`], verbs: ['get'] }]
          : []),
      ]);
  }

  const users = Array.from({ length: 300 }, (_, i) => `user${i}@corp.example.com`);
  const groups = [...TEAMS.map((t) => `team:${t}`), 'oncall', 'auditors', 'ci-deployers'];
  const subject = (ns) => {
    const k = rnd.weighted([
      ['User', 35],
      ['Group', 25],
      ['ServiceAccount', 40],
    ]);
    if (k === 'User') return { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: rnd.pick(users) };
    if (k === 'Group')
      return { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: rnd.pick(groups) };
    const app = ns.apps.length ? rnd.pick(ns.apps) : { name: 'default' };
    return { kind: 'ServiceAccount', name: app.name, namespace: ns.name };
  };
  const clusterBindings = Math.round(total * 0.2);
  for (let i = 0; i < total; i++) {
    const ns = namespaces[i % namespaces.length];
    const subjects = Array.from(
      {
        length: rnd.weighted([
          [1, 70],
          [2, 20],
          [3, 10],
        ]),
      },
      () => subject(ns),
    );
    // The rare binding of a whole population, as the bootstrap policy does for discovery.
    if (rnd.chance(0.004))
      subjects.push({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:authenticated' });
    if (rnd.chance(0.001))
      subjects.push({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:unauthenticated' });
    if (i < clusterBindings) {
      const ref = rnd.weighted([
        ['cluster-admin', 2],
        ['view', 20],
        ['edit', 5],
        ['custom', 73],
      ]);
      const name = ref === 'custom' ? rnd.pick(clusterRoles) : ref;
      add('cluster/cluster-role-bindings.yaml', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name: `${name.replace(/:/g, '-')}-binding-${i}` },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects,
      });
      continue;
    }
    const useRole = rnd.chance(0.6) && roleNames.get(ns.name)?.length;
    const ref = useRole
      ? { kind: 'Role', name: rnd.pick(roleNames.get(ns.name)) }
      : {
          kind: 'ClusterRole',
          name: rnd.weighted([
            ['admin', 5],
            ['edit', 15],
            ['view', 30],
            [rnd.pick(clusterRoles), 50],
          ]),
        };
    add(`${ns.name}/rbac.yaml`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: `${ref.name.replace(/:/g, '-')}-${i}`, namespace: ns.name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...ref },
      subjects,
    });
  }
}

/** Writes the cluster under dir; returns the counts and the number of files and bytes written. */
export function writeCluster(dir, { scale = 1, seed = 42 } = {}) {
  const { sizes, files, namespaces, cdeNamespaces } = buildCluster({ scale, seed });
  let bytes = 0;
  let objects = 0;
  const kinds = {};
  for (const [file, objs] of files) {
    const full = join(dir, file);
    mkdirSync(join(full, '..'), { recursive: true });
    const text = objs.map((o) => `---\n${stringify(o, { lineWidth: 0 })}`).join('');
    writeFileSync(full, text);
    bytes += Buffer.byteLength(text);
    objects += objs.length;
    for (const o of objs) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  }
  return { sizes, namespaces, cdeNamespaces, files: files.size, bytes, objects, kinds };
}

function usage(problem) {
  console.error(
    `bench/config-audit/generate: ${problem}\nusage: node bench/config-audit/generate.mjs --out DIR [--scale X] [--seed N]`,
  );
  process.exit(2);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const argv = process.argv.slice(2);
  let out;
  let scale = 1;
  let seed = 42;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out') out = argv[++i];
    else if (a === '--scale') scale = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else usage(`unknown argument "${a}"`);
  }
  if (!out) usage('--out is required');
  if (!(scale > 0)) usage(`--scale needs a positive number, got "${scale}"`);
  if (!Number.isInteger(seed)) usage(`--seed needs an integer, got "${seed}"`);
  const t0 = Date.now();
  const r = writeCluster(out, { scale, seed });
  console.log(
    `wrote ${r.objects} objects in ${r.files} files (${(r.bytes / 1e6).toFixed(1)} MB) to ${out} in ${Date.now() - t0} ms`,
  );
  console.log(JSON.stringify(r.kinds));
}
