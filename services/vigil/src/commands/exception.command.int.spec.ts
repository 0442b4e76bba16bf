// `vigil exception` and `vigil attest` against the real embedded event log (the Postgres-backed one the embedded
// deployment runs) on a fresh database: what they publish folds into the report as the events they claim to be;
// bad input exits 2 naming the problem, before anything is published.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ALL_TOPICS, ExceptionKind, FindingSource } from '@vigil/contracts';
import { createEmbeddedEventLog, type EventLog } from '@vigil/event-log';
import { attestationViews, exceptionViews, fold, scopeStateOf } from '@vigil/report';
import { createSql, runMigrations, type Sql } from '@vigil/store';
import { freshDatabase, type FreshDatabase } from '@vigil/testing';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';
import { attestCommand } from './attest.command.js';
import { exceptionCommand, readExceptionsTopic } from './exception.command.js';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';
const NOW = new Date('2026-12-03T12:00:00.000Z');
// A real manifest of the example environment, as an attestation's attachment.
const RBAC_MANIFEST = join(process.cwd(), '../../examples/payments/k8s/10-rbac.yaml');

function capture(): Output & { results: string[] } {
  const results: string[] = [];
  return { results, result: (t) => results.push(t), progress: () => undefined, warn: () => undefined };
}

let db: FreshDatabase;
let sql: Sql;
let log: EventLog;
const tmp = mkdtempSync(join(tmpdir(), 'vigil-attest-'));

