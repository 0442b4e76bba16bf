#!/usr/bin/env node
// bench/reporting: the reporting side at 200,000 findings. Generates (deterministically) the events the real
// scanners publish — image vulnerabilities, config checks, runtime detections, host checks, and the correlator's
// correlated findings with their priority — with each scan's ScanStarted and ScanCompleted. It projects them
// through the real ReportingProjection twice, each time into a fresh Postgres database (dropped afterwards): first
// without the completions (the projection alone), then all of them, each completed scan making the next snapshot
// version as the service does; then it serves the real GraphQL API and drives the requirement-summary query with
// autocannon.
// Targets (issue 8): 10,000 findings/s projected, the 200,000-finding snapshot built in under 10 s, summary p99
// under 100 ms with 50 concurrent clients.
// Not a test: it prints figures. Runs against the compiled packages (build services/reporting first).
//
//   node bench/reporting/run.mjs                # full size
//   node bench/reporting/run.mjs --scale 0.1    # a tenth, for quick runs
//   node bench/reporting/run.mjs --duration 10  # seconds of autocannon load (default 10)
//
// DATABASE_URL names the Postgres server's admin database (default postgresql://postgres@127.0.0.1:5432/postgres).
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import autocannon from 'autocannon';
import {
  AssetKind,
  FindingSource,
  ScanStatus,
  ScannerKind,
  Severity,
  TOPICS,
  create,
  encodeEnvelope,
  FindingSchema,
  findingId,
  newEnvelope,
  timestampFromDate,
} from '@vigil/contracts';
import { createEmbeddedEventLog } from '@vigil/event-log';
import { composeServiceModules } from '@vigil/nest-kit';
import { pciCatalog } from '@vigil/report';
import { REPORTING_BATCH_SIZE, ReportingProjection } from '@vigil/reporting';
import {
  createDatabase,
  createSql,
  createTokenStore,
  dropDatabase,
  openReportingStore,
  runMigrations,
  withDatabase,
} from '@vigil/store';
import { setLogLevel } from '@vigil/telemetry';

// Not in the package's public exports: the bench wires the API the way the reporting module does.
const { SnapshotMaker } = await import(
  new URL('../../services/reporting/dist/snapshot-maker.js', import.meta.url)
);
const { graphqlApi } = await import(
  new URL('../../services/reporting/dist/graphql/graphql-api.js', import.meta.url)
);

const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '1' },
    duration: { type: 'string', default: '10' },
    // The reporting service's own batch size by default.
    batch: { type: 'string', default: String(REPORTING_BATCH_SIZE) },
  },
});
const scale = Number(values.scale);
const duration = Number(values.duration);
const batchSize = Number(values.batch);
if (!(scale > 0)) throw new Error(`--scale must be a positive number, got "${values.scale}"`);
if (!(duration > 0))
  throw new Error(`--duration must be a positive number of seconds, got "${values.duration}"`);
if (!Number.isInteger(batchSize) || batchSize < 1)
  throw new Error(`--batch must be a positive integer, got "${values.batch}"`);
setLogLevel?.('warn');

const CLUSTER = 'bench';
const SCOPE = { tenant: '', cluster: CLUSTER };
const TOTAL = Math.round(200_000 * scale);
// The mix of a large cluster: mostly image vulnerabilities, then config checks, host checks, runtime detections
// and a few correlated findings that join them.
const IMAGE_FINDINGS = Math.round(TOTAL * 0.86);
const CONFIG_FINDINGS = Math.round(TOTAL * 0.08);
const HOST_FINDINGS = Math.round(TOTAL * 0.03);
const RUNTIME_FINDINGS = Math.round(TOTAL * 0.01);
const CORRELATED_FINDINGS = TOTAL - IMAGE_FINDINGS - CONFIG_FINDINGS - HOST_FINDINGS - RUNTIME_FINDINGS;
const NODES = Math.max(2, Math.round(100 * scale));
const IMAGES = Math.max(4, Math.round(400 * scale));
const NAMESPACES = Math.max(2, Math.round(60 * scale));
// Image scans are per repository sweep (one `vigil scan` per team registry): enough scans to make several
// snapshot versions, few enough that the bench measures the projection rather than 400 snapshots.
const IMAGE_SCANS = 8;
// Host assessments per node pool rather than per node, for the same reason: every completed scan is a snapshot
// version of the whole scope, and 100 of them would make this a bench of snapshot count.
const HOST_SCANS = 4;

