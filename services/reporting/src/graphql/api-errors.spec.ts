import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GraphQLError } from 'graphql';
import { ERROR_CODES, apiError, formatApiError } from './api-errors.js';

function logged() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    logger: { error: (_msg: string, fields: Record<string, unknown>) => void lines.push(fields) },
  };
}

describe('formatApiError', () => {
  it('passes an error the API raised on purpose, without its stack', () => {
    const { lines, logger } = logged();
    const ours = apiError(ERROR_CODES.forbidden, 'role viewer may not scan:request');
    const wrapped = new GraphQLError(ours.message, { originalError: ours, path: ['requestScan'] });
    const out = formatApiError(logger)(
      {
        message: ours.message,
        path: ['requestScan'],
        extensions: { code: 'FORBIDDEN', stacktrace: ['at x'] },
      },
      wrapped,
    );
    assert.deepEqual(out, {
      message: ours.message,
      path: ['requestScan'],
      extensions: { code: 'FORBIDDEN' },
    });
    assert.equal(lines.length, 0);
  });

  it('turns anything else into "internal error" with a correlation id that is logged with the real error', () => {
    const { lines, logger } = logged();
    const cause = new Error('relation "snapshots" does not exist at 10.0.3.7:5432');
    const wrapped = new GraphQLError(cause.message, { originalError: cause, path: ['snapshot'] });
    const out = formatApiError(logger)(
      { message: cause.message, path: ['snapshot'], extensions: { code: 'INTERNAL_SERVER_ERROR' } },
      wrapped,
    );
    assert.equal(out.message, 'internal error');
    assert.doesNotMatch(JSON.stringify(out), /snapshots|10\.0\.3\.7/);
    const id = out.extensions?.['correlationId'];
    assert.match(String(id), /^[0-9a-f-]{36}$/);
    assert.equal(lines[0]?.['correlationId'], id);
    assert.match(String(lines[0]?.['error']), /relation "snapshots" does not exist/);
  });

  it('does not let a plain error pass by borrowing a known code', () => {
    const { logger } = logged();
    const sneaky = Object.assign(new Error('password=hunter2'), { extensions: { code: 'BAD_USER_INPUT' } });
    const wrapped = new GraphQLError(sneaky.message, { originalError: sneaky });
    const out = formatApiError(logger)(
      { message: sneaky.message, extensions: { code: 'BAD_USER_INPUT' } },
      wrapped,
    );
    assert.equal(out.message, 'internal error');
  });
});
