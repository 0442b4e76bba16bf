// The continuous loop end to end. Real: this service's dist/main.js as a separate process on the embedded
// (Postgres) event log of a fresh database holding the example advisories; Debian's docker-registry with htpasswd
// basic auth holding the example image under a tag (pushed by skopeo); the fake Kubernetes API server serving the
// workload's pull Secret (kubernetes.io/dockerconfigjson). The test publishes only an InventoryObserved, as the
// config auditor would: the digest, the request and the findings come from the service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ALL_TOPICS,
  ContainerSchema,
  InventoryObservedSchema,
  ScanStatus,
  TOPICS,
  WorkloadSchema,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type EventEnvelope,
  type Finding,
  type ScanCompleted,
  type ScanRequested,
} from '@vigil/contracts';
import { createEmbeddedEventLog, type EventLog } from '@vigil/event-log';
import { importOsvDump, resolveDigest } from '@vigil/image-scan';
import { createAdvisoryStore, createSql, runMigrations, type Sql } from '@vigil/store';
import {
  freshDatabase,
  repoRoot,
  startFakeApiServer,
  startRegistry,
  type FakeApiServer,
  type FreshDatabase,
  type TestRegistry,
} from '@vigil/testing';

const ADMIN_URL = process.env['DATABASE_URL'] || 'postgresql://postgres@127.0.0.1:5432/postgres';
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const EXAMPLE = join(repoRoot(), 'examples/payments');

let db: FreshDatabase;
let sql: Sql;
let log: EventLog;
let registry: TestRegistry;
let api: FakeApiServer;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-inventory-scan-int-'));

before(async () => {
  db = await freshDatabase(ADMIN_URL, 'vigil_inventory_scan_int');
  await runMigrations(db.url);
  sql = createSql(db.url, { max: 4 });
  const imported = await importOsvDump(join(EXAMPLE, 'advisories'), createAdvisoryStore(sql), {
    source: 'examples',
  });
  assert.ok(imported.records > 0 && imported.invalid === 0, JSON.stringify(imported));
  log = createEmbeddedEventLog({ sql, logger: { info: () => {}, warn: () => {}, error: () => {} } });
  await log.ensureTopics([...ALL_TOPICS]);

  execFileSync(process.execPath, [join(EXAMPLE, 'image/build.mjs'), tmp], { stdio: 'ignore' });
  registry = await startRegistry({ auth: 'basic' });
  await registry.push(join(tmp, 'payment-api.tar'), 'acme/payment-api:1.4.2');

  const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
  api = await startFakeApiServer({
    objects: [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { namespace: 'payments', name: 'acme-registry' },
        type: 'kubernetes.io/dockerconfigjson',
        data: {
          '.dockerconfigjson': Buffer.from(JSON.stringify({ auths: { [registry.host]: { auth } } })).toString(
            'base64',
          ),
        },
      },
    ],
  });
});
after(async () => {
  await log?.close();
  await sql?.close();
  await api?.stop();
  await registry?.stop();
  await db?.drop();
  rmSync(tmp, { recursive: true, force: true });
});

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  what: string,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function inventory(ref: string): EventEnvelope {
  return newEnvelope({
    payload: {
      case: 'inventoryObserved',
      value: create(InventoryObservedSchema, {
        scanId: 'live-audit-1',
        scope: { cluster: 'int-spec' },
        items: [
          {
            item: {
              case: 'workload',
              value: create(WorkloadSchema, {
                namespace: 'payments',
                kind: 'Deployment',
                name: 'payment-api',
                imagePullSecrets: ['acme-registry'],
              }),
            },
          },
          {
            item: {
              case: 'container',
              value: create(ContainerSchema, {
                namespace: 'payments',
                workloadKind: 'Deployment',
                workloadName: 'payment-api',
                name: 'api',
                imageRef: ref,
                imagePullSecrets: ['acme-registry'],
              }),
            },
          },
        ],
      }),
    },
    scope: { cluster: 'int-spec' },
    subjectKey: 'live',
    producer: { service: 'config-auditor', version: '0', instance: 'int-spec' },
  });
}