let seed = 11;
function rand() {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(rand() * list.length)];
const hex = (n) => Array.from({ length: n }, () => Math.floor(rand() * 16).toString(16)).join('');

let clockMs = Date.parse('2026-11-20T00:00:00Z');
let eventNo = 0;
const producer = { service: 'bench', version: '0', instance: 'bench' };
function envelope(payload, subjectKey) {
  clockMs += 1;
  const at = new Date(clockMs);
  return newEnvelope({
    payload,
    subjectKey,
    scope: SCOPE,
    producer,
    clock: () => at,
    newId: () => `bench-${++eventNo}`,
  });
}
const now = () => timestampFromDate(new Date(clockMs));

const SEVERITIES = [
  Severity.CRITICAL,
  Severity.HIGH,
  Severity.HIGH,
  Severity.MEDIUM,
  Severity.MEDIUM,
  Severity.LOW,
  Severity.UNKNOWN,
];
const DEB = [
  'libssl3',
  'openssl',
  'libc6',
  'libexpat1',
  'zlib1g',
  'libcurl4',
  'libxml2',
  'perl-base',
  'tar',
  'libgnutls30',
];
const NPM = ['lodash', 'minimist', 'jsonwebtoken', 'semver', 'express', 'axios', 'ws', 'tough-cookie'];
const images = Array.from({ length: IMAGES }, (_, i) => ({
  ref: `registry.example.com/team-${i % IMAGE_SCANS}/svc-${i}:1.${i % 9}.${i % 5}`,
  digest: `sha256:${hex(64)}`,
  team: i % IMAGE_SCANS,
}));
const nodes = Array.from({ length: NODES }, (_, i) => `node-${i}`);
const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `ns-${i}`);

// scanId -> { scanner, targetKey, ids, events }
const scans = new Map();
function scan(scanId, scanner, targetKey) {
  let s = scans.get(scanId);
  if (!s) {
    s = { scanId, scanner, targetKey, ids: [], events: [] };
    s.events.push(
      envelope(
        { case: 'scanStarted', value: { scanId, scanner, scope: SCOPE, targetKey, startedAt: now() } },
        targetKey,
      ),
    );
    scans.set(scanId, s);
  }
  return s;
}
function report(s, finding) {
  s.ids.push(finding.id);
  s.events.push(envelope({ case: 'findingReported', value: { scanId: s.scanId, finding } }, finding.id));
}

