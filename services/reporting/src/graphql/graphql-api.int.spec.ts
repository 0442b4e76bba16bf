// Real here: Postgres (reporting store, embedded event log, api_tokens), the Nest app over HTTP with Apollo, the
// projection folding real events into a snapshot. Nothing is mocked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import {
  FindingReportedSchema,
  FindingSchema,
  FindingSource,
  RequirementStatus,
  ScanCompletedSchema,
  ScannerKind,
  ScanStatus,
  Severity,
  TOPICS,
  create,
  decodeEnvelope,
  type ScanRequested,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  type EventEnvelope,
} from '@vigil/contracts';
import { createEmbeddedEventLog, type ConsumedRecord, type EventLog } from '@vigil/event-log';
import { pciCatalog, reportFromContent } from '@vigil/report';
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

const SCHEMA_FILE = new URL('../../schema.graphql', import.meta.url);
const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_graphql_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
const scope = { tenant: '', cluster: 'payments-prod' };
const producer = { service: 'test', version: '0', instance: 'spec' };
let t0 = Date.parse('2026-11-30T10:00:00Z');
const clock = () => new Date((t0 += 1000));
const generatedSdl = join(mkdtempSync(join(tmpdir(), 'vigil-sdl-')), 'schema.graphql');

let store: ReportingStore;
let sql: Sql;
let log: EventLog;
let app: INestApplication;
let base: string;
let projection: ReportingProjection;
const tokens: Record<string, string> = {};

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

function reported(scanId: string, id: string, ruleId: string, severity: Severity) {
  const finding = create(FindingSchema, {
    id,
    source: FindingSource.IMAGE,
    ruleId,
    title: `${ruleId} in openssl`,
    severity,
    pciRequirements: ['6.3.1', '11.3.1'],
    asset: { cluster: scope.cluster, imageRef: 'registry.example.com/acme/payment-api:1.4.2' },
    package: {
      ecosystem: 'Debian:12',
      name: 'libssl3',
      version: '3.0.11-1~deb12u1',
      fixedVersion: '3.0.13-1~deb12u1',
    },
  });
  return newEnvelope({
    payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding }) },
    scope,
    subjectKey: id,
    producer,
    clock,
  });
}

function completed(scanId: string, findingIds: string[]) {
  return newEnvelope({
    payload: {
      case: 'scanCompleted',
      value: create(ScanCompletedSchema, {
        scanId,
        scanner: ScannerKind.IMAGE,
        scope,
        targetKey: 'registry.example.com/acme/payment-api:1.4.2',
        status: ScanStatus.OK,
        findingIds,
        startedAt: timestampFromDate(clock()),
        completedAt: timestampFromDate(clock()),
      }),
    },
    scope,
    subjectKey: 'registry.example.com/acme/payment-api:1.4.2',
    producer,
    clock,
  });
}

