// Real here: Postgres (the migrated reporting store, the embedded event log, api_tokens), the projection folding
// the events, the Nest app over HTTP with Apollo. The correlated findings carry what libs/correlate publishes: the
// "priority" and "priority-factors" evidence and the relatedFindingIds they join.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import {
  AssetKind,
  FindingReportedSchema,
  FindingSchema,
  FindingSource,
  ScanCompletedSchema,
  ScannerKind,
  ScanStatus,
  Severity,
  TOPICS,
  create,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  type EventEnvelope,
} from '@vigil/contracts';
import { createEmbeddedEventLog, type ConsumedRecord, type EventLog } from '@vigil/event-log';
import { pciCatalog } from '@vigil/report';
import {
  createDatabase,
  createSql,
  createTokenStore,
  dropDatabase,
  openReportingStore,
  runMigrations,
  withDatabase,
  type ReportingStore,
  type Sql,
} from '@vigil/store';
import { ReportingProjection } from '../reporting.projection.js';
import { SnapshotMaker } from '../snapshot-maker.js';
import { serveGraphqlApi } from './api-server.spec-helper.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_findings_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
const scope = { tenant: '', cluster: 'payments-prod' };
const producer = { service: 'test', version: '0', instance: 'spec' };
let t0 = Date.parse('2026-11-30T10:00:00Z');
const clock = () => new Date((t0 += 1000));
const IMAGE = 'registry.example.com/acme/payment-api:1.4.2';
const imageAsset = { kind: AssetKind.IMAGE, cluster: scope.cluster, imageRef: IMAGE };
const workload = {
  kind: AssetKind.WORKLOAD,
  cluster: scope.cluster,
  namespace: 'payments',
  resourceKind: 'Deployment',
  name: 'payment-api',
};
const WORKLOAD_KEY = 'payments-prod/payments/Deployment/payment-api';
const IMAGE_KEY = `payments-prod/${IMAGE}`;
const FACTORS = '+40 base severity critical; +25 cde: namespace payments is in the CDE; 0 egress restricted';

let store: ReportingStore;
let sql: Sql;
let log: EventLog;
let app: INestApplication;
let base: string;
let token = '';
let projection: ReportingProjection;

let offset = 0;
function record(topic: string, e: EventEnvelope): ConsumedRecord {
  return {
    topic,
    partition: 0,
    offset: String(offset++),
    key: e.subjectKey,
    value: encodeEnvelope(e),
    headers: {},
    timestamp: 0,
  };
}

function reported(scanId: string, finding: Parameters<typeof create<typeof FindingSchema>>[1]) {
  const f = create(FindingSchema, finding);
  return newEnvelope({
    payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding: f }) },
    scope,
    subjectKey: f.id,
    producer,
    clock,
  });
}

function completed(scanId: string, scanner: ScannerKind, targetKey: string, findingIds: string[]) {
  return newEnvelope({
    payload: {
      case: 'scanCompleted',
      value: create(ScanCompletedSchema, {
        scanId,
        scanner,
        scope,
        targetKey,
        status: ScanStatus.OK,
        findingIds,
        startedAt: timestampFromDate(clock()),
        completedAt: timestampFromDate(clock()),
      }),
    },
    scope,
    subjectKey: targetKey,
    producer,
    clock,
  });
}

const vuln = (id: string, ruleId: string, severity: Severity, pci: string[]) => ({
  id,
  source: FindingSource.IMAGE,
  ruleId,
  title: `${ruleId} in libssl3`,
  severity,
  pciRequirements: pci,
  asset: imageAsset,
  package: { ecosystem: 'Debian:12', name: 'libssl3', version: '3.0.11-1~deb12u1' },
});