// Image vulnerabilities as @vigil/image-scan reports them: package with installed and fixed version, the file and
// layer it came from, CVSS, and PCI DSS 6.3.1 / 6.3.3 / 11.3.1.
const imageIds = [];
for (let i = 0; i < IMAGE_FINDINGS; i++) {
  const img = images[i % IMAGES];
  const npm = rand() < 0.4;
  const name = npm ? pick(NPM) : pick(DEB);
  const ruleId = `CVE-${2019 + (i % 7)}-${10000 + i}`;
  const location = npm ? `/app/node_modules/${name}/package.json` : `/var/lib/dpkg/status`;
  const asset = {
    kind: AssetKind.IMAGE,
    cluster: CLUSTER,
    name: img.ref.split(':')[0],
    imageRef: img.ref,
    imageDigest: img.digest,
  };
  const fixed = rand() < 0.7 ? `3.0.${(i % 9) + 1}-1~deb12u1` : '';
  const severity = pick(SEVERITIES);
  const f = create(FindingSchema, {
    id: findingId({
      source: FindingSource.IMAGE,
      ruleId: ruleId,
      asset,
      location: npm ? `pkg:npm/${name}` : `pkg:deb/debian/${name}`,
    }),
    source: FindingSource.IMAGE,
    ruleId,
    aliases: [`DSA-${5000 + (i % 900)}-1`],
    title: `${ruleId}: ${name} ${fixed ? 'has a fixed version' : 'has no fix yet'}`,
    description: `A flaw in ${name} allows a remote attacker to cause a denial of service or read memory.`,
    severity,
    cvss: {
      score: severity === Severity.CRITICAL ? 9.8 : severity === Severity.HIGH ? 7.5 : 5.3,
      vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N',
    },
    pciRequirements: ['6.3.1', '6.3.3', '11.3.1'],
    asset,
    package: {
      ecosystem: npm ? 'npm' : 'Debian:12',
      name,
      version: npm ? `1.2.${i % 9}` : `3.0.${i % 9}-1~deb12u1`,
      fixedVersion: fixed,
      purl: npm ? `pkg:npm/${name}@1.2.${i % 9}` : `pkg:deb/debian/${name}@3.0.${i % 9}-1~deb12u1?arch=amd64`,
    },
    locations: [location],
    remediation: {
      summary: fixed ? `upgrade ${name} to ${fixed}` : `no fixed version of ${name} yet; mitigate or accept`,
    },
    evidence: [
      { key: 'layer', value: `sha256:${hex(64)}` },
      { key: 'fix-state', value: fixed ? 'fixed' : 'affected' },
      ...(i % 3 === 0 ? [{ key: 'epss', value: `0.${(i % 97) + 1} (percentile 0.9, 2026-11-01)` }] : []),
    ],
    firstSeen: now(),
    lastSeen: now(),
    references: [`https://nvd.nist.gov/vuln/detail/${ruleId}`],
  });
  imageIds.push(f.id);
  report(scan(`image-${img.team}`, ScannerKind.IMAGE, `registry.example.com/team-${img.team}`), f);
}

// Config checks as @vigil/config-audit's: a workload field with expected and actual value and a fix patch.
const CONFIG_CHECKS = [
  [
    'VGL-K8S-001',
    'privileged container',
    '2.2.1',
    Severity.HIGH,
    'spec.template.spec.containers[0].securityContext.privileged',
  ],
  [
    'VGL-K8S-004',
    'container may escalate privileges',
    '2.2.1',
    Severity.MEDIUM,
    'spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation',
  ],
  ['VGL-K8S-010', 'no NetworkPolicy isolates the pods', '1.3.1', Severity.HIGH, 'metadata.namespace'],
  [
    'VGL-K8S-012',
    'service account token automounted',
    '7.2.2',
    Severity.LOW,
    'spec.template.spec.automountServiceAccountToken',
  ],
  [
    'VGL-K8S-020',
    'image tag is not pinned by digest',
    '6.3.2',
    Severity.MEDIUM,
    'spec.template.spec.containers[0].image',
  ],
];
const workloadAssets = [];
for (let i = 0; i < CONFIG_FINDINGS; i++) {
  const [ruleId, title, req, severity, field] = CONFIG_CHECKS[i % CONFIG_CHECKS.length];
  const w = Math.floor(i / CONFIG_CHECKS.length);
  const asset = {
    kind: AssetKind.WORKLOAD,
    cluster: CLUSTER,
    namespace: namespaces[w % NAMESPACES],
    resourceKind: 'Deployment',
    name: `app-${w}`,
  };
  if (i % CONFIG_CHECKS.length === 0) workloadAssets.push(asset);
  report(
    scan('config-1', ScannerKind.CONFIG, 'live'),
    create(FindingSchema, {
      id: findingId({ source: FindingSource.CONFIG, ruleId: ruleId, asset, location: field }),
      source: FindingSource.CONFIG,
      ruleId,
      title: `Deployment/${asset.namespace}/${asset.name}: ${title}`,
      severity,
      pciRequirements: [req, ...(req === '1.3.1' ? ['1.4.1'] : [])],
      asset,
      locations: [field],
      remediation: {
        summary: `set ${field} as the check expects`,
        patch: `{"op":"replace","path":"/${field.replace(/\./g, '/')}","value":false}`,
      },
      evidence: [
        { key: 'field', value: field },
        { key: 'expected', value: 'false' },
        { key: 'actual', value: 'true' },
      ],
      firstSeen: now(),
      lastSeen: now(),
    }),
  );
}

