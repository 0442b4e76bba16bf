import { hostname } from 'node:os';
import { encodeEnvelope, newEnvelope, topicFor } from '@vigil/contracts';
import { DetectionCloseError, detectionClosed } from '@vigil/runtime-rules';
import type { Deployment } from '../deployment.js';
import type { Output } from '../output.js';
import { VIGIL_VERSION } from '../pipeline.js';
import { osUser } from '../cli-user.js';
import { commandName, usageError } from '../usage-error.js';

export interface AckCommandInput {
  /** The log the close goes on, and the database whose store says which findings exist. */
  deployment: Pick<Deployment, 'eventLog' | 'sql'>;
  /** The positional arguments after `ack`: the runtime finding id. */
  args: readonly string[];
  cluster: string;
  /** --reason: why the detection is acknowledged (required). */
  reason: string | undefined;
  /** --by: who acknowledges it; default the OS user at this host. */
  by?: string;
  /** --exception: the risk acceptance that covers it; the close is then `excepted`. */
  exceptionId?: string;
  out: Output;
  clock?: () => Date;
}

/** Checks `vigil ack <finding-id> --reason TEXT` before anything is started. Throws UsageError. */
export function ackArgs(args: readonly string[], reason: string | undefined): string {
  const [id, ...rest] = args;
  if (!id || rest.length > 0) throw usageError('ack', undefined, 'give exactly one runtime finding id');
  if (!reason?.trim())
    throw usageError('ack', undefined, `${id}: --reason is required (say why it is acknowledged)`);
  return id;
}

/** Exit code for an id no finding of the cluster has: an input error, like usage errors. */
export const EXIT_NO_SUCH_FINDING = 2;

/**
 * `vigil ack <finding-id> --reason TEXT [--by NAME] [--exception ID]`: closes a runtime detection's window by
 * publishing a DetectionClosed; the next snapshot no longer counts it open unless it is seen again afterwards.
 * The id must be a finding the deployment's store holds for the cluster (exit 2 "no such finding" otherwise): a
 * mistyped id would publish a close of nothing and look like an acknowledgement on the record.
 */
export async function ackCommand(i: AckCommandInput): Promise<number> {
  const id = ackArgs(i.args, i.reason);
  const at = (i.clock ?? (() => new Date()))();
  let closed;
  try {
    closed = detectionClosed({
      findingId: id,
      cluster: i.cluster,
      reason: i.exceptionId ? 'excepted' : 'acknowledged',
      by: i.by ?? `${osUser()}@${hostname()}`,
      note: i.reason ?? '',
      ...(i.exceptionId ? { exceptionId: i.exceptionId } : {}),
      at,
    });
  } catch (err) {
    if (err instanceof DetectionCloseError) throw usageError('ack', undefined, err.message);
    throw err;
  }
  // The store's findings table is keyed by (scope, finding_id); the scope is the cluster.
  const known = await i.deployment.sql.query<{ found: number }>(
    'SELECT 1 AS found FROM findings WHERE scope = $1 AND finding_id = $2 LIMIT 1',
    [i.cluster, id],
  );
  if (known.rows.length === 0) {
    i.out.warn(
      `${commandName('ack')}: ${id}: no such finding in cluster "${i.cluster}" (vigil report lists the findings; nothing was published)`,
    );
    return EXIT_NO_SUCH_FINDING;
  }
  const env = newEnvelope({
    payload: { case: 'detectionClosed', value: closed },
    scope: { tenant: '', cluster: i.cluster },
    subjectKey: id,
    producer: { service: 'vigil-cli', version: VIGIL_VERSION, instance: `${hostname()}-${process.pid}` },
    clock: () => at,
  });
  await i.deployment.eventLog.publish([{ topic: topicFor(env), key: id, value: encodeEnvelope(env) }]);
  i.out.result(
    `${id} ${i.exceptionId ? `excepted (${i.exceptionId})` : 'acknowledged'} by ${closed.closedBy} at ${at.toISOString()}`,
  );
  return 0;
}
