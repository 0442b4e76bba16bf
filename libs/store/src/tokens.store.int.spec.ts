// The api_tokens table on the real Postgres at DATABASE_URL, on a fresh database: minting, verifying by hash,
// revoking, and refusing bad input with a message naming it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { freshTestDatabase } from './int-test-database.js';
import { MIGRATIONS } from './migrations/index.js';
import { ApiTokens1764914400000 } from './migrations/1764914400000-api-tokens.js';
import { runMigrations } from './migrations.runner.js';
import { createSql } from './pg-sql.adapter.js';
import type { Sql } from './sql.port.js';
import { createTokenStore, hashToken, type TokenStore } from './tokens.store.js';

let db: { url: string; drop(): Promise<void> };
let sql: Sql;
let store: TokenStore;

before(async () => {
  db = await freshTestDatabase('tokens_int');
  await runMigrations(db.url);
  sql = createSql(db.url, { max: 2 });
  // Until the migration is on the list, apply it here; once listed, runMigrations has done it.
  if (!MIGRATIONS.some((m) => m.name === ApiTokens1764914400000.name))
    await new ApiTokens1764914400000().up({ query: (t: string) => sql.query(t) } as never);
  store = createTokenStore(sql);
});
after(async () => {
  await sql?.close();
  await db?.drop();
});

describe('token store', () => {
  it('keeps only the SHA-256 of a minted token and finds the token by it', async () => {
    const minted = await store.create({ role: 'auditor', clusters: ['prod', 'prod', 'acme/eu-1'] });
    assert.match(minted.token, /^vgt_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(minted.token.slice(4), 'base64url').length, 32);
    assert.deepEqual(minted.record.clusters, ['acme/eu-1', 'prod'], 'sorted and deduplicated');
    const rows = await sql.query<{ token_hash: string }>('SELECT token_hash FROM api_tokens WHERE id = $1', [
      minted.record.id,
    ]);
    assert.equal(rows.rows[0]?.token_hash, createHash('sha256').update(minted.token).digest('hex'));
    assert.equal(rows.rows[0]?.token_hash, hashToken(minted.token));
    const none = await sql.query(`SELECT 1 FROM api_tokens WHERE position($1 in token_hash) > 0`, [
      minted.token.slice(4, 20),
    ]);
    assert.equal(none.rowCount, 0, 'the token text itself is stored nowhere');
    const found = await store.verify(minted.token);
    assert.equal(found?.id, minted.record.id);
    assert.equal(found?.role, 'auditor');
  });

  it('stops verifying a revoked token, and revokes once', async () => {
    const minted = await store.create({ role: 'viewer', clusters: ['prod'] });
    assert.equal(await store.revoke(minted.record.id), true);
    assert.equal(await store.revoke(minted.record.id), false);
    assert.equal(await store.verify(minted.token), undefined);
    assert.ok((await store.get(minted.record.id))?.revokedAt instanceof Date);
    assert.ok((await store.list()).some((t) => t.id === minted.record.id));
  });

  it('refuses bad roles, clusters and ids by name, and does not look up malformed tokens', async () => {
    await assert.rejects(
      store.create({ role: 'root' as never, clusters: ['prod'] }),
      /role "root" is not one of viewer, auditor, admin/,
    );
    await assert.rejects(store.create({ role: 'viewer', clusters: [] }), /at least one cluster/);
    await assert.rejects(
      store.create({ role: 'viewer', clusters: ['prod; drop'] }),
      /cluster "prod; drop" is not a cluster name/,
    );
    await assert.rejects(store.revoke('42'), /"42" is not a token id/);
    assert.equal(await store.verify('vgt_short'), undefined);
    assert.equal(await store.verify(`vgt_${'A'.repeat(43)}`), undefined);
  });
});
