// exportEvidence and the bundle download over real HTTP, on a real database: Postgres (reporting store, embedded
// event log, api_tokens), the Nest app with Apollo, the projection folding events built from the corpus's OSV
// records into snapshots, and the bundle checked with @vigil/report's own verifier and the deployment's public key.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { ALL_TOPICS, encodeEnvelope, topicFor, type EventEnvelope } from '@vigil/contracts';
import { createEmbeddedEventLog, type ConsumedRecord, type EventLog } from '@vigil/event-log';
import {
  generateSigningKeyPem,
  parsePublicKey,
  pciCatalog,
  publicKeyPem,
  readZip,
  reportFromContent,
  verifyEvidenceBundle,
  type SigningKey,
} from '@vigil/report';
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
import { corpusAdvisories, eventFactory } from '../corpus-events.spec-helper.js';
import { ReportingProjection } from '../reporting.projection.js';
import { SnapshotMaker } from '../snapshot-maker.js';
import { parseEvidenceMediaType, readSigningKeyFile } from './evidence-bundles.js';
import { serveGraphqlApi } from './api-server.spec-helper.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_graphql_evidence_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
const scope = { tenant: '', cluster: 'payments-prod' };
const IMAGE = 'registry.example.com/acme/payment-api:1.4.2';
const producer = { service: 'test', version: '0', instance: 'spec' };
const keyDir = mkdtempSync(join(tmpdir(), 'vigil-evidence-key-'));
const keyFile = join(keyDir, 'evidence-signing-key.pem');

let store: ReportingStore;
let sql: Sql;
let log: EventLog;
let projection: ReportingProjection;
let signingKey: SigningKey;
const apps: INestApplication[] = [];
let base: string;
let keyless: string;
const tokens: Record<string, string> = {};
let offset = 0;
let eventCount = 0;

function records(events: readonly EventEnvelope[]): ConsumedRecord[] {
  eventCount += events.length;
  return events.map((e) => ({
    topic: topicFor(e),
    partition: 0,
    offset: String(offset++),
    key: e.subjectKey,
    value: encodeEnvelope(e),
    headers: {},
    timestamp: 0,
  }));
}

async function serve(key: (() => Promise<SigningKey | undefined>) | undefined): Promise<string> {
  const tokenStore = createTokenStore(sql);
  const served = await serveGraphqlApi({
    store,
    projection,
    eventLog: log,
    sql,
    options: { tokens: () => tokenStore, ...(key ? { signingKey: key } : {}) },
  });
  apps.push(served.app);
  return served.base;
}

const EXPORT = `mutation E($scope: String!, $snapshot: Int) { exportEvidence(scope: $scope, snapshot: $snapshot) {
  id sha256 size scope snapshotVersion contentHash keyFingerprint downloadPath } }`;

interface Exported {
  id: string;
  sha256: string;
  size: number;
  scope: string;
  snapshotVersion: number;
  contentHash: string;
  keyFingerprint: string;
  downloadPath: string;
}

