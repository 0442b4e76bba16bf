import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coversPosition } from './reporting.projection.js';
import { parseScopeKey } from './snapshot-requests.js';

describe('snapshot request helpers', () => {
  it('a log position covers a record at or before its offset on the same partition only', () => {
    const position = [
      { topic: 'findings.image', partition: 2, offset: '41' },
      { topic: 'snapshots', partition: 0, offset: '9007199254740993' },
    ];
    assert.equal(coversPosition(position, { topic: 'findings.image', partition: 2, offset: '41' }), true);
    assert.equal(coversPosition(position, { topic: 'findings.image', partition: 2, offset: '42' }), false);
    assert.equal(coversPosition(position, { topic: 'findings.image', partition: 3, offset: '0' }), false);
    // Offsets are int64: compared as integers, not as doubles or strings.
    assert.equal(
      coversPosition(position, { topic: 'snapshots', partition: 0, offset: '9007199254740992' }),
      true,
    );
    assert.equal(
      coversPosition(position, { topic: 'snapshots', partition: 0, offset: '9007199254740994' }),
      false,
    );
    assert.equal(coversPosition([], { topic: 'snapshots', partition: 0, offset: '0' }), false);
  });

  it('reads "cluster" and "tenant/cluster" scope keys and names a bad one', () => {
    assert.deepEqual(parseScopeKey('payments-prod'), { tenant: '', cluster: 'payments-prod' });
    assert.deepEqual(parseScopeKey('acme/cde-eu'), { tenant: 'acme', cluster: 'cde-eu' });
    assert.throws(() => parseScopeKey(''), /scope "" is not "cluster" or "tenant\/cluster"/);
    assert.throws(() => parseScopeKey('acme/'), /scope "acme\/" is not/);
    assert.throws(() => parseScopeKey('a/b/c'), /scope "a\/b\/c" is not/);
  });
});