// Host checks as @vigil/host-assess's: CIS Kubernetes worker node checks per node, file mode evidence.
const HOST_CHECKS = [
  [
    'CIS-K8S-4.1.1',
    'kubelet service file permissions are 644 or more restrictive',
    '2.2.6',
    '/etc/systemd/system/kubelet.service.d/10-kubeadm.conf',
  ],
  ['CIS-K8S-4.2.1', 'kubelet --anonymous-auth is not false', '8.2.2', '/var/lib/kubelet/config.yaml'],
  ['VGL-HOST-SSH-002', 'sshd permits root login', '8.2.1', '/etc/ssh/sshd_config'],
  ['VGL-HOST-TIME-001', 'no time synchronisation service is active', '10.6.1', '/etc/chrony/chrony.conf'],
];
for (let i = 0; i < HOST_FINDINGS; i++) {
  const node = nodes[i % NODES];
  const [base, title, req, file] = HOST_CHECKS[Math.floor(i / NODES) % HOST_CHECKS.length];
  const ruleId = `${base}${Math.floor(i / (NODES * HOST_CHECKS.length)) ? `.${Math.floor(i / (NODES * HOST_CHECKS.length))}` : ''}`;
  const asset = { kind: AssetKind.NODE, cluster: CLUSTER, node };
  const pool = (i % NODES) % HOST_SCANS;
  report(
    scan(`host-pool-${pool}`, ScannerKind.HOST, `nodepool/pool-${pool}`),
    create(FindingSchema, {
      id: findingId({ source: FindingSource.HOST, ruleId: ruleId, asset, location: file }),
      source: FindingSource.HOST,
      ruleId,
      title,
      severity: i % 4 === 0 ? Severity.HIGH : Severity.MEDIUM,
      pciRequirements: [req],
      asset,
      locations: [file],
      remediation: { summary: `fix ${file} on ${node}` },
      evidence: [
        { key: 'file', value: file },
        { key: 'mode', value: '0666' },
      ],
      firstSeen: now(),
      lastSeen: now(),
    }),
  );
}

// Runtime detections as @vigil/runtime-rules's: container asset with node, pod and process.
const RUNTIME_RULES = [
  ['falco:Terminal shell in container', '10.2.1', '/bin/sh'],
  ['falco:Read sensitive file untrusted', '10.2.1.2', '/usr/bin/cat'],
  ['vigil:outbound-from-cde', '1.3.2', '/usr/bin/curl'],
];
for (let i = 0; i < RUNTIME_FINDINGS; i++) {
  const [ruleId, req, process] = RUNTIME_RULES[i % RUNTIME_RULES.length];
  const w = workloadAssets[i % workloadAssets.length] ?? { namespace: 'ns-0', name: 'app-0' };
  const asset = {
    kind: AssetKind.CONTAINER,
    cluster: CLUSTER,
    namespace: w.namespace,
    resourceKind: 'Pod',
    name: `${w.name}-${hex(5)}`,
    container: 'app',
    node: pick(nodes),
  };
  report(
    scan('runtime-1', ScannerKind.RUNTIME, 'runtime'),
    create(FindingSchema, {
      id: findingId({ source: FindingSource.RUNTIME, ruleId: ruleId, asset, location: process }),
      source: FindingSource.RUNTIME,
      ruleId,
      title: `${ruleId} (${process})`,
      severity: i % 3 === 2 ? Severity.CRITICAL : Severity.HIGH,
      pciRequirements: [req, '11.5.1'],
      asset,
      locations: [process],
      evidence: [
        { key: 'process', value: process },
        { key: 'pod', value: asset.name },
        { key: 'pci_mapping_keys', value: 'shell-in-container' },
      ],
      firstSeen: now(),
      lastSeen: now(),
    }),
  );
}