async function exportAs(token: string, variables: Record<string, unknown>, at = base) {
  const res = await fetch(`${at}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: EXPORT, variables }),
  });
  const body = (await res.json()) as {
    data?: { exportEvidence: Exported } | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  return body;
}

async function download(path: string, token?: string) {
  const res = await fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('exportEvidence and GET /v1/evidence/<id>.zip', () => {
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
    // Two scans of the image over the corpus's OSV records: version 1 with 10 findings, version 2 with 6 of
    // them fixed and 4 new, so the bundle of version 2 carries a real diff and a two-entry chain.
    const f = eventFactory(scope);
    const advisories = corpusAdvisories();
    assert.ok(advisories.length >= 20, `the corpus has its OSV records (${advisories.length} packages)`);
    const first = advisories.slice(0, 10).map((a) => f.finding(a, IMAGE));
    await projection.handle(
      records([
        ...first.map((x) => f.reported('scan-1', x)),
        f.completed(
          'scan-1',
          IMAGE,
          first.map((x) => x.id),
        ),
      ]),
    );
    const second = advisories.slice(6, 14).map((a) => f.finding(a, IMAGE));
    await projection.handle(
      records([
        ...second.map((x) => f.reported('scan-2', x)),
        f.completed(
          'scan-2',
          IMAGE,
          second.map((x) => x.id),
        ),
      ]),
    );
    assert.equal((await store.listSnapshots(scope.cluster)).length, 2);

    // The deployment's key as a mounted Secret would hold it, read the way the reporting service reads it.
    writeFileSync(keyFile, generateSigningKeyPem(), { mode: 0o600 });
    signingKey = await readSigningKeyFile(keyFile);

    const tokenStore = createTokenStore(sql);
    for (const role of ['viewer', 'auditor', 'admin'] as const)
      tokens[role] = (await tokenStore.create({ role, clusters: [scope.cluster] })).token;
    tokens.elsewhere = (await tokenStore.create({ role: 'admin', clusters: ['staging'] })).token;
    tokens.everywhere = (await tokenStore.create({ role: 'viewer', clusters: ['*'] })).token;
    base = await serve(() => readSigningKeyFile(keyFile));
    keyless = await serve(undefined);
  });
  after(async () => {
    for (const app of apps) await app.close();
    await log?.close();
    await store?.close();
    await sql?.close();
    await dropDatabase(adminUrl, dbName);
  });

  it('exports the latest snapshot, and the downloaded zip verifies with the public key', async () => {
    const r = await exportAs(tokens.auditor!, { scope: scope.cluster });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const e = r.data!.exportEvidence;
    const latest = await store.getSnapshot(scope.cluster, 2);
    assert.ok(latest);
    assert.equal(e.scope, scope.cluster);
    assert.equal(e.snapshotVersion, 2);
    assert.equal(e.contentHash, latest.contentHash);
    assert.equal(e.keyFingerprint, signingKey.fingerprint);
    assert.match(e.id, /^sha256:[0-9a-f]{64}$/);
    assert.equal(e.id, `sha256:${e.sha256}`);
    assert.equal(e.downloadPath, `/v1/evidence/${e.id}.zip`);

    // Stored as a blob under its digest, with the media type that ties it to its scope and version.
    const blob = await store.getBlob(e.id);
    assert.ok(blob);
    assert.equal(blob.size, e.size);
    assert.deepEqual(parseEvidenceMediaType(blob.mediaType), { scope: scope.cluster, version: 2 });

    const { res, bytes } = await download(e.downloadPath, tokens.viewer);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/zip');
    assert.equal(res.headers.get('content-length'), String(e.size));
    assert.equal(
      res.headers.get('content-disposition'),
      'attachment; filename="vigil-evidence-payments-prod-v2.zip"',
    );
    assert.equal(res.headers.get('cache-control'), 'private, no-store');
    assert.equal(bytes.byteLength, e.size);
    assert.equal(createHash('sha256').update(bytes).digest('hex'), e.sha256);

    // The verifier holds the public key as `vigil evidence key` hands it out, not the signing key.
    const publicKey = parsePublicKey(publicKeyPem(signingKey.publicKey), 'vigil.pub');
    const verified = verifyEvidenceBundle(bytes, publicKey);
    assert.deepEqual(verified.problems, []);
    assert.equal(verified.ok, true);
    const m = verified.manifest!;
    assert.deepEqual(m.scope, scope);
    assert.equal(m.snapshot.version, 2);
    assert.equal(m.snapshot.contentHash, latest.contentHash);
    assert.equal(m.signature.keyFingerprint, signingKey.fingerprint);
    assert.deepEqual(
      m.chain.map((c) => c.version),
      [1, 2],
    );
    assert.equal(m.events, eventCount, 'every event the snapshot folded');
    // The snapshot in the bundle is the stored one: the same findings as the store's report of version 2.
    const report = reportFromContent(latest.content, latest.contentHash);
    assert.equal(report.findings.length, 8);
    assert.ok(readZip(bytes).entries.some((x) => x.name === 'manifest.json'));

    // A bundle signed by some other key does not verify with the deployment's: the key is what proves it.
    const stranger = await readSigningKeyFile(
      (() => {
        const p = join(keyDir, 'stranger.pem');
        writeFileSync(p, generateSigningKeyPem(), { mode: 0o600 });
        return p;
      })(),
    );
    const notOurs = verifyEvidenceBundle(bytes, stranger.publicKey);
    assert.equal(notOurs.ok, false);
    assert.match(notOurs.problems[0]?.problem ?? '', /does not verify with key sha256:/);
  });

  it('exports a given version, and an admin may export too', async () => {
    const r = await exportAs(tokens.admin!, { scope: scope.cluster, snapshot: 1 });
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    const e = r.data!.exportEvidence;
    assert.equal(e.snapshotVersion, 1);
    assert.equal(e.contentHash, (await store.getSnapshot(scope.cluster, 1))?.contentHash);
    const { res, bytes } = await download(e.downloadPath, tokens.everywhere);
    assert.equal(res.status, 200);
    assert.equal(
      res.headers.get('content-disposition'),
      'attachment; filename="vigil-evidence-payments-prod-v1.zip"',
    );
    const v = verifyEvidenceBundle(bytes, signingKey.publicKey);
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.manifest?.snapshot.version, 1);
  });

  it('refuses a viewer, and answers another cluster as a scope without the snapshot', async () => {
    const viewer = await exportAs(tokens.viewer!, { scope: scope.cluster });
    assert.equal(viewer.errors?.[0]?.extensions?.['code'], 'FORBIDDEN');
    assert.match(
      viewer.errors?.[0]?.message ?? '',
      /role viewer may not evidence:export \(needs one of: auditor, admin\)/,
    );

    const other = await exportAs(tokens.elsewhere!, { scope: scope.cluster });
    assert.equal(other.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    const unseen = await exportAs(tokens.admin!, { scope: 'staging' });
    assert.equal(unseen.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    const wide = await exportAs(tokens.elsewhere!, { scope: 'staging' });
    assert.equal(wide.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    // Same words for a cluster the token may not see as for one of its own with no snapshot.
    assert.equal(other.errors?.[0]?.message, 'scope payments-prod has no snapshot yet; run a scan first');
    assert.equal(wide.errors?.[0]?.message, 'scope staging has no snapshot yet; run a scan first');

    const missing = await exportAs(tokens.auditor!, { scope: scope.cluster, snapshot: 9 });
    assert.equal(missing.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
    assert.equal(missing.errors?.[0]?.message, 'scope payments-prod has no snapshot version 9');
    const zero = await exportAs(tokens.auditor!, { scope: scope.cluster, snapshot: 0 });
    assert.equal(zero.errors?.[0]?.extensions?.['code'], 'BAD_USER_INPUT');
  });

  it("answers another cluster's token, an unknown id and a blob that is no bundle with the same 404", async () => {
    const r = await exportAs(tokens.auditor!, { scope: scope.cluster });
    const e = r.data!.exportEvidence;

    const other = await download(e.downloadPath, tokens.elsewhere);
    assert.equal(other.res.status, 404);
    const body = JSON.parse(Buffer.from(other.bytes).toString('utf8')) as { error: string };
    assert.equal(body.error, `no evidence bundle ${e.id}.zip`);

    const unknownId = `sha256:${'0'.repeat(64)}`;
    const unknown = await download(`/v1/evidence/${unknownId}.zip`, tokens.auditor);
    assert.equal(unknown.res.status, 404);
    assert.equal(
      (JSON.parse(Buffer.from(unknown.bytes).toString('utf8')) as { error: string }).error,
      `no evidence bundle ${unknownId}.zip`,
    );

    // A blob of the same scope's store that is not a bundle (an SBOM, as the image scanner stores them).
    const sbom = await store.putBlob(
      Buffer.from(JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.6', components: [] })),
      'application/vnd.cyclonedx+json',
    );
    const notBundle = await download(`/v1/evidence/${sbom}.zip`, tokens.admin);
    assert.equal(notBundle.res.status, 404);

    const malformed = await download('/v1/evidence/latest.zip', tokens.admin);
    assert.equal(malformed.res.status, 404);
    assert.match(Buffer.from(malformed.bytes).toString('utf8'), /sha256:<64 lowercase hex>\.zip/);
  });

  it('answers a download without a token, or with an unknown one, with 401 and a Bearer challenge', async () => {
    const r = await exportAs(tokens.auditor!, { scope: scope.cluster });
    const path = r.data!.exportEvidence.downloadPath;
    const none = await download(path);
    assert.equal(none.res.status, 401);
    assert.match(none.res.headers.get('www-authenticate') ?? '', /^Bearer realm="vigil"$/);
    assert.match(Buffer.from(none.bytes).toString('utf8'), /authentication required/);
    const forged = await download(path, `vgt_${'A'.repeat(43)}`);
    assert.equal(forged.res.status, 401);
    assert.match(forged.res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  it('without a signing key answers UNAVAILABLE naming the option, and makes up no key', async () => {
    const r = await exportAs(tokens.auditor!, { scope: scope.cluster }, keyless);
    assert.equal(r.errors?.[0]?.extensions?.['code'], 'UNAVAILABLE');
    assert.match(r.errors?.[0]?.message ?? '', /set VIGIL_SIGNING_KEY \(reporting\.signingKey\)/);
    assert.equal(r.errors?.[0]?.extensions?.['option'], 'VIGIL_SIGNING_KEY');
  });

  it('names the option and the file when the configured key cannot be used', async () => {
    await assert.rejects(
      readSigningKeyFile(join(keyDir, 'absent.pem')),
      /^Error: VIGIL_SIGNING_KEY \(reporting\.signingKey\): cannot read the evidence signing key .*absent\.pem: ENOENT$/,
    );
    const pub = join(keyDir, 'vigil.pub');
    writeFileSync(pub, publicKeyPem(signingKey.publicKey));
    await assert.rejects(
      readSigningKeyFile(pub),
      /VIGIL_SIGNING_KEY \(reporting\.signingKey\): evidence signing key .*vigil\.pub: not a PEM private key/,
    );
  });
});
