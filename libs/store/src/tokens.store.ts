// The reporting API's bearer tokens over the Sql port. A token is 32 random bytes shown once at creation; the
// table keeps its SHA-256 only. A slow password hash buys nothing here: the secret has 256 bits of entropy, so the
// hash cannot be brute-forced, and a fast hash keeps every API request's look-up cheap.
import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from './sql.port.js';

export const TOKEN_ROLES = ['viewer', 'auditor', 'admin'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** The cluster pattern that grants every cluster of the deployment. */
export const ALL_CLUSTERS = '*';

// A recognisable prefix lets secret scanners find leaked tokens.
const TOKEN_PREFIX = 'vgt_';
const TOKEN_TEXT = /^vgt_[A-Za-z0-9_-]{43}$/;
const TOKEN_ID = /^tok_[0-9a-f]{16}$/;
const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,252}$/;

export interface StoredToken {
  id: string;
  role: TokenRole;
  /** Scope keys the token may see (a cluster name, "tenant/cluster"), or ALL_CLUSTERS. */
  clusters: string[];
  description: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewToken {
  role: TokenRole;
  clusters: readonly string[];
  description?: string;
}

export interface MintedToken {
  /** The bearer token itself: shown once, never stored. */
  token: string;
  record: StoredToken;
}

export interface TokenStore {
  create(input: NewToken): Promise<MintedToken>;
  /** The active token the text names; undefined for an unknown, malformed or revoked one. */
  verify(token: string): Promise<StoredToken | undefined>;
  /** True when the token was active and is now revoked; false when it was unknown or already revoked. */
  revoke(id: string, at?: Date): Promise<boolean>;
  get(id: string): Promise<StoredToken | undefined>;
  list(): Promise<StoredToken[]>;
}

/** SHA-256 hex of the token text: what the table stores and looks up. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function isTokenRole(value: string): value is TokenRole {
  return (TOKEN_ROLES as readonly string[]).includes(value);
}

/** Throws an error naming the bad value; returns the clusters sorted and deduplicated. */
export function checkTokenInput(input: NewToken): string[] {
  if (!isTokenRole(input.role))
    throw new Error(`token role "${String(input.role)}" is not one of ${TOKEN_ROLES.join(', ')}`);
  if (input.clusters.length === 0) throw new Error('a token needs at least one cluster');
  for (const c of input.clusters) {
    if (c !== ALL_CLUSTERS && !CLUSTER.test(c))
      throw new Error(
        `token cluster "${c.slice(0, 60)}" is not a cluster name (letters, digits, . _ : / -; or "${ALL_CLUSTERS}" for all)`,
      );
  }
  return [...new Set(input.clusters)].sort();
}

interface TokenRow {
  id: string;
  role: string;
  clusters: string[];
  description: string;
  created_at: Date;
  revoked_at: Date | null;
}

const toToken = (r: TokenRow): StoredToken => ({
  id: r.id,
  role: r.role as TokenRole,
  clusters: r.clusters,
  description: r.description,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

const COLUMNS = 'id, role, clusters, description, created_at, revoked_at';

/** The api_tokens table's store (run runMigrations first). The caller owns and closes `sql`. */
export function createTokenStore(sql: Sql): TokenStore {
  return {
    async create(input) {
      const clusters = checkTokenInput(input);
      const description = (input.description ?? '').trim();
      const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
      const id = `tok_${randomBytes(8).toString('hex')}`;
      const r = await sql.query<TokenRow>(
        `INSERT INTO api_tokens (id, token_hash, role, clusters, description)
              VALUES ($1, $2, $3, $4::text[], $5)
           RETURNING ${COLUMNS}`,
        [id, hashToken(token), input.role, clusters, description],
      );
      return { token, record: toToken(r.rows[0] as TokenRow) };
    },
    async verify(token) {
      if (!TOKEN_TEXT.test(token)) return undefined;
      const r = await sql.query<TokenRow>(
        `SELECT ${COLUMNS} FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL`,
        [hashToken(token)],
      );
      return r.rows[0] ? toToken(r.rows[0]) : undefined;
    },
    async revoke(id, at) {
      if (!TOKEN_ID.test(id))
        throw new Error(`"${id.slice(0, 60)}" is not a token id (tok_ and 16 hex digits)`);
      const r = await sql.query(
        `UPDATE api_tokens SET revoked_at = coalesce($2::timestamptz, now())
          WHERE id = $1 AND revoked_at IS NULL`,
        [id, at ?? null],
      );
      return r.rowCount === 1;
    },
    async get(id) {
      const r = await sql.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens WHERE id = $1`, [id]);
      return r.rows[0] ? toToken(r.rows[0]) : undefined;
    },
    async list() {
      const r = await sql.query<TokenRow>(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at, id`);
      return r.rows.map(toToken);
    },
  };
}