// Correlated findings as the correlator publishes them: priority and its factors as evidence, and the image
// vulnerabilities they join (the reverse edge correlatedContext follows).
for (let i = 0; i < CORRELATED_FINDINGS; i++) {
  const related = [imageIds[(i * 7) % imageIds.length], imageIds[(i * 7 + 3) % imageIds.length]];
  const w = workloadAssets[i % workloadAssets.length] ?? { namespace: 'ns-0', name: 'app-0' };
  const asset = {
    kind: AssetKind.WORKLOAD,
    cluster: CLUSTER,
    namespace: w.namespace,
    resourceKind: 'Deployment',
    name: w.name,
  };
  const score = 40 + (i % 60);
  report(
    scan('correlation-1', ScannerKind.CORRELATOR, 'correlation'),
    create(FindingSchema, {
      id: findingId({
        source: FindingSource.CORRELATED,
        ruleId: 'VGL-CORR-001',
        asset,
        location: related[0],
      }),
      source: FindingSource.CORRELATED,
      ruleId: 'VGL-CORR-001',
      title: `exploitable vulnerability in an exposed CDE workload Deployment/${w.namespace}/${w.name}`,
      severity: score >= 80 ? Severity.CRITICAL : Severity.HIGH,
      pciRequirements: ['6.3.3', '1.3.1', '11.3.1'],
      asset,
      evidence: [
        { key: 'priority', value: String(score) },
        {
          key: 'priority-factors',
          value: `+30 base severity high; +20 cde: the namespace is in the CDE; +${score - 50} exposed`,
        },
      ],
      relatedFindingIds: related,
      firstSeen: now(),
      lastSeen: now(),
    }),
  );
}

// Each scan's events in producer order, its completion last; scans one after another, as a scan cycle runs them.
const all = [];
for (const s of scans.values()) {
  all.push(...s.events.map((e) => ({ topic: topicOf(e), e })));
  all.push({
    topic: TOPICS.scans,
    e: envelope(
      {
        case: 'scanCompleted',
        value: {
          scanId: s.scanId,
          scanner: s.scanner,
          scope: SCOPE,
          targetKey: s.targetKey,
          status: ScanStatus.OK,
          findingIds: s.ids,
          startedAt: now(),
          completedAt: now(),
        },
      },
      s.targetKey,
    ),
  });
}
function topicOf(e) {
  if (e.payload.case !== 'findingReported') return TOPICS.scans;
  const source = e.payload.value.finding.source;
  return source === FindingSource.IMAGE
    ? TOPICS.findings.image
    : source === FindingSource.CONFIG
      ? TOPICS.findings.config
      : source === FindingSource.RUNTIME
        ? TOPICS.findings.runtime
        : source === FindingSource.HOST
          ? TOPICS.findings.host
          : TOPICS.findings.correlated;
}
const offsets = new Map();
const records = all.map(({ topic, e }) => {
  const offset = offsets.get(topic) ?? 0;
  offsets.set(topic, offset + 1);
  return {
    topic,
    partition: 0,
    offset: String(offset),
    key: e.subjectKey,
    value: encodeEnvelope(e),
    headers: {},
    timestamp: clockMs,
  };
});

