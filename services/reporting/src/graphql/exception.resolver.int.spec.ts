// The exception and attestation mutations over real HTTP, on a real database: the role table holds (a viewer
// writes nothing, an auditor attests but cannot accept risk, a token of another cluster acts on none of this one),
// and what an admin accepts reaches the next snapshot through the log and the projection, as any event does.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import {
  ALL_TOPICS,
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
  encodeEnvelope,
  findingId,
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

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_graphql_exc_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
const scope = { tenant: '', cluster: 'payments-prod' };
const producer = { service: 'test', version: '0', instance: 'spec' };
const IMAGE = 'registry.example.com/acme/payment-api:1.4.2';
let t0 = Date.parse('2026-11-30T10:00:00Z');
const clock = () => new Date((t0 += 1000));

let store: ReportingStore;
let sql: Sql;
let log: EventLog;
let app: INestApplication;
let base: string;
let projection: ReportingProjection;
const tokens: Record<string, string> = {};
let adminTokenId = '';
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

// libssl3 built from openssl, as dpkg and the Debian advisory (DSA-5770-1 in examples/payments) describe it.
const asset = { kind: 5, cluster: scope.cluster, imageRef: IMAGE };
const libssl = create(FindingSchema, {
  id: findingId({
    source: FindingSource.IMAGE,
    ruleId: 'CVE-2024-5535',
    asset,
    location: 'pkg:deb/debian/libssl3',
  }),
  source: FindingSource.IMAGE,
  ruleId: 'CVE-2024-5535',
  aliases: ['DSA-5770-1'],
  title: 'CVE-2024-5535 in libssl3',
  severity: Severity.HIGH,
  pciRequirements: ['6.3.1', '11.3.1'],
  asset,
  package: {
    ecosystem: 'deb',
    name: 'libssl3',
    version: '3.0.13-1~deb12u1',
    purl: 'pkg:deb/debian/libssl3@3.0.13-1~deb12u1?distro=debian-12',
    sourceName: 'openssl',
    fixedVersion: '3.0.14-1~deb12u2',
  },
  locations: ['pkg:deb/debian/libssl3'],
});

function scan(scanId: string): ConsumedRecord[] {
  const reported = newEnvelope({
    payload: { case: 'findingReported', value: create(FindingReportedSchema, { scanId, finding: libssl }) },
    scope,
    subjectKey: libssl.id,
    producer,
    clock,
  });
  const completed = newEnvelope({
    payload: {
      case: 'scanCompleted',
      value: create(ScanCompletedSchema, {
        scanId,
        scanner: ScannerKind.IMAGE,
        scope,
        targetKey: IMAGE,
        status: ScanStatus.OK,
        findingIds: [libssl.id],
        startedAt: timestampFromDate(clock()),
        completedAt: timestampFromDate(clock()),
      }),
    },
    scope,
    subjectKey: IMAGE,
    producer,
    clock,
  });
  return [record(TOPICS.findings.image, reported), record(TOPICS.scans, completed)];
}

// What the reporting consumer would do: fold the exceptions topic's new records from the real log.
let foldedExceptions = 0;
async function foldExceptionsTopic(): Promise<void> {
  const all: ConsumedRecord[] = [];
  await log.replay([TOPICS.exceptions], async (records) => {
    all.push(...records);
  });
  await projection.handle(all.slice(foldedExceptions));
  foldedExceptions = all.length;
}

async function gql(query: string, token: string, variables?: Record<string, unknown>) {
  const res = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, ...(variables ? { variables } : {}) }),
  });
  return (await res.json()) as {
    data?: Record<string, { id: string; scope: string; eventId: string }> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
}

const ACCEPT = `mutation A($input: AcceptRiskInput!) { acceptRisk(input: $input) { id scope eventId } }`;
const ATTEST = `mutation T($input: AttestRequirementInput!) { attestRequirement(input: $input) { id scope eventId } }`;
const REVOKE = `mutation R($input: RevokeInput!) { revokeException(input: $input) { id } }`;
// The resolvers judge dates against the real clock: expiries are days from now, within the 12-month review limit.
const daysAhead = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();
const acceptInput = (over: Record<string, unknown> = {}) => ({
  scope: scope.cluster,
  selector: { packages: ['openssl'], imageRepository: 'registry.example.com/acme/payment-api' },
  owner: 'payments-platform',
  justification: 'no fixed base image yet; TLS terminates at the mesh sidecar',
  approver: 'ciso@acme.example',
  expiresAt: daysAhead(60),
  ...over,
});

type Listed = {
  id: string;
  snapshotVersion: number;
  kind: string;
  standing: string;
  use: string;
  coveredFindingIds: string[];
  uncoveredFindingIds: string[];
  revokedBy: string | null;
  revokeReason: string | null;
};
const LISTING = `query E($version: Int) { exceptions(scope: "payments-prod", version: $version) {
  id snapshotVersion kind standing use coveredFindingIds uncoveredFindingIds revokedBy revokeReason } }`;
