// The loop's dedup on the fake log: inventory in, ScanRequested out, once per digest and advisory DB build. The
// DB is image-scan's in-memory advisory store loaded with the example's OSV records (adding one changes its build);
// the registry is a resolver recording what it was asked, since the real registry is the integration spec's.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ContainerSchema,
  ImageSchema,
  InventoryObservedSchema,
  ScannerKind,
  TOPICS,
  TargetKind,
  WorkloadSchema,
  create,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  type InventoryItem,
  type ScanRequested,
} from '@vigil/contracts';
import { MemoryAdvisoryStore, type RegistryCredentials } from '@vigil/image-scan';
import { InMemoryEventLog } from '@vigil/nest-kit/testing';
import { repoRoot } from '@vigil/testing';
import {
  IMAGE_SCANNER_INVENTORY_GROUP,
  InventoryScanLoop,
  type DigestResolver,
} from './inventory-scan.loop.js';
import { RegistryAuth } from './registry-auth.js';

const ADVISORIES = join(repoRoot(), 'examples/payments/advisories');
// Refs and the pinned digest of examples/payments/k8s/30-payments.yaml.
const API_REF = 'registry.example.com/acme/payment-api:1.4.2';
const DIGEST = 'sha256:5d0f7c2a9b8e4f1d3c6a7b9e0f2d4c6b8a1e3f5d7c9b0a2e4f6d8c0b2a4e6f81';
const OTHER_DIGEST = `sha256:${'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'}`;

function osvRecord(
  name: string,
): Parameters<MemoryAdvisoryStore['add']>[0] extends Iterable<infer R> ? R : never {
  return JSON.parse(readFileSync(join(ADVISORIES, name), 'utf8')) as never;
}

function workload(namespace: string, name: string, pullSecrets: string[]): InventoryItem {
  return {
    $typeName: 'vigil.v1.InventoryItem',
    item: {
      case: 'workload',
      value: create(WorkloadSchema, { namespace, kind: 'Deployment', name, imagePullSecrets: pullSecrets }),
    },
  };
}

function container(
  namespace: string,
  workloadName: string,
  imageRef: string,
  imageDigest = '',
): InventoryItem {
  return {
    $typeName: 'vigil.v1.InventoryItem',
    item: {
      case: 'container',
      value: create(ContainerSchema, {
        namespace,
        workloadKind: 'Deployment',
        workloadName,
        name: 'app',
        imageRef,
        imageDigest,
      }),
    },
  };
}

interface Harness {
  log: InMemoryEventLog;
  store: MemoryAdvisoryStore;
  asked: { ref: string; credentials?: RegistryCredentials; insecure?: boolean }[];
  warnings: string[];
  /** Publishes one InventoryObserved with these items (scope cluster "prod") and answers the requests it caused. */
  observe(items: InventoryItem[]): Promise<ScanRequested[]>;
}

let h: Harness;
let digests: Map<string, string>;

beforeEach(async () => {
  const log = new InMemoryEventLog();
  const store = new MemoryAdvisoryStore();
  store.add([osvRecord('DSA-5514-1.json')], 'examples');
  const asked: Harness['asked'] = [];
  const warnings: string[] = [];
  digests = new Map();
  const resolve: DigestResolver = async (ref, options) => {
    asked.push({
      ref,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      ...(options.insecure ? { insecure: true } : {}),
    });
    const digest = digests.get(ref);
    if (!digest) throw new Error(`${ref}: registry ${ref.split('/')[0]} cannot be reached: ECONNREFUSED`);
    return digest;
  };
  const dir = mkdtempSync(join(tmpdir(), 'vigil-inventory-loop-'));
  const authFile = join(dir, 'config.json');
  writeFileSync(
    authFile,
    JSON.stringify({
      auths: { 'registry.example.com': { auth: Buffer.from('ci:s3cret').toString('base64') } },
    }),
  );
  const loop = new InventoryScanLoop({
    dbBuild: async () => (await store.info()).build,
    publish: (records) => log.publish(records),
    producer: { service: 'image-scanner', version: '0.1.0', instance: 'spec' },
    auth: new RegistryAuth({ authFile }),
    insecureRegistries: ['127.0.0.1:5000'],
    resolve,
    log: { info: () => {}, warn: (m) => warnings.push(m) },
  });
  await log.subscribe({
    group: IMAGE_SCANNER_INVENTORY_GROUP,
    topics: [TOPICS.inventory],
    handler: (records) => loop.handle(records),
  });
  h = {
    log,
    store,
    asked,
    warnings,
    async observe(items) {
      const before = log.published.length;
      const envelope = newEnvelope({
        payload: {
          case: 'inventoryObserved',
          value: create(InventoryObservedSchema, { scanId: 'audit-1', scope: { cluster: 'prod' }, items }),
        },
        scope: { cluster: 'prod' },
        subjectKey: 'live',
        producer: { service: 'config-auditor', version: '0', instance: 'spec' },
      });
      await log.publish([{ topic: TOPICS.inventory, key: 'live', value: encodeEnvelope(envelope) }]);
      return log.published.slice(before).flatMap((r) => {
        if (r.topic === TOPICS.inventory) return [];
        assert.equal(r.topic, TOPICS.scanRequests.image);
        const e = decodeEnvelope(r.value);
        assert.equal(e.payload.case, 'scanRequested');
        if (e.payload.case !== 'scanRequested') return [];
        assert.equal(
          r.key,
          e.payload.value.target?.key,
          'requests are keyed by target, so partitions split them',
        );
        assert.equal(e.eventId, e.payload.value.scanId);
        return [e.payload.value];
      });
    },
  };
});

