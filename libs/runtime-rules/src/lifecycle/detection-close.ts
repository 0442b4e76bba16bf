import {
  DetectionCloseReason,
  DetectionClosedSchema,
  create,
  timestampFromDate,
  type DetectionClosed,
} from '@vigil/contracts';

// Closing a runtime detection by hand: the one shape `vigil ack` and POST /v1/detections/{id}/ack both publish.
// Quiet closes are derived by the reporting fold from the log's own times and need no producer.

export type ManualCloseReason = 'acknowledged' | 'excepted';

export interface DetectionCloseInput {
  findingId: string;
  cluster: string;
  tenant?: string;
  reason: ManualCloseReason;
  /** Who closes it; required, because an acknowledgement nobody owns is no evidence of review (10.7.3). */
  by: string;
  /** Why, in the closer's words; required for the same reason. */
  note: string;
  /** For `excepted`: the risk acceptance (ExceptionRecorded id) that covers the detection. */
  exceptionId?: string;
  at: Date;
}

/** A close request that cannot be published; the message names the field and the problem. */
export class DetectionCloseError extends Error {
  override readonly name = 'DetectionCloseError';
}

// Only runtime findings have a window (`runtime-` plus the 128-bit id digest, see @vigil/contracts findingId).
const RUNTIME_FINDING_ID = /^runtime-[0-9a-f]{32}$/;
const MAX_TEXT = 2000;

export function detectionClosed(input: DetectionCloseInput): DetectionClosed {
  const fail = (what: string): never => {
    throw new DetectionCloseError(`closing detection "${input.findingId.slice(0, 80)}": ${what}`);
  };
  if (!RUNTIME_FINDING_ID.test(input.findingId))
    fail('not a runtime finding id (expected runtime- and 32 hex digits)');
  if (!input.cluster) fail('no cluster (scope) given');
  const by = input.by.trim();
  const note = input.note.trim();
  if (!by) fail('no closer given: say who acknowledges it');
  if (!note) fail('no reason given: say why it is acknowledged');
  if (by.length > MAX_TEXT || note.length > MAX_TEXT)
    fail(`the closer and the reason must each be at most ${MAX_TEXT} characters`);
  const exceptionId = input.exceptionId?.trim() ?? '';
  if (input.reason === 'excepted' && !exceptionId)
    fail('reason excepted needs the exception id that covers it');
  if (input.reason === 'acknowledged' && exceptionId) fail('an exception id is only for reason excepted');
  if (Number.isNaN(input.at.getTime())) fail('the close time is not a valid date');
  return create(DetectionClosedSchema, {
    findingId: input.findingId,
    scope: { tenant: input.tenant ?? '', cluster: input.cluster },
    reason:
      input.reason === 'acknowledged' ? DetectionCloseReason.ACKNOWLEDGED : DetectionCloseReason.EXCEPTED,
    closedAt: timestampFromDate(input.at),
    closedBy: by,
    note,
    exceptionId,
  });
}