test('an inventoried private tagged image is resolved with its pull secret, requested once and scanned', async () => {
  const ref = `${registry.host}/acme/payment-api:1.4.2`;
  await assert.rejects(
    resolveDigest(ref, { insecure: true }),
    /401|unauthorized|credentials/i,
    'the image is private',
  );
  const expectedDigest = (
    await resolveDigest(ref, {
      insecure: true,
      credentials: { username: registry.username, password: registry.password },
    })
  ).digest;

  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env['PATH'] ?? '',
      EVENT_LOG: 'embedded',
      DATABASE_URL: db.url,
      PORT: '0',
      HOST: '127.0.0.1',
      SERVICE_INSTANCE_ID: `int-${process.pid}`,
      IMAGE_SCANNER_KUBECONFIG: api.kubeconfigPath,
      IMAGE_SCANNER_INSECURE_REGISTRIES: registry.host,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines: Record<string, unknown>[] = [];
  let rest = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop()!;
    for (const p of parts) if (p.startsWith('{')) lines.push(JSON.parse(p) as Record<string, unknown>);
  });

  const requests: ScanRequested[] = [];
  const completed: ScanCompleted[] = [];
  const findings: Finding[] = [];
  const sub = await log.subscribe({
    group: 'test.inventory-scan',
    topics: [TOPICS.scanRequests.image, TOPICS.scans, TOPICS.findings.image],
    handler: async (records) => {
      for (const record of records) {
        const p = decodeEnvelope(record.value).payload;
        if (p.case === 'scanRequested') requests.push(p.value);
        if (p.case === 'scanCompleted') completed.push(p.value);
        if (p.case === 'findingReported' && p.value.finding) findings.push(p.value.finding);
      }
    },
  });
  try {
    await sub.ready;
    const port = await waitFor(
      () => lines.find((l) => String(l['msg']).includes('listening on'))?.['port'] as number | undefined,
      30_000,
      'the service to listen',
    );
    await waitFor(
      async () => ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200 ? true : undefined),
      60_000,
      '/readyz 200',
    );

    const observed = inventory(ref);
    await log.publish([{ topic: TOPICS.inventory, key: 'live', value: encodeEnvelope(observed) }]);

    const request = await waitFor(() => requests[0], 60_000, 'the loop’s ScanRequested');
    assert.equal(request.requestedBy, 'inventory');
    assert.equal(request.scope?.cluster, 'int-spec');
    assert.equal(request.target?.key, ref);
    const target = request.target?.ref.case === 'image' ? request.target.ref.value : undefined;
    assert.equal(target?.ref, ref);
    assert.equal(target?.digest, expectedDigest, 'the tag was resolved through the registry');
    assert.deepEqual(request.options, {
      'pull-secrets': 'payments/acme-registry',
      'insecure-registry': 'true',
    });
    assert.ok(
      api.requests.some(
        (r) =>
          r.method === 'GET' &&
          r.path === '/api/v1/namespaces/payments/secrets/acme-registry' &&
          r.authorized,
      ),
      `the pull secret was read from the API server: ${JSON.stringify(api.requests.map((r) => r.path))}`,
    );

    const done = await waitFor(
      () => completed.find((c) => c.scanId === request.scanId),
      180_000,
      `ScanCompleted for ${request.scanId}`,
    );
    assert.equal(done.status, ScanStatus.OK, done.error);
    assert.ok(done.findingIds.length > 0);
    await waitFor(
      () =>
        findings.filter((f) => done.findingIds.includes(f.id)).length >= done.findingIds.length
          ? true
          : undefined,
      30_000,
      `${done.findingIds.length} FindingReported`,
    );
    // examples/payments/advisories/DSA-5532-1.json on the image's libssl3, for the digest the tag points at.
    const libssl = findings.find(
      (f) =>
        done.findingIds.includes(f.id) &&
        f.aliases.includes('DSA-5532-1') &&
        f.evidence.some((e) => e.key === 'package-identity' && e.value.startsWith('pkg:deb/debian/libssl3?')),
    );
    assert.equal(libssl?.ruleId, 'CVE-2023-5363');
    assert.equal(libssl?.asset?.imageDigest, expectedDigest);

    // The same workload again, and the scanner's own InventoryObserved for the image: nothing more to ask.
    await log.publish([{ topic: TOPICS.inventory, key: 'live', value: encodeEnvelope(inventory(ref)) }]);
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(requests.length, 1, JSON.stringify(requests.map((r) => r.scanId)));
    assert.ok(
      lines.some((l) =>
        String(l['msg']).includes(
          `scan ${request.scanId} requested for ${registry.host}/acme/payment-api:1.4.2@${expectedDigest}`,
        ),
      ),
      'the request is logged with the digest it resolved',
    );
  } finally {
    await sub.stop();
    child.kill('SIGTERM');
    await exited;
  }
});
