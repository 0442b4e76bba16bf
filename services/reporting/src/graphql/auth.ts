import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import { ERROR_CODES } from './api-errors.js';
import type { Principal, Role } from './permissions.js';

/** What the API needs of the token store: an active token's role and clusters, or nothing. */
export interface TokenVerifier {
  verify(token: string): Promise<{ id: string; role: Role; clusters: readonly string[] } | undefined>;
}

type VerifiedToken = { id: string; role: Role; clusters: readonly string[] };

// How long a verified token is trusted without asking the store again: the bound on how late a revocation (or a
// change of role or clusters) takes effect on a running API. Every request looking its token up made the
// summary dashboards poll a database round trip each; a few seconds of trust removes almost all of them.
export const TOKEN_CACHE_MS = 5_000;
// Enough for every dashboard and CLI of a deployment; beyond it the oldest entry is dropped, never trusted longer.
const TOKEN_CACHE_ENTRIES = 1_000;

/**
 * A verifier that remembers active tokens for ttlMs (by their SHA-256, so the cache holds no bearer secrets).
 * Unknown and revoked tokens are never remembered: a token minted a moment ago works at once, and a guessed one
 * costs a lookup every time as before. Concurrent requests with the same token share one lookup.
 */
export function cachingVerifier(
  tokens: TokenVerifier,
  options: { ttlMs?: number; now?: () => number } = {},
): TokenVerifier {
  const ttlMs = options.ttlMs ?? TOKEN_CACHE_MS;
  const now = options.now ?? Date.now;
  if (!(ttlMs >= 0)) throw new Error(`token cache time ${ttlMs} ms is not a non-negative number`);
  const cache = new Map<string, { until: number; token: Promise<VerifiedToken | undefined> }>();
  return {
    verify(token: string) {
      const key = createHash('sha256').update(token).digest('base64');
      const at = now();
      const hit = cache.get(key);
      if (hit && hit.until > at) return hit.token;
      if (hit) cache.delete(key);
      const looked = tokens.verify(token);
      cache.set(key, { until: at + ttlMs, token: looked });
      if (cache.size > TOKEN_CACHE_ENTRIES) cache.delete(cache.keys().next().value as string);
      looked.then(
        (found) => {
          if (!found && cache.get(key)?.token === looked) cache.delete(key);
        },
        () => {
          if (cache.get(key)?.token === looked) cache.delete(key);
        },
      );
      return looked;
    },
  };
}

const cachedVerifiers = new WeakMap<TokenVerifier, TokenVerifier>();

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

/**
 * The caller of a request from its Authorization header; throws a 401 error when it names no active token. An
 * active token is trusted for TOKEN_CACHE_MS after it was looked up (see cachingVerifier).
 */
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
  let cached = cachedVerifiers.get(tokens);
  if (!cached) {
    cached = cachingVerifier(tokens);
    cachedVerifiers.set(tokens, cached);
  }
  const token = await cached.verify(m[1]);
  if (!token)
    throw unauthenticated(
      'the bearer token is unknown or revoked',
      'Bearer realm="vigil", error="invalid_token"',
    );
  return { tokenId: token.id, role: token.role, clusters: [...token.clusters] };
}
