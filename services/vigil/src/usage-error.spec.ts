import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cliRequester, osUser } from './cli-user.js';
import { UsageError, commandName, usageError } from './usage-error.js';

describe('commandName and usageError', () => {
  it('name the command as vigil <command> <subcommand>', () => {
    assert.equal(commandName('exception', 'accept'), 'vigil exception accept');
    assert.equal(commandName('report'), 'vigil report');
    assert.equal(commandName('attest', undefined), 'vigil attest');
    const err = usageError('exception', 'accept', '--owner is required');
    assert.ok(err instanceof UsageError);
    assert.equal(err.message, 'vigil exception accept: --owner is required');
  });
});

describe('osUser and cliRequester', () => {
  it('take the OS account, then $USER, then "unknown"', () => {
    assert.equal(
      osUser(() => ({ username: 'alice' }), { USER: 'bob' }),
      'alice',
    );
    const noPasswdEntry = () => {
      throw Object.assign(new Error('uv_os_get_passwd returned ENOENT'), { code: 'ERR_SYSTEM_ERROR' });
    };
    assert.equal(osUser(noPasswdEntry, { USER: 'bob' }), 'bob');
    assert.equal(osUser(noPasswdEntry, {}), 'unknown');
    assert.equal(cliRequester('alice'), 'cli:alice');
  });
});
