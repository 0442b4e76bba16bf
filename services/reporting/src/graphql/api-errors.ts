import { randomUUID } from 'node:crypto';
import { Catch } from '@nestjs/common';
import type { GqlExceptionFilter } from '@nestjs/graphql';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';

// Errors the API means to show: each carries one of these codes. Anything else (a bug, a database error, a
// decoding failure) is an internal detail and leaves the process only as "internal error" and a correlation id.
export const ERROR_CODES = {
  unauthenticated: 'UNAUTHENTICATED',
  forbidden: 'FORBIDDEN',
  badInput: 'BAD_USER_INPUT',
  notFound: 'NOT_FOUND',
  unavailable: 'UNAVAILABLE',
  tooDeep: 'QUERY_TOO_DEEP',
  tooCostly: 'QUERY_TOO_COSTLY',
} as const;

// Codes graphql-js and Apollo give to problems with the request itself; their messages describe the request only.
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
]);

const SHOWN = new Set<string>([...Object.values(ERROR_CODES), ...REQUEST_CODES]);

export function apiError(
  code: (typeof ERROR_CODES)[keyof typeof ERROR_CODES],
  message: string,
  extra: Record<string, unknown> = {},
): GraphQLError {
  return new GraphQLError(message, { extensions: { ...extra, code } });
}

export interface ErrorLogger {
  error(msg: string, fields: Record<string, unknown>): void;
}

/**
 * Apollo's formatError: a known code passes (without stack traces), anything else becomes "internal error" with a
 * correlation id that is logged beside the real error, so an operator can find it and a caller learns nothing.
 */
export function formatApiError(logger: ErrorLogger) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.['code'];
    // An error thrown by a resolver reaches here wrapped; only one we built ourselves keeps its code.
    const original = error instanceof GraphQLError ? error.originalError : undefined;
    const ours = original === undefined || original instanceof GraphQLError;
    if (typeof code === 'string' && SHOWN.has(code) && ours) {
      const { stacktrace: _stack, ...extensions } = formatted.extensions ?? {};
      void _stack;
      return { ...formatted, extensions };
    }
    const correlationId = randomUUID();
    const cause = original ?? error;
    logger.error('graphql request failed', {
      correlationId,
      path: formatted.path?.join('.') ?? null,
      error: cause instanceof Error ? (cause.stack ?? cause.message) : String(cause),
    });
    return {
      message: 'internal error',
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: { code: 'INTERNAL_SERVER_ERROR', correlationId },
    };
  };
}

/**
 * Hands an error the API raised on purpose (a GraphQLError: bad input, not found, forbidden) back to GraphQL as the
 * field's error. Without it, Nest's external exception handler logs every such error at level error with its stack,
 * as if the service had failed (nestjs/graphql#2060). Anything else still goes to that handler, and formatApiError
 * logs it with its correlation id.
 */
@Catch(GraphQLError)
export class CallerErrorFilter implements GqlExceptionFilter {
  catch(exception: GraphQLError): GraphQLError {
    return exception;
  }
}
