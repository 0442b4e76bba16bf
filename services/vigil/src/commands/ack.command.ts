import { hostname } from 'node:os';
import {
  DetectionCloseReason,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  timestampDate,
  topicFor,
  type DetectionClosed,
  type Timestamp,
} from '@vigil/contracts';
import { DetectionCloseError, detectionClosed } from '@vigil/runtime-rules';
import type { Deployment } from '../deployment.js';
import type { Output } from '../output.js';
import { VIGIL_VERSION } from '../pipeline.js';
import { osUser } from '../cli-user.js';
import { commandName, usageError } from '../usage-error.js';
import { snapshotLine } from './exception.command.js';
import type { SnapshotRequester } from './snapshots.command.js';

export interface AckCommandInput {
  /**
   * The log the close goes on (and is read back from, to see whether the detection is closed already), and the
   * database whose store says which findings exist.
   */
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
  /** Requests the snapshot that includes the close; without it (--no-snapshot) the output says none was made. */
  snapshot?: SnapshotRequester;
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
 * mistyped id would publish a close of nothing and look like an acknowledgement on the record. A detection already
 * closed the same way and not seen since is left as it is (exit 0, "already acknowledged"): a second close would
 * re-stamp the first acknowledgement with a later time and another name.
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
  const known = await i.deployment.sql.query<{ last_seen: Date | null }>(
    'SELECT last_seen FROM findings WHERE scope = $1 AND finding_id = $2 LIMIT 1',
    [i.cluster, id],
  );
  if (known.rows.length === 0) {
    i.out.warn(
      `${commandName('ack')}: ${id}: no such finding in cluster "${i.cluster}" (vigil report lists the findings; nothing was published)`,
    );
    return EXIT_NO_SUCH_FINDING;
  }
  if (i.exceptionId) {
    // A close "excepted" under an exception that is not there would hide a detection on no one's authority.
    const standing = await exceptionStanding(i.deployment, i.cluster, i.exceptionId, at);
    if (standing !== 'active') {
      i.out.warn(
        `${commandName('ack')}: ${id}: --exception ${i.exceptionId} ${standing} (vigil exception list shows them); nothing was published`,
      );
      return EXIT_NO_SUCH_FINDING;
    }
  }
  const previous = await openClose(i.deployment, i.cluster, id, known.rows[0]!.last_seen);
  if (previous && sameClose(previous, closed)) {
    i.out.result(
      `${id} is already ${closeWords(previous)} by ${previous.closedBy} at ${isoOf(previous.closedAt)} and not seen since; nothing was published`,
    );
    return 0;
  }
  const env = newEnvelope({
    payload: { case: 'detectionClosed', value: closed },
    scope: { tenant: '', cluster: i.cluster },
    subjectKey: id,
    producer: { service: 'vigil-cli', version: VIGIL_VERSION, instance: `${hostname()}-${process.pid}` },
    clock: () => at,
  });
  await i.deployment.eventLog.publish([{ topic: topicFor(env), key: id, value: encodeEnvelope(env) }]);
  // As accepting or attesting does: a version that includes the close, so the next vigil report shows it.
  const snapshot = await snapshotLine(
    { cluster: i.cluster, snapshot: i.snapshot },
    { command: commandName('ack'), reason: `ack ${id}`, what: 'detection', id },
  );
  i.out.result(`${id} ${closeWords(closed)} by ${closed.closedBy} at ${at.toISOString()}\n${snapshot}`);
  return 0;
}

/**
 * Whether the exception a close cites stands now in the cluster: read from the log (the exceptions topic), as a
 * `vigil exception accept --no-snapshot` a minute ago is on the log only. The words say what is wrong otherwise.
 */
async function exceptionStanding(
  deployment: Pick<Deployment, 'eventLog'>,
  cluster: string,
  exceptionId: string,
  at: Date,
): Promise<string> {
  let expiresAt: number | undefined;
  let recorded = false;
  let revoked = false;
  await deployment.eventLog.replay([TOPICS.exceptions], async (records) => {
    for (const r of records) {
      const env = decodeEnvelope(r.value);
      const p = env.payload;
      if (p.case !== 'exceptionRecorded' && p.case !== 'exceptionRevoked') continue;
      if (p.value.exceptionId !== exceptionId) continue;
      if ((p.value.scope?.cluster || env.scope?.cluster || '') !== cluster) continue;
      if (p.case === 'exceptionRevoked') revoked = true;
      else {
        recorded = true;
        expiresAt = p.value.expiresAt ? millis(p.value.expiresAt) : undefined;
      }
    }
  });
  if (!recorded) return `is not an exception of cluster "${cluster}"`;
  if (revoked) return 'was revoked';
  if (expiresAt !== undefined && expiresAt <= at.getTime())
    return `expired at ${new Date(expiresAt).toISOString()}`;
  return 'active';
}

/**
 * The close that holds the detection's window shut now: the latest DetectionClosed of the finding in the cluster,
 * if no occurrence came after it. Read from the log, not the store, because the store only has what a pipeline
 * folded, and `vigil ack` runs none: a close published a minute ago by the same command is on the log only. The
 * log's reports of the finding and the store's last_seen both count as occurrences.
 */
async function openClose(
  deployment: Pick<Deployment, 'eventLog'>,
  cluster: string,
  id: string,
  storeLastSeen: Date | null,
): Promise<DetectionClosed | undefined> {
  let latest: DetectionClosed | undefined;
  let lastSeen = storeLastSeen?.getTime() ?? -Infinity;
  await deployment.eventLog.replay([TOPICS.findings.runtime], async (records) => {
    for (const r of records) {
      // Every event of a runtime finding is keyed by its id: skip the others without decoding them.
      if (r.key !== id) continue;
      const env = decodeEnvelope(r.value);
      if ((env.scope?.cluster ?? '') !== cluster) continue;
      const p = env.payload;
      if (p.case === 'detectionClosed' && p.value.findingId === id) {
        if (!latest || millis(p.value.closedAt) >= millis(latest.closedAt)) latest = p.value;
      } else if (p.case === 'findingReported' && p.value.finding?.id === id) {
        const f = p.value.finding;
        const seen = f.lastSeen ?? f.window?.end ?? env.occurredAt;
        lastSeen = Math.max(lastSeen, millis(seen));
      }
    }
  });
  // As the snapshot folds it (runtime-window.ts): a close covers the occurrences up to it.
  return latest && millis(latest.closedAt) >= lastSeen ? latest : undefined;
}

// A second close of the same kind would only re-stamp the first; a different one (acknowledged, now excepted
// under an exception, or another exception) is news for the record.
function sameClose(a: DetectionClosed, b: DetectionClosed): boolean {
  return a.reason === b.reason && a.exceptionId === b.exceptionId;
}

function closeWords(c: DetectionClosed): string {
  if (c.reason === DetectionCloseReason.EXCEPTED) return `excepted (${c.exceptionId})`;
  return c.reason === DetectionCloseReason.QUIET ? 'closed as quiet' : 'acknowledged';
}

function millis(t: Timestamp | undefined): number {
  return t ? timestampDate(t).getTime() : -Infinity;
}

function isoOf(t: Timestamp | undefined): string {
  return t ? timestampDate(t).toISOString() : '(no time)';
}
