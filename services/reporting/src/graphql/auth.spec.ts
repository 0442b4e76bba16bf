// The token cache in front of the token store: how long a verified token is trusted (the revocation bound), that
// unknown tokens are never remembered, and that concurrent requests share one lookup.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TOKEN_CACHE_MS, authenticate, cachingVerifier, type TokenVerifier } from './auth.js';

// The store's answers, with revocation and a count of lookups: what the cache must not outlive by more than its TTL.
function tokenTable() {
  const active = new Map([
    ['vgl_viewer_secret', { id: 'tok-1', role: 'viewer' as const, clusters: ['prod'] }],
  ]);
  let lookups = 0;
  const verifier: TokenVerifier = {
    verify: async (token) => {
      lookups += 1;
      return active.get(token);
    },
  };
  return { verifier, revoke: (t: string) => active.delete(t), lookups: () => lookups };
}

describe('cachingVerifier', () => {
  it('trusts a verified token for the TTL and sees its revocation once the TTL has passed', async () => {
    const table = tokenTable();
    let clock = 1_000_000;
    const cached = cachingVerifier(table.verifier, { ttlMs: 5_000, now: () => clock });
    assert.equal((await cached.verify('vgl_viewer_secret'))?.id, 'tok-1');
    table.revoke('vgl_viewer_secret');
    clock += 4_999;
    assert.equal((await cached.verify('vgl_viewer_secret'))?.id, 'tok-1', 'still trusted within the TTL');
    assert.equal(table.lookups(), 1);
    clock += 1;
    assert.equal(await cached.verify('vgl_viewer_secret'), undefined, 'revoked once the TTL is over');
    assert.equal(table.lookups(), 2);
  });

  it('never remembers an unknown token, and shares one lookup between concurrent requests', async () => {
    const table = tokenTable();
    const cached = cachingVerifier(table.verifier, { ttlMs: 5_000, now: () => 0 });
    assert.equal(await cached.verify('vgl_guessed'), undefined);
    assert.equal(await cached.verify('vgl_guessed'), undefined);
    assert.equal(table.lookups(), 2);
    const answers = await Promise.all(Array.from({ length: 50 }, () => cached.verify('vgl_viewer_secret')));
    assert.deepEqual(new Set(answers.map((a) => a?.id)), new Set(['tok-1']));
    assert.equal(table.lookups(), 3);
  });

  it('refuses a negative TTL by name', () => {
    assert.throws(() => cachingVerifier(tokenTable().verifier, { ttlMs: -1 }), /token cache time -1 ms/);
  });

  it('is what authenticate uses, with a bound of a few seconds', async () => {
    const table = tokenTable();
    const header = 'Bearer vgl_viewer_secret';
    assert.deepEqual(await authenticate(header, table.verifier), {
      tokenId: 'tok-1',
      role: 'viewer',
      clusters: ['prod'],
    });
    await authenticate(header, table.verifier);
    assert.equal(table.lookups(), 1);
    assert.ok(TOKEN_CACHE_MS <= 10_000, `revocation bound ${TOKEN_CACHE_MS} ms is more than a few seconds`);
    await assert.rejects(authenticate('Bearer vgl_other', table.verifier), /unknown or revoked/);
  });
});