/**
 * The projection by itself, into a database of its own: every event but the scans' completions, so no snapshot
 * version is due and the figure is the findings projected, apart from the snapshot builds that the full run below
 * interleaves with them (those are timed on their own there).
 */
async function projectionAlone() {
  const name = `vigil_bench_projection_${randomUUID().slice(0, 8)}`;
  const alone = records.filter((_, i) => all[i].e.payload.case !== 'scanCompleted');
  await createDatabase(adminUrl, name);
  const dbUrl = withDatabase(adminUrl, name);
  let aloneStore;
  let aloneSql;
  try {
    await runMigrations(dbUrl);
    aloneSql = createSql(dbUrl);
    aloneStore = await openReportingStore(dbUrl);
    const aloneLog = createEmbeddedEventLog({ sql: aloneSql });
    const projection = new ReportingProjection({
      store: aloneStore,
      eventLog: aloneLog,
      producer,
      snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date(clockMs)),
      logger: { info: () => undefined, warn: (msg, fields) => console.warn(msg, fields) },
    });
    await projection.load();
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    for (let i = 0; i < alone.length; i += batchSize) await projection.handle(alone.slice(i, i + batchSize));
    const ms = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const counted = await aloneSql.query(
      "SELECT count(*)::int AS n FROM findings WHERE scope = $1 AND status = 'open'",
      [CLUSTER],
    );
    if (counted.rows[0].n !== TOTAL)
      throw new Error(
        `bench/reporting: projected ${counted.rows[0].n} open findings alone, expected ${TOTAL}`,
      );
    console.log(
      `projection alone: ${alone.length} events (${TOTAL} findings, no scan completions, so no snapshot builds) in ${(ms / 1000).toFixed(1)} s: ${Math.round(TOTAL / (ms / 1000))} findings/s   [target ≥ 10,000/s]`,
    );
    console.log(
      `  bench process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; load average ${loadavg()
        .map((n) => n.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await aloneStore?.close();
    await aloneSql?.close();
    await dropDatabase(adminUrl, name);
  }
}

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_bench_reporting_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
let peakRss = process.memoryUsage().rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 200);
const sdlDir = mkdtempSync(join(tmpdir(), 'vigil-bench-sdl-'));

console.log(
  `bench/reporting: ${TOTAL} findings (${IMAGE_FINDINGS} image, ${CONFIG_FINDINGS} config, ${HOST_FINDINGS} host, ${RUNTIME_FINDINGS} runtime, ${CORRELATED_FINDINGS} correlated) in ${scans.size} scans, ${records.length} events, batches of ${batchSize}`,
);
await projectionAlone();
await createDatabase(adminUrl, dbName);
let store;
let sql;
let log;
let app;
let settleApi = async () => await app?.close();
try {
  await runMigrations(url);
  sql = createSql(url);
  store = await openReportingStore(url);
  log = createEmbeddedEventLog({ sql });
  await log.ensureTopics([{ name: TOPICS.snapshots, partitions: 1 }]);

  const makes = [];
  class TimedSnapshotMaker extends SnapshotMaker {
    async make(tx, state, scope, at) {
      const started = performance.now();
      const made = await super.make(tx, state, scope, at);
      makes.push({
        ...this.lastTimings,
        ms: performance.now() - started,
        findings: made.published.findingCounts?.total ?? 0,
        version: made.published.version,
      });
      return made;
    }
  }
  const projection = new ReportingProjection({
    store,
    eventLog: log,
    producer,
    snapshots: new TimedSnapshotMaker(pciCatalog(), 'merchant', () => new Date(clockMs)),
    logger: { info: () => undefined, warn: (msg, fields) => console.warn(msg, fields) },
  });
  await projection.load();

  const started = performance.now();
  const cpuBefore = process.cpuUsage();
  for (let i = 0; i < records.length; i += batchSize)
    await projection.handle(records.slice(i, i + batchSize));
  const projectMs = performance.now() - started;
  const projectCpu = process.cpuUsage(cpuBefore);
  const cpuS = (projectCpu.user + projectCpu.system) / 1e6;
  const counted = await sql.query(
    "SELECT count(*)::int AS n FROM findings WHERE scope = $1 AND status = 'open'",
    [CLUSTER],
  );
  const openRows = counted.rows[0].n;
  if (openRows !== TOTAL)
    throw new Error(`bench/reporting: projected ${openRows} open findings, expected ${TOTAL}`);
  const snapshotMs = makes.reduce((n, m) => n + m.ms, 0);
  const last = makes.at(-1);
  console.log(
    `projected ${records.length} events (${TOTAL} findings) in ${(projectMs / 1000).toFixed(1)} s: ${Math.round(TOTAL / (projectMs / 1000))} findings/s` +
      ` (including ${makes.length} snapshot builds, ${(snapshotMs / 1000).toFixed(1)} s of it;` +
      ` ${Math.round(TOTAL / ((projectMs - snapshotMs) / 1000))} findings/s between them)`,
  );
  // On a shared machine wall time includes waiting for a core; this process's CPU time does not (the database's
  // work is in other processes and counts in neither).
  console.log(
    `  bench process CPU ${cpuS.toFixed(1)} s over ${(projectMs / 1000).toFixed(1)} s wall; load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
  console.log(
    `snapshot v${last?.version} of the ${last?.findings}-finding scope built in ${(last?.ms ?? NaN).toFixed(0)} ms   [target < 10,000 ms]`,
  );
  console.log(
    `  every version: ${makes.map((m) => `v${m.version} ${m.findings}f ${m.ms.toFixed(0)}ms (build ${m.buildMs?.toFixed(0)}, insert ${m.insertMs?.toFixed(0)}, ${((m.contentBytes ?? 0) / 1e6).toFixed(1)} MB, ${((m.storedBytes ?? 0) / 1e6).toFixed(1)} MB of it new chunks)`).join(', ')}`,
  );

  // What autovacuum does within a minute or two of a bulk load: until then the planner has no statistics of the
  // 200,000 rows just written and sorts every matching finding for a page the priority index gives in its first
  // entries. The API is measured in the steady state after that.
  await sql.query('ANALYZE findings');
  const tokens = createTokenStore(sql);
  const token = (await tokens.create({ role: 'viewer', clusters: [CLUSTER] })).token;
  // autocannon ends a run by dropping its connections, not by waiting for its answers, so the API may still be
  // querying the store when the run is over: the store the API gets keeps what it is waiting for, and the bench
  // waits for that before it closes anything (closing under a query was "Connection terminated" at teardown).
  const inFlight = new Set();
  const servedStore = new Proxy(store, {
    get(target, name) {
      const value = Reflect.get(target, name, target);
      if (typeof value !== 'function') return value;
      return (...args) => {
        const result = value.apply(target, args);
        if (result instanceof Promise) {
          inFlight.add(result);
          const done = () => inFlight.delete(result);
          result.then(done, done);
        }
        return result;
      };
    },
  });
  settleApi = async () => {
    await app?.close();
    // A request's next query starts as its previous one settles, so look again until none is left.
    while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  };
  const api = graphqlApi({
    storeToken: 'bench:store',
    stateToken: ReportingProjection,
    tokens: () => tokens,
    schemaFile: join(sdlDir, 'schema.graphql'),
    logger: { error: (msg, fields) => console.error(msg, fields) },
  });
  class BenchApiModule {}
  Module({
    imports: api.imports,
    providers: [
      { provide: 'bench:store', useValue: servedStore },
      { provide: ReportingProjection, useValue: projection },
      ...api.providers,
    ],
  })(BenchApiModule);
  const root = composeServiceModules(
    { identity: { service: 'reporting', version: '0', instance: 'bench' }, eventLog: log, sql, http: false },
    [BenchApiModule],
  );
  app = await NestFactory.create(root, { logger: false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const body = JSON.stringify({
    query: `{ snapshot(scope: "${CLUSTER}") { version summary { inPlace notInPlace notTested notApplicable manuallyAttested total } findingCounts { critical high medium low unknown total } } }`,
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
  const probe = await fetch(`${base}/graphql`, { method: 'POST', headers, body });
  const answer = await probe.json();
  if (probe.status !== 200 || answer.errors)
    throw new Error(`bench/reporting: summary query failed: ${JSON.stringify(answer)}`);
  if (answer.data.snapshot.findingCounts.total !== last?.findings)
    throw new Error(
      `bench/reporting: the latest snapshot counts ${answer.data.snapshot.findingCounts.total} findings, its build said ${last?.findings}`,
    );
  const result = await autocannon({
    url: `${base}/graphql`,
    method: 'POST',
    headers,
    body,
    connections: 50,
    duration,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(
      `bench/reporting: ${result.non2xx} non-2xx answers and ${result.errors} errors under load`,
    );
  console.log(
    `requirement summary, 50 connections, ${duration} s: p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ${Math.round(result.requests.average)} req/s, ${result.requests.total} requests   [target p99 < 100 ms]`,
  );

  const pageQuery = `query Page($after: String) { findings(scope: "${CLUSTER}", first: 50, after: $after,
    filter: { severity: [CRITICAL, HIGH], requirement: "6" }) {
      totalCount nodes { id priority severity } pageInfo { endCursor hasNextPage } } }`;
  const findingsPage = async (after) => {
    const started = performance.now();
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ query: pageQuery, variables: after ? { after } : {} }),
    });
    const answer = await res.json();
    if (res.status !== 200 || answer.errors)
      throw new Error(`bench/reporting: findings page failed: ${JSON.stringify(answer)}`);
    return { ms: performance.now() - started, connection: answer.data.findings };
  };
  // The first page counts its total (every matching row, from a cold table here); later pages reuse that count
  // until the scope records new events, so the first one is printed apart from the load.
  const first = await findingsPage();
  console.log(
    `findings page (severity + requirement filter, 50 per page): first ${first.ms.toFixed(0)} ms (counts ${first.connection.totalCount} matching)`,
  );
  const findings = await autocannon({
    url: `${base}/graphql`,
    method: 'POST',
    headers,
    body: JSON.stringify({ query: pageQuery }),
    connections: 10,
    duration: Math.max(3, duration / 2),
  });
  console.log(
    `  10 connections: p50 ${findings.latency.p50} ms, p99 ${findings.latency.p99} ms, ${Math.round(findings.requests.average)} req/s, ${findings.non2xx} non-2xx`,
  );
  // Keyset cursors: a page deep in the list is an index range like the first.
  let cursor = first.connection.pageInfo.endCursor;
  const deep = [];
  for (let i = 0; i < 40 && cursor; i++) {
    const next = await findingsPage(cursor);
    deep.push(next.ms);
    cursor = next.connection.pageInfo.hasNextPage ? next.connection.pageInfo.endCursor : null;
  }
  deep.sort((a, b) => a - b);
  console.log(
    `  pages 2-${deep.length + 1} one after another: median ${(deep[Math.floor(deep.length / 2)] ?? NaN).toFixed(1)} ms, slowest ${(deep.at(-1) ?? NaN).toFixed(1)} ms; load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
} finally {
  clearInterval(sampler);
  await settleApi();
  await log?.close();
  await store?.close();
  await sql?.close();
  await dropDatabase(adminUrl, dbName);
  rmSync(sdlDir, { recursive: true, force: true });
  console.log(
    `peak RSS ${Math.round(peakRss / 1024 / 1024)} MiB; load average ${loadavg()
      .map((n) => n.toFixed(2))
      .join(' ')}`,
  );
}
