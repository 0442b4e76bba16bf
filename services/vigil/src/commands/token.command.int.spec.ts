// `vigil token create|revoke|list` on a fresh database of the real Postgres (DATABASE_URL, else the local one),
// through the real token store: the printed token verifies, a revoked one stops verifying, bad input exits 2.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSql, createTokenStore, runMigrations, type Sql } from '@vigil/store';
import { freshDatabase, type FreshDatabase } from '@vigil/testing';
import type { Output } from '../output.js';
import { UsageError } from '../usage-error.js';
import { tokenCommand } from './token.command.js';

const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

function capture(): Output & { results: string[]; warnings: string[] } {
  const results: string[] = [];
  const warnings: string[] = [];
  return {
    results,
    warnings,
    result: (t) => results.push(t),
    progress: () => undefined,
    warn: (l) => warnings.push(l),
  };
}

let db: FreshDatabase;
let sql: Sql;
let store: ReturnType<typeof createTokenStore>;

describe('vigil token', () => {
  before(async () => {
    db = await freshDatabase(ADMIN_URL, 'vigil_token_cli');
    await runMigrations(db.url);
    sql = createSql(db.url, { max: 2 });
    store = createTokenStore(sql);
  });
  after(async () => {
    await sql?.close();
    await db?.drop();
  });

  it('creates a token that verifies with its role, lists it, and revokes it', async () => {
    const out = capture();
    const base = { args: [], format: 'table', tokens: store, out };
    assert.equal(await tokenCommand({ ...base, sub: 'create', role: 'auditor', clusters: ['prod'] }), 0);
    const token = out.results[0] ?? '';
    const verified = await store.verify(token);
    assert.equal(verified?.role, 'auditor');
    assert.match(out.warnings[0] ?? '', new RegExp(`^token ${verified?.id} \\(auditor on prod\\) created`));

    const listed = capture();
    await tokenCommand({ ...base, out: listed, sub: 'list', clusters: [], format: 'json' });
    const rows = JSON.parse(listed.results[0] ?? '[]') as {
      id: string;
      clusters: string[];
      revokedAt: null;
    }[];
    assert.deepEqual(
      rows.map((r) => [r.id, r.clusters, r.revokedAt]),
      [[verified?.id, ['prod'], null]],
    );
    assert.doesNotMatch(listed.results[0] ?? '', new RegExp(token), 'a listing never shows a token');

    assert.equal(await tokenCommand({ ...base, sub: 'revoke', args: [verified!.id], clusters: [] }), 0);
    assert.equal(await store.verify(token), undefined);
    await assert.rejects(
      tokenCommand({ ...base, sub: 'revoke', args: [verified!.id], clusters: [] }),
      new UsageError(`vigil token revoke: ${verified!.id} was already revoked`),
    );
  });

  it('refuses a missing role or cluster and a bad cluster name, naming the flag', async () => {
    const base = { args: [], format: 'table', tokens: store, out: capture(), sub: 'create' };
    await assert.rejects(tokenCommand({ ...base, clusters: ['prod'] }), /--role is required/);
    await assert.rejects(
      tokenCommand({ ...base, role: 'owner', clusters: ['prod'] }),
      /--role owner is not one of/,
    );
    await assert.rejects(tokenCommand({ ...base, role: 'viewer', clusters: [] }), /--cluster NAME/);
    await assert.rejects(
      tokenCommand({ ...base, role: 'viewer', clusters: ['no spaces'] }),
      (err: Error) =>
        err instanceof UsageError && /cluster "no spaces" is not a cluster name/.test(err.message),
    );
    await assert.rejects(
      tokenCommand({ ...base, sub: 'revoke', args: ['tok_0000000000000000'], clusters: [] }),
      /no token tok_0000000000000000/,
    );
  });
});
