import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  checkDatabaseName,
  databaseName,
  parseDatabaseUrl,
  redactUrl,
  withDatabase,
} from './database-url.js';

describe('database URLs', () => {
  it('redacts the password and keeps everything else', () => {
    assert.equal(
      redactUrl('postgresql://vigil:s3cr%40t@db.internal:6432/reports'),
      'postgresql://vigil:***@db.internal:6432/reports',
    );
    assert.equal(
      redactUrl('postgresql://postgres@127.0.0.1:5432/postgres'),
      'postgresql://postgres@127.0.0.1:5432/postgres',
    );
  });

  it('masks the password of a URL it cannot parse', () => {
    assert.equal(redactUrl('postgresql://u:pw@[bad/x'), 'postgresql://u:***@[bad/x');
  });

  it('rejects a URL with another scheme, naming it without the password', () => {
    assert.throws(
      () => parseDatabaseUrl('mysql://root:hunter2@localhost/db'),
      (err: Error) => {
        assert.match(
          err.message,
          /invalid database URL "mysql:\/\/root:\*\*\*@localhost\/db": the scheme must be postgresql/,
        );
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
    assert.throws(() => parseDatabaseUrl('not a url'), /invalid database URL "not a url"/);
  });

  it('swaps the database name and reads it back', () => {
    const url = withDatabase(
      'postgresql://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable',
      'vigil_test-1',
    );
    assert.equal(url, 'postgresql://postgres:pw@127.0.0.1:5432/vigil_test-1?sslmode=disable');
    assert.equal(databaseName(url), 'vigil_test-1');
  });

  it('accepts plain database names and rejects the rest with the reason', () => {
    assert.equal(checkDatabaseName('vigil'), 'vigil');
    assert.throws(
      () => checkDatabaseName('x"; DROP DATABASE postgres; --'),
      /invalid database name "x"; DROP DATABASE postgres; --"/,
    );
    assert.throws(() => checkDatabaseName('1abc'), /starting with a letter/);
    assert.throws(() => checkDatabaseName('a'.repeat(64)), /1-63 characters/);
  });
});
