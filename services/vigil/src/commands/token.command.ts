import { table, type Output } from '../output.js';
import { UsageError, usageError } from '../usage-error.js';

// What the command needs of @vigil/store's token store (createTokenStore(deployment.sql)).
export interface TokenAdmin {
  create(input: {
    role: 'viewer' | 'auditor' | 'admin';
    clusters: readonly string[];
    description?: string;
  }): Promise<{
    token: string;
    record: TokenRecord;
  }>;
  revoke(id: string): Promise<boolean>;
  get(id: string): Promise<TokenRecord | undefined>;
  list(): Promise<TokenRecord[]>;
}

export interface TokenRecord {
  id: string;
  role: string;
  clusters: string[];
  description: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface TokenCommandInput {
  /** create | revoke | list */
  sub: string | undefined;
  /** Positionals after the subcommand (`vigil token revoke <id>`). */
  args: readonly string[];
  /** --role */
  role?: string;
  /** The clusters the token may see: --cluster when given, ['*'] for --all-clusters. */
  clusters: readonly string[];
  /** --description */
  description?: string;
  format: string;
  tokens: TokenAdmin;
  out: Output;
}

const ROLES = ['viewer', 'auditor', 'admin'] as const;

/**
 * `vigil token create --role R --cluster C | --all-clusters [--description TEXT]`, `vigil token revoke <id>`,
 * `vigil token list`: the GraphQL API's bearer tokens. A token is printed once, at creation; only its hash is kept.
 */
export async function tokenCommand(i: TokenCommandInput): Promise<number> {
  if (i.format !== 'table' && i.format !== 'json')
    throw usageError('token', i.sub, `--format ${i.format} is for scans; use table or json`);
  switch (i.sub) {
    case 'create': {
      if (i.args.length > 0) throw new UsageError(`vigil token create: unexpected argument "${i.args[0]}"`);
      const role = i.role;
      if (!role) throw new UsageError(`vigil token create: --role is required (${ROLES.join(', ')})`);
      if (!(ROLES as readonly string[]).includes(role))
        throw new UsageError(`vigil token create: --role ${role} is not one of ${ROLES.join(', ')}`);
      if (i.clusters.length === 0)
        throw new UsageError(
          'vigil token create: name the cluster the token may see with --cluster NAME (or --all-clusters)',
        );
      let minted: Awaited<ReturnType<TokenAdmin['create']>>;
      try {
        minted = await i.tokens.create({
          role: role as (typeof ROLES)[number],
          clusters: i.clusters,
          ...(i.description ? { description: i.description } : {}),
        });
      } catch (err) {
        // The store names the bad value (a cluster name it refuses); that is the user's input.
        throw new UsageError(`vigil token create: ${(err as Error).message}`);
      }
      const r = minted.record;
      if (i.format === 'json')
        i.out.result(JSON.stringify({ token: minted.token, ...recordJson(r) }, null, 2));
      else {
        i.out.result(minted.token);
        i.out.warn(
          `token ${r.id} (${r.role} on ${r.clusters.join(', ')}) created; it is shown only now — store it in a secret`,
        );
      }
      return 0;
    }
    case 'revoke': {
      const [id, ...rest] = i.args;
      if (!id || rest.length > 0)
        throw new UsageError('vigil token revoke: give exactly one token id (tok_...)');
      if (!/^tok_[0-9a-f]{16}$/.test(id))
        throw new UsageError(
          `vigil token revoke: "${id.slice(0, 60)}" is not a token id (tok_ and 16 hex digits)`,
        );
      const revoked = await i.tokens.revoke(id);
      if (!revoked) {
        const known = await i.tokens.get(id);
        throw new UsageError(
          known ? `vigil token revoke: ${id} was already revoked` : `vigil token revoke: no token ${id}`,
        );
      }
      if (i.format === 'json') i.out.result(JSON.stringify({ id, revoked: true }));
      else i.out.result(`token ${id} revoked`);
      return 0;
    }
    case 'list': {
      const all = await i.tokens.list();
      if (i.format === 'json') i.out.result(JSON.stringify(all.map(recordJson), null, 2));
      else
        i.out.result(
          table(
            ['ID', 'ROLE', 'CLUSTERS', 'CREATED', 'REVOKED', 'DESCRIPTION'],
            all.map((t) => [
              t.id,
              t.role,
              t.clusters.join(','),
              t.createdAt.toISOString(),
              t.revokedAt?.toISOString() ?? '',
              t.description,
            ]),
          ),
        );
      return 0;
    }
    default:
      throw new UsageError(
        `vigil token: ${i.sub ? `unknown subcommand "${i.sub}"` : 'give a subcommand'} (create, revoke or list)`,
      );
  }
}

function recordJson(r: TokenRecord) {
  return {
    id: r.id,
    role: r.role,
    clusters: r.clusters,
    description: r.description,
    createdAt: r.createdAt.toISOString(),
    revokedAt: r.revokedAt?.toISOString() ?? null,
  };
}
