import type { Sql } from '@vigil/store';
import { UsageError } from '../usage-error.js';

// Every event names its scope, and a scope exists from its first event on: a mistyped --cluster on a command that
// publishes without scanning anything (a snapshot request, an exception, an attestation) would start a new, empty
// scope for good. Those commands first ask which clusters the deployment has seen.

/**
 * Clusters with at least one recorded event other than snapshot requests and announcements (a request alone is
 * what a mistyped --cluster leaves behind; it must not make the typo look known the second time), sorted.
 */
export async function knownClusters(sql: Pick<Sql, 'query'>): Promise<string[]> {
  const rows = await sql.query<{ scope: string }>(
    `SELECT DISTINCT scope FROM events
      WHERE event_type NOT IN ('vigil.v1.SnapshotRequested', 'vigil.v1.SnapshotPublished')
      ORDER BY 1`,
  );
  return rows.rows.map((r) => r.scope);
}

/**
 * Throws a UsageError (exit 2) naming the known clusters when `cluster` is not one of them. `outcome` ends the
 * message: what the command did not do (a command that only reads says so instead).
 */
export async function requireKnownCluster(
  sql: Pick<Sql, 'query'>,
  cluster: string,
  command: string,
  outcome = 'nothing was published',
): Promise<void> {
  const known = await knownClusters(sql);
  if (known.includes(cluster)) return;
  const hint =
    known.length === 0
      ? 'no cluster has recorded events yet (scan one first: vigil scan image|k8s|host ...)'
      : `the clusters with recorded events are ${known.join(', ')}`;
  throw new UsageError(`${command}: cluster "${cluster}" has no recorded events; ${hint}; ${outcome}`);
}
