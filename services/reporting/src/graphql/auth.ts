import { GraphQLError } from 'graphql';
import { ERROR_CODES } from './api-errors.js';
import type { Principal, Role } from './permissions.js';

/** What the API needs of the token store: an active token's role and clusters, or nothing. */
export interface TokenVerifier {
  verify(token: string): Promise<{ id: string; role: Role; clusters: readonly string[] } | undefined>;
}

export interface ApiContext {
  readonly principal: Principal;
}

// An error thrown while the context is made ends the request before any resolver runs; Apollo answers it with
// the status in extensions.http, so a missing or bad token is a real HTTP 401 with a Bearer challenge.
function unauthenticated(message: string, challenge: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: ERROR_CODES.unauthenticated,
      http: { status: 401, headers: new Map([['www-authenticate', challenge]]) },
    },
  });
}

/** The caller of a request from its Authorization header; throws a 401 error when it names no active token. */
export async function authenticate(
  header: string | string[] | undefined,
  tokens: TokenVerifier,
): Promise<Principal> {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value)
    throw unauthenticated(
      'authentication required: send "Authorization: Bearer <token>" (mint one with vigil token create)',
      'Bearer realm="vigil"',
    );
  const m = /^Bearer\s+(\S+)\s*$/i.exec(value);
  if (!m?.[1])
    throw unauthenticated(
      'the Authorization header is not "Bearer <token>"',
      'Bearer realm="vigil", error="invalid_request"',
    );
  const token = await tokens.verify(m[1]);
  if (!token)
    throw unauthenticated(
      'the bearer token is unknown or revoked',
      'Bearer realm="vigil", error="invalid_token"',
    );
  return { tokenId: token.id, role: token.role, clusters: [...token.clusters] };
}