describe('vigil exception and vigil attest', () => {
  before(async () => {
    db = await freshDatabase(ADMIN_URL, 'vigil_exception_cli');
    await runMigrations(db.url);
    sql = createSql(db.url, { max: 2 });
    log = createEmbeddedEventLog({ sql });
    await log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions })));
  });
  after(async () => {
    await log?.close();
    await sql?.close();
    await db?.drop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const deployment = () => ({ eventLog: log });

  it('accepts a risk, lists it, revokes it', async () => {
    const out = capture();
    const code = await exceptionCommand({
      deployment: deployment(),
      sub: 'accept',
      args: [],
      flags: {
        owner: 'payments-platform',
        justification: 'cluster-admin for CI until the deployer role lands',
        approver: 'ciso@acme.example',
        expires: '2027-01-31',
        source: ['rbac'],
        rule: ['rbac/cluster-admin-binding'],
        path: ['examples/payments/k8s/'],
        requirement: ['7.2.1'],
      },
      cluster: 'payments-prod',
      format: 'table',
      out,
      clock: () => NOW,
    });
    assert.equal(code, 0);
    const id =
      /^(exc-[0-9a-f-]{36}) recorded for cluster payments-prod, expires 2027-01-31T23:59:59.999Z$/.exec(
        out.results[0] ?? '',
      )?.[1];
    assert.ok(id, out.results[0]);
    // Without a snapshot requester (--no-snapshot) the command says the report does not show it yet.
    assert.match(
      out.results[1] ?? '',
      /^not in a snapshot yet: vigil report shows it from the next snapshot of payments-prod \(the next scan, or vigil snapshots create --cluster payments-prod\)$/,
    );

    const events = await readExceptionsTopic(deployment());
    const scope = scopeStateOf(fold(events), { cluster: 'payments-prod' });
    assert.ok(scope);
    const [view] = exceptionViews(scope, { seconds: BigInt(NOW.getTime() / 1000), nanos: 0 });
    assert.equal(view?.id, id);
    assert.equal(view?.standing, 'active');
    assert.equal(view?.kind, ExceptionKind.RISK_ACCEPTANCE);
    assert.deepEqual(view?.exception.recorded.selector?.sources, [FindingSource.CONFIG]);
    assert.deepEqual(view?.exception.recorded.selector?.paths, ['examples/payments/k8s/']);
    assert.equal(view?.exception.recorded.approvers[0]?.name, 'ciso@acme.example');

    const listed = capture();
    await exceptionCommand({
      deployment: deployment(),
      sub: 'list',
      args: [],
      flags: {},
      cluster: 'payments-prod',
      format: 'json',
      out: listed,
      clock: () => NOW,
    });
    const rows = JSON.parse(listed.results[0] ?? '[]') as { id: string; standing: string; selects: string }[];
    assert.deepEqual(
      rows.map((r) => [r.id, r.standing, r.selects]),
      [[id, 'active', 'rule=rbac/cluster-admin-binding source=config path=examples/payments/k8s/']],
    );

    const revoked = capture();
    await exceptionCommand({
      deployment: deployment(),
      sub: 'revoke',
      args: [id],
      flags: { reason: 'deployer role shipped', by: 'admin@acme.example' },
      cluster: 'payments-prod',
      format: 'table',
      out: revoked,
      clock: () => NOW,
    });
    const after = capture();
    await exceptionCommand({
      deployment: deployment(),
      sub: 'list',
      args: [],
      flags: {},
      cluster: 'payments-prod',
      format: 'json',
      out: after,
      clock: () => NOW,
    });
    const again = JSON.parse(after.results[0] ?? '[]') as { standing: string; revokedBy: string }[];
    assert.deepEqual(
      again.map((r) => [r.standing, r.revokedBy]),
      [['revoked', 'admin@acme.example']],
    );

    // A second revocation, a made-up id, or another cluster's id publish nothing.
    const published = (await readExceptionsTopic(deployment())).length;
    const revoke = (exceptionId: string, cluster: string) =>
      exceptionCommand({
        deployment: deployment(),
        sub: 'revoke',
        args: [exceptionId],
        flags: { reason: 'typo' },
        cluster,
        format: 'table',
        out: capture(),
        clock: () => NOW,
      });
    await assert.rejects(revoke(id, 'payments-prod'), /already revoked; nothing was published/);
    await assert.rejects(
      revoke('exc-0000000000000000', 'payments-prod'),
      /exc-0000000000000000: no such exception in cluster "payments-prod"/,
    );
    await assert.rejects(revoke(id, 'other-cluster'), /no such exception in cluster "other-cluster"/);
    assert.equal((await readExceptionsTopic(deployment())).length, published);
  });

  it('refuses an acceptance without a future expiry or a scope, naming the problem, and publishes nothing', async () => {
    const before = (await readExceptionsTopic(deployment())).length;
    const base = { owner: 'o', justification: 'j', approver: 'a', package: ['openssl'] };
    const run = (flags: Record<string, string | boolean | string[]>) =>
      exceptionCommand({
        deployment: deployment(),
        sub: 'accept',
        args: [],
        flags,
        cluster: 'prod',
        format: 'table',
        out: capture(),
        clock: () => NOW,
      });
    await assert.rejects(
      run(base),
      (e: Error) => e instanceof UsageError && /--expires DATE is required/.test(e.message),
    );
    await assert.rejects(
      run({ ...base, expires: '2026-12-01' }),
      /expiry 2026-12-01T23:59:59.999Z is not in the future/,
    );
    await assert.rejects(
      run({ owner: 'o', justification: 'j', approver: 'a', expires: '2027-01-01' }),
      /selects no findings/,
    );
    await assert.rejects(
      run({ ...base, expires: '2027-01-01', workload: ['payment-api'] }),
      /--workload payment-api is not KIND\/NAME/,
    );
    await assert.rejects(
      run({ ...base, expires: '2027-01-01', source: ['network'] }),
      /source "network" is not one of/,
    );
    assert.equal((await readExceptionsTopic(deployment())).length, before);
  });

  it('attests a requirement with the evidence files hashed, and revokes the attestation', async () => {
    const out = capture();
    await attestCommand({
      deployment: deployment(),
      args: ['7.2.1'],
      flags: {
        statement: 'Access model reviewed against the role matrix',
        evidence: [RBAC_MANIFEST],
        by: 'qsa@assessor.example',
        'valid-until': '2027-06-30',
      },
      cluster: 'payments-prod',
      out,
      clock: () => NOW,
    });
    const bytes = readFileSync(RBAC_MANIFEST);
    const hash = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    const id = /^(att-[0-9a-f-]{36}) attests 7\.2\.1 /.exec(out.results[0] ?? '')?.[1];
    assert.ok(id, out.results[0]);
    assert.match(out.results[0] ?? '', new RegExp(`${hash}  ${bytes.length} bytes  10-rbac.yaml`));

    const scope = scopeStateOf(fold(await readExceptionsTopic(deployment())), { cluster: 'payments-prod' });
    assert.ok(scope);
    const [a] = attestationViews(scope, { seconds: BigInt(NOW.getTime() / 1000), nanos: 0 });
    assert.equal(a?.standing, 'valid');
    assert.deepEqual(
      a?.attestation.attested.attachments.map((f) => [f.name, f.sha256, f.size, f.mediaType]),
      [['10-rbac.yaml', hash, String(bytes.length), 'application/yaml']],
    );
    assert.equal(a?.attestation.attested.attestedBy, 'qsa@assessor.example');

    await attestCommand({
      deployment: deployment(),
      args: ['revoke', id],
      flags: { reason: 'matrix superseded' },
      cluster: 'payments-prod',
      out: capture(),
      clock: () => NOW,
    });
    const later = scopeStateOf(fold(await readExceptionsTopic(deployment())), { cluster: 'payments-prod' });
    assert.equal(later && attestationViews(later, undefined)[0]?.standing, 'revoked');
    await assert.rejects(
      attestCommand({
        deployment: deployment(),
        args: ['revoke', 'att-nonexistent'],
        flags: { reason: 'typo' },
        cluster: 'payments-prod',
        out: capture(),
        clock: () => NOW,
      }),
      /vigil attest revoke: att-nonexistent: no such attestation in cluster "payments-prod"/,
    );
  });

  it('refuses a missing evidence file and an unknown requirement id, naming them', async () => {
    const present = join(tmp, 'minutes.txt');
    writeFileSync(present, 'tabletop exercise minutes\n');
    const run = (args: string[], flags: Record<string, string | string[]>) =>
      attestCommand({
        deployment: deployment(),
        args,
        flags,
        cluster: 'prod',
        out: capture(),
        clock: () => NOW,
      });
    const missing = join(tmp, 'no-such-plan.pdf');
    await assert.rejects(
      run(['12.10.1'], { statement: 's', evidence: [present, missing] }),
      (e: Error) =>
        e instanceof UsageError && e.message === `vigil attest: evidence ${missing} does not exist`,
    );
    await assert.rejects(
      run(['12.10.9'], { statement: 's', evidence: [present] }),
      /requirement "12.10.9" is not a PCI DSS v4.0.1 requirement/,
    );
    await assert.rejects(run(['12.10.1'], { evidence: [present] }), /--statement is required/);
    await assert.rejects(
      run(['12.10.1'], { statement: 's', evidence: [present], 'valid-until': '2026-01-01' }),
      /valid-until date .* is not in the future/,
    );
    await assert.rejects(run(['12.10.1'], { statement: 's', evidence: [tmp] }), /is not a regular file/);
  });
});