test('two workloads running the same digest get one request, with the pull secrets of the first', async () => {
  const requests = await h.observe([
    workload('payments', 'payment-api', ['acme-registry']),
    workload('payments', 'payment-api-canary', []),
    container('payments', 'payment-api', API_REF, DIGEST),
    container('payments', 'payment-api-canary', 'registry.example.com/acme/payment-api:1.4.2-canary', DIGEST),
  ]);
  assert.equal(requests.length, 1);
  const r = requests[0]!;
  assert.equal(r.scanner, ScannerKind.IMAGE);
  assert.equal(r.scope?.cluster, 'prod');
  assert.equal(r.requestedBy, 'inventory');
  assert.equal(r.target?.kind, TargetKind.IMAGE);
  assert.equal(r.target?.key, API_REF);
  assert.deepEqual(
    r.target?.ref.case === 'image' ? [r.target.ref.value.ref, r.target.ref.value.digest] : [],
    [API_REF, DIGEST],
  );
  assert.deepEqual(r.options, { 'pull-secrets': 'payments/acme-registry' });
  assert.equal(h.asked.length, 0, 'a digest the kubelet reported needs no registry');

  assert.deepEqual(
    await h.observe([container('payments', 'payment-api', API_REF, DIGEST)]),
    [],
    'seen already',
  );
});

test('a new advisory DB build requests the digest once more, under a new scan id', async () => {
  const items = [
    workload('payments', 'payment-api', ['acme-registry']),
    container('payments', 'payment-api', API_REF, DIGEST),
  ];
  const first = await h.observe(items);
  assert.equal(first.length, 1);
  const buildBefore = (await h.store.info()).build;
  h.store.add([osvRecord('DSA-5532-1.json')], 'examples');
  assert.notEqual((await h.store.info()).build, buildBefore);
  const second = await h.observe(items);
  assert.equal(second.length, 1);
  assert.notEqual(second[0]!.scanId, first[0]!.scanId);
  assert.equal(second[0]!.target?.ref.case === 'image' ? second[0]!.target.ref.value.digest : '', DIGEST);
  assert.deepEqual(await h.observe(items), [], 'and only once per build');
});

test('a tag the registry resolves to a digest already requested asks for nothing', async () => {
  await h.observe([container('payments', 'payment-api', API_REF, DIGEST)]);
  digests.set('registry.example.com/acme/payment-api:stable', DIGEST);
  const requests = await h.observe([
    workload('payments', 'payment-api-v2', []),
    container('payments', 'payment-api-v2', 'registry.example.com/acme/payment-api:stable'),
  ]);
  assert.deepEqual(requests, []);
  // Resolved with the credentials of the mounted auth file, since the workload names no pull secret.
  assert.deepEqual(h.asked, [
    {
      ref: 'registry.example.com/acme/payment-api:stable',
      credentials: { username: 'ci', password: 's3cret' },
    },
  ]);

  // A tag resolved to a digest not yet seen is requested pinned to it.
  digests.set('registry.example.com/acme/checkout-web:2.8.0', OTHER_DIGEST);
  const pinned = await h.observe([
    container('storefront', 'checkout-web', 'registry.example.com/acme/checkout-web:2.8.0'),
  ]);
  assert.equal(pinned.length, 1);
  const target = pinned[0]!.target?.ref.case === 'image' ? pinned[0]!.target.ref.value : undefined;
  assert.equal(target?.ref, 'registry.example.com/acme/checkout-web:2.8.0');
  assert.equal(target?.digest, OTHER_DIGEST);
});

test('an image no registry answers for is requested as declared, once per build, and the log says so', async () => {
  const declared = [container('monitoring', 'node-agent', 'registry.example.com/acme/node-agent:0.9.1')];
  const first = await h.observe(declared);
  assert.equal(first.length, 1);
  const target = first[0]!.target?.ref.case === 'image' ? first[0]!.target.ref.value : undefined;
  assert.deepEqual([target?.ref, target?.digest], ['registry.example.com/acme/node-agent:0.9.1', '']);
  assert.ok(
    h.warnings.some(
      (w) =>
        w.includes(
          'registry registry.example.com did not resolve registry.example.com/acme/node-agent:0.9.1',
        ) &&
        w.includes('ECONNREFUSED') &&
        w.endsWith('requesting the ref as declared'),
    ),
    h.warnings.join('\n'),
  );
  assert.deepEqual(await h.observe(declared), [], 'no second failing scan for the same build');
  assert.equal(
    h.asked.length,
    1,
    'the failure is remembered for the resolve TTL, not asked on every inventory',
  );
});

test('plain-http registries get insecure-registry; the scanner’s own image results and bad refs ask for nothing', async () => {
  digests.set('127.0.0.1:5000/acme/ledger:1', OTHER_DIGEST);
  const local = await h.observe([container('payments', 'ledger', '127.0.0.1:5000/acme/ledger:1')]);
  assert.deepEqual(local[0]?.options, { 'insecure-registry': 'true' });
  assert.equal(h.asked[0]?.insecure, true);

  const own: InventoryItem = {
    $typeName: 'vigil.v1.InventoryItem',
    item: {
      case: 'image',
      value: create(ImageSchema, {
        ref: 'docker.io/library/postgres:15.4-bookworm',
        digest: DIGEST.replace('5d0f', '6e1a'),
        sbom: {
          digest: `sha256:${'0'.repeat(64)}`,
          mediaType: 'application/vnd.cyclonedx+json',
          role: 'sbom',
        },
      }),
    },
  };
  assert.deepEqual(await h.observe([own]), []);
  assert.deepEqual(await h.observe([container('payments', 'x', 'Not An Image!')]), []);
  assert.ok(
    h.warnings.some((w) => w.includes('"Not An Image!" is not an image reference; no scan requested')),
  );
});
