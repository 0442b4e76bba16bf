// The reporting module as the service (and `vigil up`) mounts it: its consumer folds corpus events from the real
// embedded log, VIGIL_SIGNING_KEY names the key file, and the bundle exportEvidence stores is downloaded from the
// module's own /v1/evidence route and verified with the deployment's public key.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ALL_TOPICS } from '@vigil/contracts';
import { createEmbeddedEventLog, type EventLog } from '@vigil/event-log';
import { composeServiceModules } from '@vigil/nest-kit';
import { generateSigningKeyPem, parseSigningKey, verifyEvidenceBundle } from '@vigil/report';
import {
  createDatabase,
  createSql,
  createTokenStore,
  dropDatabase,
  withDatabase,
  type ReportingStore,
  type Sql,
} from '@vigil/store';
import { corpusAdvisories, eventFactory, publishAll } from '../corpus-events.spec-helper.js';
import { REPORTING_STORE, ReportingModule } from '../reporting.module.js';

const adminUrl = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const dbName = `vigil_evidence_module_${randomUUID().slice(0, 8)}`;
const url = withDatabase(adminUrl, dbName);
const scope = { tenant: '', cluster: 'payments-prod' };
const IMAGE = 'registry.example.com/acme/payment-api:1.4.2';

describe('the reporting module serves exportEvidence and the download', () => {
  let sql: Sql;
  let log: EventLog;
  let app: INestApplication;
  let base: string;
  let store: ReportingStore;
  const pem = generateSigningKeyPem();
  const saved = process.env['VIGIL_SIGNING_KEY'];

  before(async () => {
    await createDatabase(adminUrl, dbName);
    sql = createSql(url);
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
    const keyFile = join(mkdtempSync(join(tmpdir(), 'vigil-evidence-module-')), 'signing-key.pem');
    writeFileSync(keyFile, pem, { mode: 0o600 });
    process.env['VIGIL_SIGNING_KEY'] = keyFile;
    const root = composeServiceModules(
      { identity: { service: 'reporting', version: '0', instance: 'spec' }, eventLog: log, sql, http: false },
      [
        ReportingModule.forRoot({
          databaseUrl: url,
          entityType: 'merchant',
          graphql: true,
          snapshotIntervalMs: 0,
          clock: () => new Date('2026-12-01T00:00:00Z'),
        }),
      ],
    );
    app = await NestFactory.create(root, { logger: false, abortOnError: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    store = app.get<ReportingStore>(REPORTING_STORE);
  });
  after(async () => {
    if (saved === undefined) delete process.env['VIGIL_SIGNING_KEY'];
    else process.env['VIGIL_SIGNING_KEY'] = saved;
    await app?.close();
    await log?.close();
    await sql?.close();
    await dropDatabase(adminUrl, dbName);
  });

  it('exports what the consumer folded from the log, and the download verifies', async () => {
    const f = eventFactory(scope);
    const findings = corpusAdvisories()
      .slice(0, 15)
      .map((a) => f.finding(a, IMAGE));
    const events = [
      ...findings.map((x) => f.reported('scan-1', x)),
      f.completed(
        'scan-1',
        IMAGE,
        findings.map((x) => x.id),
      ),
    ];
    await publishAll(log, events);
    const deadline = Date.now() + 30_000;
    while ((await store.listSnapshots(scope.cluster)).length === 0) {
      assert.ok(Date.now() < deadline, 'the consumer made a snapshot within 30 s');
      await new Promise((r) => setTimeout(r, 100));
    }

    const token = (await createTokenStore(sql).create({ role: 'auditor', clusters: [scope.cluster] })).token;
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({
        query: `mutation { exportEvidence(scope: "payments-prod") { id size snapshotVersion keyFingerprint downloadPath } }`,
      }),
    });
    const body = (await res.json()) as {
      data?: {
        exportEvidence: {
          id: string;
          size: number;
          snapshotVersion: number;
          keyFingerprint: string;
          downloadPath: string;
        };
      };
      errors?: unknown[];
    };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    const e = body.data!.exportEvidence;
    const key = parseSigningKey(pem, 'spec key');
    assert.equal(e.keyFingerprint, key.fingerprint, 'signed with the key VIGIL_SIGNING_KEY names');
    assert.equal(e.snapshotVersion, 1);

    const zip = await fetch(`${base}${e.downloadPath}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(zip.status, 200);
    assert.equal(zip.headers.get('content-type'), 'application/zip');
    const bytes = new Uint8Array(await zip.arrayBuffer());
    assert.equal(bytes.byteLength, e.size);
    const v = verifyEvidenceBundle(bytes, key.publicKey);
    assert.equal(v.ok, true, JSON.stringify(v.problems));
    assert.equal(v.manifest?.events, events.length);
    assert.equal((await fetch(`${base}${e.downloadPath}`)).status, 401);
  });
});