async function listed(version?: number): Promise<Listed[]> {
  const r = await gql(LISTING, tokens.viewer!, version === undefined ? undefined : { version });
  assert.equal(r.errors, undefined, JSON.stringify(r.errors));
  return (r.data as unknown as { exceptions: Listed[] }).exceptions;
}

async function latestReport() {
  const list = await store.listSnapshots(scope.cluster);
  const last = list[list.length - 1];
  assert.ok(last, 'a snapshot exists');
  const stored = await store.getSnapshot(scope.cluster, last.version);
  return reportFromContent(stored!.content, stored!.contentHash);
}

describe('exception and attestation mutations over HTTP', () => {
  before(async () => {
    await createDatabase(adminUrl, dbName);
    await runMigrations(url);
    sql = createSql(url);
    store = await openReportingStore(url);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
    projection = new ReportingProjection({
      store,
      eventLog: log,
      producer,
      snapshots: new SnapshotMaker(pciCatalog(), 'merchant', () => new Date('2026-12-01T00:00:00Z')),
      logger: { info: () => undefined, warn: () => undefined },
    });
    await projection.handle(scan('scan-1'));
    const tokenStore = createTokenStore(sql);
    for (const role of ['viewer', 'auditor', 'admin'] as const) {
      const minted = await tokenStore.create({ role, clusters: [scope.cluster] });
      tokens[role] = minted.token;
      if (role === 'admin') adminTokenId = minted.record.id;
    }
    tokens.elsewhere = (await tokenStore.create({ role: 'admin', clusters: ['staging'] })).token;
    ({ app, base } = await serveGraphqlApi({
      store,
      projection,
      eventLog: log,
      sql,
      options: { tokens: () => tokenStore },
    }));
  });
  after(async () => {
    await app?.close();
    await log?.close();
    await store?.close();
    await sql?.close();
    await dropDatabase(adminUrl, dbName);
  });

  it('refuses acceptRisk to a viewer, an auditor and an admin of another cluster, publishing nothing', async () => {
    for (const who of ['viewer', 'auditor', 'elsewhere']) {
      const r = await gql(ACCEPT, tokens[who]!, { input: acceptInput() });
      assert.equal(r.errors?.[0]?.extensions?.['code'], 'FORBIDDEN', `${who}: ${JSON.stringify(r.errors)}`);
    }
    const r = await gql(ATTEST, tokens.viewer!, {
      input: { scope: scope.cluster, requirementId: '12.10.1', statement: 's', attachments: [] },
    });
    assert.equal(r.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    let published = 0;
    await log.replay([TOPICS.exceptions], async (records) => {
      published += records.length;
    });
    assert.equal(published, 0);
  });

  it('refuses an acceptance without a future expiry or a scope, naming the field', async () => {
    const past = await gql(ACCEPT, tokens.admin!, {
      input: acceptInput({ expiresAt: '2020-01-01T00:00:00Z' }),
    });
    assert.equal(past.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    assert.match(
      past.errors?.[0]?.message ?? '',
      /^input: expiry 2020-01-01T00:00:00.000Z is not in the future/,
    );
    const empty = await gql(ACCEPT, tokens.admin!, { input: acceptInput({ selector: {} }) });
    assert.match(empty.errors?.[0]?.message ?? '', /selects no findings/);
    // The CLI's 12-month review limit holds here too: the rule is the event's, not the command's.
    const far = daysAhead(400);
    const late = await gql(ACCEPT, tokens.admin!, { input: acceptInput({ expiresAt: far }) });
    assert.equal(late.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
    assert.match(
      late.errors?.[0]?.message ?? '',
      new RegExp(
        `^input: expiresAt ${far.replace(/[.]/g, '\\.')} is more than 12 months ahead \\(at most \\d{4}-\\d{2}-\\d{2}; PCI DSS 12\\.3\\.1`,
      ),
    );
    const attestLate = await gql(ATTEST, tokens.auditor!, {
      input: {
        scope: scope.cluster,
        requirementId: '12.10.1',
        statement: 's',
        attachments: [],
        validUntil: far,
      },
    });
    assert.match(attestLate.errors?.[0]?.message ?? '', /^input: validUntil .* is more than 12 months ahead/);
  });

  it("makes an admin's acceptance cover the finding in the next snapshot, and a revocation undo it", async () => {
    const before = await latestReport();
    const r631 = before.requirements.find((q) => q.id === '6.3.1');
    assert.equal(r631?.status, RequirementStatus.NOT_IN_PLACE);
    assert.deepEqual(r631?.findingIds, [libssl.id]);

    const r = await gql(ACCEPT, tokens.admin!, { input: acceptInput() });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const id = r.data?.['acceptRisk']?.id ?? '';
    assert.match(id, /^exc-[0-9a-f-]{36}$/);

    // The event on the log is the one the API answered with, scoped to the cluster.
    const events: EventEnvelope[] = [];
    await log.replay([TOPICS.exceptions], async (records) => {
      for (const x of records) events.push(decodeEnvelope(x.value));
    });
    assert.equal(events.length, 1);
    assert.equal(events[0]?.eventId, r.data?.['acceptRisk']?.eventId);
    assert.equal(events[0]?.scope?.cluster, scope.cluster);
    // One that selects a package the image does not have: the listing must say it matched nothing.
    const stale = await gql(ACCEPT, tokens.admin!, {
      input: acceptInput({ selector: { packages: ['nginx'] }, kind: 'compensating_control' }),
    });
    assert.equal(stale.errors, undefined, JSON.stringify(stale.errors));
    const staleId = stale.data?.['acceptRisk']?.id ?? '';
    assert.deepEqual(await listed(), [], 'the exceptions are listed from snapshots, and none has them yet');

    await foldExceptionsTopic();
    await projection.handle(scan('scan-2'));
    const accepted = await latestReport();
    const usedIn = accepted.snapshotVersion;
    const listing = (standing: string, use: string, covered: string[], version = usedIn) => ({
      snapshotVersion: version,
      standing,
      use,
      coveredFindingIds: covered,
      uncoveredFindingIds: [],
      revokedBy: null,
      revokeReason: null,
    });
    assert.deepEqual(
      await listed(),
      [
        { id, kind: 'risk_acceptance', ...listing('active', 'used', [libssl.id]) },
        { id: staleId, kind: 'compensating_control', ...listing('active', 'matched_nothing', []) },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    const a631 = accepted.requirements.find((q) => q.id === '6.3.1');
    assert.deepEqual(a631?.findingIds, []);
    assert.deepEqual(a631?.exceptedFindingIds, [libssl.id]);
    assert.deepEqual(a631?.exceptionIds, [id]);
    assert.notEqual(a631?.status, RequirementStatus.NOT_IN_PLACE);
    assert.deepEqual(
      accepted.findings.map((f) => f.id),
      [libssl.id],
      'an accepted finding stays visible',
    );

    const other = await gql(REVOKE, tokens.elsewhere!, { input: { scope: scope.cluster, id, reason: 'x' } });
    assert.equal(other.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    const unknown = await gql(REVOKE, tokens.admin!, {
      input: { scope: scope.cluster, id: 'exc-nope', reason: 'x' },
    });
    assert.equal(unknown.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    const revoked = await gql(REVOKE, tokens.admin!, {
      input: { scope: scope.cluster, id, reason: 'fixed base image shipped' },
    });
    assert.equal(revoked.errors, undefined, JSON.stringify(revoked.errors));
    await foldExceptionsTopic();
    await projection.handle(scan('scan-3'));
    const after = await latestReport();
    assert.equal(after.requirements.find((q) => q.id === '6.3.1')?.status, RequirementStatus.NOT_IN_PLACE);
    const now = await listed();
    assert.deepEqual(
      now.find((x) => x.id === id),
      {
        id,
        kind: 'risk_acceptance',
        ...listing('revoked', 'revoked', [], after.snapshotVersion),
        // A revoked exception no longer covers the finding it still matches: it fails again because of it.
        uncoveredFindingIds: [libssl.id],
        revokedBy: `api:${adminTokenId}`,
        revokeReason: 'fixed base image shipped',
      },
    );
    assert.equal(now.find((x) => x.id === staleId)?.use, 'matched_nothing');
    assert.equal(
      (await listed(usedIn)).find((x) => x.id === id)?.use,
      'used',
      'an earlier version still lists what it said then',
    );
  });

  it('lets an auditor attest a manual requirement, which the next snapshot reports manually_attested', async () => {
    const hash = 'sha256:' + '4e'.repeat(32);
    const r = await gql(ATTEST, tokens.auditor!, {
      input: {
        scope: scope.cluster,
        requirementId: '12.10.1',
        statement: 'Incident response plan tested in the October tabletop exercise',
        attestedBy: 'qsa@assessor.example',
        attachments: [{ name: 'ir-plan.pdf', sha256: hash, size: '182304', mediaType: 'application/pdf' }],
        validUntil: daysAhead(300),
      },
    });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const bad = await gql(ATTEST, tokens.auditor!, {
      input: { scope: scope.cluster, requirementId: '12.10.9', statement: 's', attachments: [] },
    });
    assert.match(bad.errors?.[0]?.message ?? '', /requirement "12.10.9" is not a PCI DSS v4.0.1 requirement/);

    await foldExceptionsTopic();
    await projection.handle(scan('scan-4'));
    const report = await latestReport();
    const r12 = report.requirements.find((q) => q.id === '12.10.1');
    assert.equal(r12?.status, RequirementStatus.MANUALLY_ATTESTED);
    assert.ok(
      r12?.evidence.some((e) => e.key === 'attachment' && e.value === `ir-plan.pdf ${hash} 182304 bytes`),
    );
    assert.equal(report.summary?.manuallyAttested, 1);
  });
});