async function post<T>(
  query: string,
  variables?: Record<string, unknown>,
): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown> }[] }> {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return (await res.json()) as {
    data?: T;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

async function gql<T>(query: string, variables?: Record<string, unknown>): Promise<T> {
  const body = await post<T>(query, variables);
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data as T;
}

type Page = {
  findings: {
    totalCount: number;
    nodes: { id: string; priority: number | null; severity: string }[];
    pageInfo: { endCursor: string | null; hasNextPage: boolean };
  };
};
// What Nest's own log says at level error: a caller's mistake must not read there as a failure of the service.
const nestErrors: string[] = [];
const nestLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: (message: unknown) => nestErrors.push(String((message as Error)?.message ?? message)),
};
const ids = async (filter: string) =>
  (
    await gql<Page>(`{ findings(scope: "payments-prod", filter: ${filter}) { nodes { id } } }`)
  ).findings.nodes.map((n) => n.id);

describe('findings in SQL: filters, keyset pages by priority, correlated context', () => {
  before(async () => {
    await createDatabase(adminUrl, dbName);
    await runMigrations(url);
    sql = createSql(url);
    store = await openReportingStore(url);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics([{ name: TOPICS.snapshots, partitions: 1 }]);
    projection = new ReportingProjection({
      store,
      eventLog: log,
      producer,
      snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date('2026-12-01T00:00:00Z')),
      logger: { info: () => undefined, warn: () => undefined },
    });
    await projection.handle([
      record(
        TOPICS.findings.image,
        reported('img-1', vuln('image-a', 'CVE-2024-0727', Severity.CRITICAL, ['6.3.1'])),
      ),
      record(
        TOPICS.findings.image,
        reported('img-1', vuln('image-b', 'CVE-2023-5678', Severity.HIGH, ['6.3.3'])),
      ),
      record(
        TOPICS.findings.image,
        reported('img-1', vuln('image-c', 'CVE-2025-0001', Severity.LOW, ['11.3.1'])),
      ),
      record(TOPICS.scans, completed('img-1', ScannerKind.IMAGE, IMAGE, ['image-a', 'image-b', 'image-c'])),
    ]);
    // A second batch: the projection writes only what changed, and must still see every finding.
    await projection.handle([
      record(
        TOPICS.findings.config,
        reported('cfg-1', {
          id: 'config-d',
          source: FindingSource.CONFIG,
          ruleId: 'VGL-K8S-010',
          title: 'no NetworkPolicy restricts egress',
          severity: Severity.MEDIUM,
          pciRequirements: ['1.3.1'],
          asset: workload,
        }),
      ),
      record(TOPICS.scans, completed('cfg-1', ScannerKind.CONFIG, 'live', ['config-d'])),
      record(
        TOPICS.findings.correlated,
        reported('corr-1', {
          id: 'correlated-x',
          source: FindingSource.CORRELATED,
          ruleId: 'VGL-CORR-001',
          title: 'critical vulnerability in a CDE workload with open egress',
          severity: Severity.CRITICAL,
          pciRequirements: ['6.3.3', '1.3.1'],
          asset: workload,
          evidence: [
            { key: 'priority', value: '87' },
            { key: 'priority-factors', value: FACTORS },
          ],
          relatedFindingIds: ['image-a', 'config-d'],
        }),
      ),
      record(
        TOPICS.findings.correlated,
        reported('corr-1', {
          id: 'correlated-y',
          source: FindingSource.CORRELATED,
          ruleId: 'VGL-CORR-002',
          title: 'vulnerable package in use',
          severity: Severity.HIGH,
          pciRequirements: ['6.3.1'],
          asset: workload,
          evidence: [{ key: 'priority', value: '55.5' }],
          relatedFindingIds: ['image-a'],
        }),
      ),
      record(
        TOPICS.scans,
        completed('corr-1', ScannerKind.CORRELATOR, 'correlation', ['correlated-x', 'correlated-y']),
      ),
    ]);
    const tokens = createTokenStore(sql);
    token = (await tokens.create({ role: 'viewer', clusters: [scope.cluster] })).token;
    ({ app, base } = await serveGraphqlApi({
      nestLogger,
      store,
      projection,
      eventLog: log,
      sql,
      options: { tokens: () => tokens },
    }));
  });
  after(async () => {
    await app?.close();
    await log?.close();
    await store?.close();
    await sql?.close();
    await dropDatabase(adminUrl, dbName);
  });

  it('stores the correlator’s priority as a column and leaves unscored findings null', async () => {
    const r = await sql.query<{ finding_id: string; priority: number | null; related_finding_ids: string[] }>(
      'SELECT finding_id, priority, related_finding_ids FROM findings WHERE scope = $1 ORDER BY finding_id',
      [scope.cluster],
    );
    assert.deepEqual(
      r.rows.map((x) => [x.finding_id, x.priority, x.related_finding_ids]),
      [
        ['config-d', null, []],
        ['correlated-x', 87, ['image-a', 'config-d']],
        ['correlated-y', 55.5, ['image-a']],
        ['image-a', null, []],
        ['image-b', null, []],
        ['image-c', null, []],
      ],
    );
  });

  it('pages by priority desc, then severity, then id, with stable keyset cursors', async () => {
    const q = `query P($after: String) { findings(scope: "payments-prod", first: 2, after: $after) {
      totalCount nodes { id priority severity } pageInfo { endCursor hasNextPage } } }`;
    const seen: { id: string; priority: number | null; severity: string }[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 5; pages++) {
      const page: Page = await gql<Page>(q, cursor ? { after: cursor } : undefined);
      assert.equal(page.findings.totalCount, 6);
      seen.push(...page.findings.nodes);
      cursor = page.findings.pageInfo.endCursor;
      if (!page.findings.pageInfo.hasNextPage) break;
    }
    assert.deepEqual(seen, [
      { id: 'correlated-x', priority: 87, severity: 'CRITICAL' },
      { id: 'correlated-y', priority: 55.5, severity: 'HIGH' },
      { id: 'image-a', priority: null, severity: 'CRITICAL' },
      { id: 'image-b', priority: null, severity: 'HIGH' },
      { id: 'config-d', priority: null, severity: 'MEDIUM' },
      { id: 'image-c', priority: null, severity: 'LOW' },
    ]);
  });

  it('filters in SQL by correlated, requirement (id or principal), source, asset and severity', async () => {
    assert.deepEqual(await ids('{ correlated: true }'), ['correlated-x', 'correlated-y']);
    assert.deepEqual(await ids('{ correlated: false }'), ['image-a', 'image-b', 'config-d', 'image-c']);
    assert.deepEqual(await ids('{ requirement: "6" }'), [
      'correlated-x',
      'correlated-y',
      'image-a',
      'image-b',
    ]);
    assert.deepEqual(await ids('{ requirement: "6.3.1" }'), ['correlated-y', 'image-a']);
    assert.deepEqual(await ids('{ requirement: "1" }'), ['correlated-x', 'config-d']);
    assert.deepEqual(await ids('{ requirement: "1.3" }'), [], 'an id with a dot is matched whole');
    assert.deepEqual(await ids('{ source: "config" }'), ['config-d']);
    assert.deepEqual(await ids('{ asset: "payments-prod/payments/" }'), [
      'correlated-x',
      'correlated-y',
      'config-d',
    ]);
    assert.deepEqual(await ids(`{ asset: "${IMAGE_KEY}" }`), ['image-a', 'image-b', 'image-c']);
    assert.deepEqual(await ids('{ severity: [CRITICAL], correlated: false }'), ['image-a']);
    assert.deepEqual(await ids('{ status: resolved }'), []);
  });

  it('refuses a page over the limit and a requirement id that is not one, naming the argument', async () => {
    const refused = async (args: string) => {
      const r = await post(`{ findings(scope: "payments-prod", ${args}) { nodes { id } } }`);
      assert.equal(r.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT', JSON.stringify(r));
      return r.errors![0]!.message;
    };
    assert.equal(
      await refused('first: 101'),
      'first: 101 is over the page limit of 100 (ask for at most 100 and page on with after)',
    );
    assert.equal(await refused('first: 0'), 'first: 0 is not a page size (1 to 100)');
    assert.equal(
      await refused('filter: { requirement: "99.1" }'),
      'filter.requirement: "99.1" is not a PCI DSS v4.0.1 requirement id (e.g. 6 or 6.3.1)',
    );
    assert.deepEqual(nestErrors, [], 'refused input is not logged as an error');
    const page = await gql<Page>(
      '{ findings(scope: "payments-prod", first: 100) { totalCount nodes { id } } }',
    );
    assert.equal(page.findings.nodes.length, 6);
  });

  it('gives a finding’s correlated context both ways, with the priority factors', async () => {
    type Ctx = {
      referencedBy: { id: string; priority: number | null }[];
      joins: { id: string }[];
      assets: string[];
      priorityFactors: { points: number; text: string }[];
    };
    const data = await gql<{ findings: { nodes: { id: string; correlatedContext: Ctx }[] } }>(
      `{ findings(scope: "payments-prod") { nodes { id correlatedContext {
          referencedBy { id priority } joins { id } assets priorityFactors { points text } } } } }`,
    );
    const ctx = new Map(data.findings.nodes.map((n) => [n.id, n.correlatedContext]));
    assert.deepEqual(ctx.get('image-a'), {
      referencedBy: [
        { id: 'correlated-x', priority: 87 },
        { id: 'correlated-y', priority: 55.5 },
      ],
      joins: [],
      assets: [IMAGE_KEY],
      priorityFactors: [],
    });
    assert.deepEqual(ctx.get('correlated-x'), {
      referencedBy: [],
      joins: [{ id: 'config-d' }, { id: 'image-a' }],
      assets: [IMAGE_KEY, WORKLOAD_KEY].sort(),
      priorityFactors: [
        { points: 40, text: 'base severity critical' },
        { points: 25, text: 'cde: namespace payments is in the CDE' },
        { points: 0, text: 'egress restricted' },
      ],
    });
    assert.deepEqual(ctx.get('image-b')?.referencedBy, []);
  });
  it('counts a total only for a query that asks, and counts again once new events change the findings', async () => {
    const total = async (filter: string) =>
      (await gql<Page>(`{ findings(scope: "payments-prod", filter: ${filter}) { totalCount } }`)).findings
        .totalCount;
    assert.equal(await total('{ requirement: "11" }'), 1);
    assert.equal(await total('{ severity: [CRITICAL, HIGH], requirement: "6" }'), 4);
    assert.equal(await total('{ requirement: "A3" }'), 0);
    await projection.handle([
      record(
        TOPICS.findings.host,
        reported('host-1', {
          id: 'host-e',
          source: FindingSource.HOST,
          ruleId: 'CIS-K8S-4.2.1',
          title: 'kubelet --anonymous-auth is not false',
          severity: Severity.HIGH,
          pciRequirements: ['11.3.1', 'A3.3.1'],
          asset: { kind: AssetKind.NODE, cluster: scope.cluster, node: 'node-1' },
        }),
      ),
      record(TOPICS.scans, completed('host-1', ScannerKind.HOST, 'node/node-1', ['host-e'])),
    ]);
    assert.equal(await total('{ requirement: "11" }'), 2, 'the kept total of before the batch is not reused');
    assert.equal(await total('{ requirement: "A3" }'), 1, 'an appendix is a principal requirement too');
    assert.deepEqual(await ids('{ requirement: "A3" }'), ['host-e']);
    assert.equal(await total('{ severity: [CRITICAL, HIGH], requirement: "6" }'), 4);
  });
});
