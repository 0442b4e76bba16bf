import { hostname, userInfo } from 'node:os';
import { encodeEnvelope, newEnvelope, topicFor } from '@vigil/contracts';
import { DetectionCloseError, detectionClosed } from '@vigil/runtime-rules';
import type { Deployment } from '../deployment.js';
import type { Output } from '../output.js';
import { VIGIL_VERSION } from '../pipeline.js';
import { UsageError } from '../usage-error.js';

export interface AckCommandInput {
  deployment: Pick<Deployment, 'eventLog'>;
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
  if (!id || rest.length > 0) throw new UsageError('vigil ack: give exactly one runtime finding id');
  if (!reason?.trim())
    throw new UsageError(`vigil ack ${id}: --reason is required (say why it is acknowledged)`);
  return id;
}

/**
 * `vigil ack <finding-id> --reason TEXT [--by NAME] [--exception ID]`: closes a runtime detection's window by
 * publishing a DetectionClosed; the next snapshot no longer counts it open unless it is seen again afterwards.
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
      by: i.by ?? `${userInfo().username}@${hostname()}`,
      note: i.reason ?? '',
      ...(i.exceptionId ? { exceptionId: i.exceptionId } : {}),
      at,
    });
  } catch (err) {
    if (err instanceof DetectionCloseError) throw new UsageError(`vigil ack: ${err.message}`);
    throw err;
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