async function gql(query: string, token?: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  const body = (await res.json()) as {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return { status: res.status, body, headers: res.headers };
}

describe('GraphQL API over HTTP on a real database', () => {
  before(async () => {
    await createDatabase(adminUrl, dbName);
    await runMigrations(url);
    sql = createSql(url);
    store = await openReportingStore(url);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics([
      { name: TOPICS.snapshots, partitions: 1 },
      { name: 'scan.requests.image', partitions: 1 },
    ]);
    projection = new ReportingProjection({
      store,
      eventLog: log,
      producer,
      snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date('2026-12-01T00:00:00Z')),
      logger: { info: () => undefined, warn: () => undefined },
    });
    await projection.handle([
      record(TOPICS.findings.image, reported('scan-1', 'image-aaaa', 'CVE-2024-0727', Severity.HIGH)),
      record(TOPICS.findings.image, reported('scan-1', 'image-bbbb', 'CVE-2023-5678', Severity.CRITICAL)),
      record(TOPICS.scans, completed('scan-1', ['image-aaaa', 'image-bbbb'])),
    ]);
    await projection.handle([
      record(TOPICS.findings.image, reported('scan-2', 'image-aaaa', 'CVE-2024-0727', Severity.HIGH)),
      record(TOPICS.findings.image, reported('scan-2', 'image-cccc', 'CVE-2025-0001', Severity.LOW)),
      record(TOPICS.scans, completed('scan-2', ['image-aaaa', 'image-cccc'])),
    ]);

    const tokenStore = createTokenStore(sql);
    tokens.viewer = (await tokenStore.create({ role: 'viewer', clusters: [scope.cluster] })).token;
    tokens.auditor = (await tokenStore.create({ role: 'auditor', clusters: [scope.cluster] })).token;
    tokens.elsewhere = (await tokenStore.create({ role: 'admin', clusters: ['staging'] })).token;

    ({ app, base } = await serveGraphqlApi({
      store,
      projection,
      eventLog: log,
      sql,
      options: { tokens: () => tokenStore, schemaFile: generatedSdl, limits: { maxDepth: 5 } },
    }));
  });
  after(async () => {
    await app?.close();
    await log?.close();
    await store?.close();
    await sql?.close();
    await dropDatabase(adminUrl, dbName);
  });

  it('answers a request without a token, or with an unknown one, with 401 and a Bearer challenge', async () => {
    const none = await gql('{ scopes { key } }');
    assert.equal(none.status, 401);
    assert.equal(none.body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer realm="vigil"/);
    const forged = await gql('{ scopes { key } }', `vgt_${'A'.repeat(43)}`);
    assert.equal(forged.status, 401);
    assert.match(forged.body.errors?.[0]?.message ?? '', /unknown or revoked/);
  });

  it('gives the requirement summary of a snapshot built from real events, matching its stored content', async () => {
    const r = await gql(
      `{ snapshot(scope: "payments-prod", version: 1) { version contentHash
           summary { inPlace notInPlace notTested notApplicable manuallyAttested total }
           findingCounts { critical high total }
           requirementTree { id summary { total notInPlace } requirements { id status findingCount } } } }`,
      tokens.viewer,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body.errors));
    const snap = r.body.data?.['snapshot'] as {
      contentHash: string;
      summary: Record<string, number>;
      findingCounts: Record<string, number>;
      requirementTree: {
        id: string;
        summary: { total: number; notInPlace: number };
        requirements: { id: string; status: string; findingCount: number }[];
      }[];
    };
    const stored = await store.getSnapshot(scope.cluster, 1);
    assert.equal(snap.contentHash, stored?.contentHash);
    const report = reportFromContent(stored!.content, stored!.contentHash);
    const count = (s: RequirementStatus) => report.requirements.filter((q) => q.status === s).length;
    assert.deepEqual(snap.summary, {
      inPlace: count(RequirementStatus.IN_PLACE),
      notInPlace: count(RequirementStatus.NOT_IN_PLACE),
      notTested: count(RequirementStatus.NOT_TESTED),
      notApplicable: count(RequirementStatus.NOT_APPLICABLE),
      manuallyAttested: count(RequirementStatus.MANUALLY_ATTESTED),
      total: report.requirements.length,
    });
    assert.ok(snap.summary['notInPlace']! >= 1, 'the two open vulnerabilities fail 6.3.1');
    assert.deepEqual(snap.findingCounts, { critical: 1, high: 1, total: 2 });
    const six = snap.requirementTree.find((g) => g.id === '6');
    const r631 = six?.requirements.find((q) => q.id === '6.3.1');
    assert.deepEqual(r631, { id: '6.3.1', status: 'not_in_place', findingCount: 2 });
    assert.equal(
      snap.requirementTree.reduce((n, g) => n + g.summary.total, 0),
      report.requirements.length,
      'every requirement sits under one principal requirement or appendix',
    );
  });

  it('pages findings by severity and diffs two versions', async () => {
    const q = `query P($after: String) { findings(scope: "payments-prod", first: 1, after: $after) {
      totalCount nodes { id severity status } pageInfo { endCursor hasNextPage } } }`;
    type Page = {
      totalCount: number;
      nodes: { id: string; severity: string; status: string }[];
      pageInfo: { endCursor: string; hasNextPage: boolean };
    };
    const one = (await gql(q, tokens.viewer)).body.data?.['findings'] as Page;
    assert.equal(one.totalCount, 2);
    assert.deepEqual(one.nodes, [{ id: 'image-aaaa', severity: 'HIGH', status: 'open' }]);
    assert.equal(one.pageInfo.hasNextPage, true);
    const two = (await gql(q, tokens.viewer, { after: one.pageInfo.endCursor })).body.data?.[
      'findings'
    ] as Page;
    assert.deepEqual(two.nodes, [{ id: 'image-cccc', severity: 'LOW', status: 'open' }]);
    assert.equal(two.pageInfo.hasNextPage, false);
    const bad = await gql(q, tokens.viewer, { after: 'not-a-cursor' });
    assert.equal(bad.body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');

    const filtered = await gql(
      `{ findings(scope: "payments-prod", filter: { status: resolved, severity: [CRITICAL], requirement: "6" }) {
          totalCount nodes { id status resolvedAt } } }`,
      tokens.viewer,
    );
    const resolved = (
      filtered.body.data?.['findings'] as { nodes: { id: string; resolvedAt: string | null }[] }
    ).nodes;
    assert.deepEqual(
      resolved.map((f) => f.id),
      ['image-bbbb'],
    );
    assert.ok(resolved[0]?.resolvedAt, 'a resolved finding says when');

    const diff = await gql(
      `{ diff(scope: "payments-prod", from: 1, to: 2) { resolved { id severity } added { id } } }`,
      tokens.viewer,
    );
    assert.deepEqual(diff.body.data?.['diff'], {
      resolved: [{ id: 'image-bbbb', severity: 'CRITICAL' }],
      added: [{ id: 'image-cccc' }],
    });
    const missing = await gql(`{ diff(scope: "payments-prod", from: 1, to: 9) { from } }`, tokens.viewer);
    assert.equal(missing.body.errors?.[0]?.message, 'scope payments-prod has no snapshot version 9');
  });

  it('refuses a mutation to a viewer and publishes an auditor’s scan request on the log', async () => {
    const mutation = `mutation { requestScan(input: { scope: "payments-prod", kind: image, imageRef: "nginx:1.27" }) { scanId targetKey } }`;
    const denied = await gql(mutation, tokens.viewer);
    assert.equal(denied.body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    assert.match(denied.body.errors?.[0]?.message ?? '', /role viewer may not scan:request/);
    assert.equal(denied.body.data, null);
    const ok = await gql(mutation, tokens.auditor);
    assert.deepEqual(ok.body.errors, undefined);
    const requested = ok.body.data?.['requestScan'] as { scanId: string; targetKey: string };
    assert.equal(requested.targetKey, 'docker.io/library/nginx:1.27');
    const seen: EventEnvelope[] = [];
    await log.replay(['scan.requests.image'], async (records) => {
      for (const r of records) seen.push(decodeEnvelope(r.value));
    });
    const request = seen.find(
      (e) => e.payload.case === 'scanRequested' && e.payload.value.scanId === requested.scanId,
    );
    assert.ok(request, 'the request is on scan.requests.image');
    assert.equal(request.payload.case, 'scanRequested');
    const value = request.payload.value as ScanRequested;
    assert.equal(value.scanner, ScannerKind.IMAGE);
    assert.equal(value.scope?.cluster, scope.cluster);
    assert.equal(value.target?.key, 'docker.io/library/nginx:1.27');
    assert.match(value.requestedBy, /^api:tok_[0-9a-f]{16}$/);
    assert.equal(request.subjectKey, 'docker.io/library/nginx:1.27');

    // A local path is not a registry image: the API never makes a scanner read the server's files.
    const path = await gql(
      `mutation { requestScan(input: { scope: "payments-prod", kind: image, imageRef: "/etc/passwd" }) { scanId } }`,
      tokens.auditor,
    );
    assert.equal(path.body.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    assert.match(
      path.body.errors?.[0]?.message ?? '',
      /input.imageRef: "\/etc\/passwd" is not an image reference/,
    );

    // No snapshot-on-request port is wired yet: the mutation says so instead of failing obscurely.
    const cut = await gql(`mutation { createSnapshot(scope: "payments-prod") { version } }`, tokens.auditor);
    assert.equal(cut.body.errors?.[0]?.extensions?.['code'], 'UNAVAILABLE');
  });

  it('shows a token scoped to another cluster nothing of this one', async () => {
    const r = await gql(
      `{ scopes { key } snapshot(scope: "payments-prod") { version } snapshots(scope: "payments-prod") { totalCount }
         findings(scope: "payments-prod") { totalCount } }`,
      tokens.elsewhere,
    );
    assert.deepEqual(r.body.data, {
      scopes: [],
      snapshot: null,
      snapshots: { totalCount: 0 },
      findings: { totalCount: 0 },
    });
    const mutate = await gql(
      `mutation { createSnapshot(scope: "payments-prod") { version } }`,
      tokens.elsewhere,
    );
    assert.equal(mutate.body.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
  });

  it('refuses a deep or a costly query before running it, naming the limit', async () => {
    // This app runs with maxDepth 5; fragments count where they are spread.
    const deep = await gql(
      `fragment F on Requirement { evidence { key } }
       { snapshots(scope: "payments-prod") { nodes { requirementTree { requirements { ...F } } } } }`,
      tokens.viewer,
    );
    assert.equal(deep.status, 400);
    assert.equal(
      deep.body.errors?.[0]?.message,
      'the query is nested 6 levels deep; the query depth limit is 5',
    );
    assert.equal(deep.body.errors?.[0]?.extensions?.['limit'], 'depth');
    const costly = await gql(
      `{ snapshots(scope: "payments-prod", first: 100) { nodes { requirementTree { id requirements { id status } } } } }`,
      tokens.viewer,
    );
    assert.equal(costly.status, 400);
    assert.match(
      costly.body.errors?.[0]?.message ?? '',
      /estimated cost of \d+; the query cost limit is 20000/,
    );
    assert.equal(costly.body.errors?.[0]?.extensions?.['limit'], 'cost');
    const small = await gql(
      `{ snapshots(scope: "payments-prod", first: 2) { nodes { requirementTree { id requirements { id status } } } } }`,
      tokens.viewer,
    );
    assert.equal(small.status, 200, JSON.stringify(small.body.errors));
  });

  it('emits the SDL that is committed (VIGIL_UPDATE_SCHEMA=1 rewrites it)', () => {
    const sdl = readFileSync(generatedSdl, 'utf8');
    if (process.env['VIGIL_UPDATE_SCHEMA'] === '1') writeFileSync(SCHEMA_FILE, sdl);
    assert.equal(
      sdl,
      readFileSync(SCHEMA_FILE, 'utf8'),
      'schema.graphql is out of date: rerun with VIGIL_UPDATE_SCHEMA=1',
    );
    assert.match(sdl, /type Mutation \{/);
  });
});
