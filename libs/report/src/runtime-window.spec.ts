import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DetectionCloseReason,
  FindingSchema,
  ScannerKind,
  TimeWindowSchema,
  create,
  newEnvelope,
  timestampFromDate,
  type EventEnvelope,
  type Finding,
} from '@vigil/contracts';
import { Events, PRODUCER, at, runtimeAlert } from './events.spec-helper.js';
import { resolveFindings } from './finding-resolution.js';
import { fold, scopeStateOf, type ScopeState } from './scope-state.js';
import { DEFAULT_RUNTIME_QUIET_PERIOD_MS, runtimeWindowOf } from './runtime-window.js';

const MINUTE = 60_000;
let closeIds = 0;

function closed(
  findingId: string,
  reason: DetectionCloseReason,
  minute: number,
  by = 'alice@example.com',
  exceptionId = '',
): EventEnvelope {
  closeIds += 1;
  const id = `00000000-0000-4000-9000-${String(closeIds).padStart(12, '0')}`;
  return newEnvelope({
    payload: {
      case: 'detectionClosed',
      value: {
        findingId,
        scope: { cluster: 'prod' },
        reason,
        closedAt: timestampFromDate(at(minute)),
        closedBy: by,
        note: 'expected during the change window',
        exceptionId,
      },
    },
    scope: { cluster: 'prod' },
    subjectKey: findingId || 'no-finding',
    producer: PRODUCER,
    clock: () => at(minute),
    newId: () => id,
  });
}

// A sensor alert whose occurrences span the given minutes, as runtime-rules' toFindings writes them.
function seen(alert: Finding, firstMinute: number, lastMinute: number): Finding {
  const start = timestampFromDate(at(firstMinute));
  const end = timestampFromDate(at(lastMinute));
  return create(FindingSchema, {
    ...alert,
    firstSeen: start,
    lastSeen: end,
    window: create(TimeWindowSchema, { start, end }),
  });
}

function scopeOf(events: EventEnvelope[]): ScopeState {
  const scope = scopeStateOf(fold(events), { cluster: 'prod' });
  assert.ok(scope, 'the events fold into scope prod');
  return scope;
}

function openIds(events: EventEnvelope[], quietPeriodMs?: number): string[] {
  const options = quietPeriodMs === undefined ? {} : { runtimeQuietPeriodMs: quietPeriodMs };
  return resolveFindings(scopeOf(events), options).open.map((o) => o.finding.id);
}

const shell = runtimeAlert('falco:Terminal shell in container', 'node-a', ['10.2.2', '11.5.1']);
const drop = runtimeAlert('runtime/sensor-events-dropped', 'node-b', ['10.7.2']);

describe('runtime detection window', () => {
  it("stays open until the quiet period has passed since the last occurrence, measured on the sensors' clock", () => {
    const e = new Events();
    const reported = e.reported('runtime-http:prod:falco', seen(shell, 1, 10), 11);
    const sevenDays = DEFAULT_RUNTIME_QUIET_PERIOD_MS / MINUTE;
    // The runtime clock is the latest runtime occurrence of the scope: here another node's detection.
    const justBefore = e.reported(
      'runtime-http:prod:falco',
      seen(drop, 12, 10 + sevenDays - 1),
      10 + sevenDays,
    );
    assert.deepEqual(openIds([reported, justBefore]).sort(), [shell.id, drop.id].sort());
    const onTheDot = e.reported(
      'runtime-http:prod:falco',
      seen(drop, 12, 10 + sevenDays),
      10 + sevenDays + 1,
    );
    assert.deepEqual(openIds([reported, justBefore, onTheDot]), [drop.id]);
    // Scans of other scanners do not move it: replaying an old sensor file keeps its detections open within
    // that file's timeline, and a sensor that falls silent is a finding of its own, not a reason to close.
    const laterScan = e.started('other', ScannerKind.CONFIG, 'live', 10 + 3 * sevenDays);
    assert.deepEqual(openIds([reported, laterScan]), [shell.id]);
    const w = runtimeWindowOf(
      [...scopeOf([reported]).findings.values()][0]!,
      undefined,
      timestampFromDate(at(10 + sevenDays)),
    );
    assert.equal(w.open, false);
    assert.equal(w.closed?.reason, 'quiet');
    assert.equal(w.closed?.by, 'vigil');
    assert.equal(w.closed?.at?.seconds, BigInt((at(10 + sevenDays).getTime() / 1000) | 0));
  });

  it('honours a configured quiet period', () => {
    const e = new Events();
    const events = [
      e.reported('runtime-http:prod:falco', seen(shell, 1, 10), 11),
      e.reported('runtime-http:prod:falco', seen(drop, 44, 45), 46),
    ];
    assert.deepEqual(openIds(events, 30 * MINUTE), [drop.id]);
    assert.deepEqual(openIds(events, 40 * MINUTE).sort(), [shell.id, drop.id].sort());
  });

  it('closes on acknowledgement and reopens when the detection is seen again after it', () => {
    const e = new Events();
    const first = e.reported('runtime-http:prod:falco', seen(shell, 1, 10), 11);
    const other = e.reported('runtime-http:prod:falco', seen(drop, 2, 3), 12);
    const ack = closed(shell.id, DetectionCloseReason.ACKNOWLEDGED, 20);
    assert.deepEqual(openIds([first, other, ack]), [drop.id]);
    const scope = scopeOf([first, other, ack]);
    const w = runtimeWindowOf(
      scope.findings.get(shell.id)!,
      scope.runtimeClosures?.get(shell.id),
      scope.asOf,
    );
    assert.deepEqual(
      { open: w.open, reason: w.closed?.reason, by: w.closed?.by },
      { open: false, reason: 'acknowledged', by: 'alice@example.com' },
    );
    // The same stream reports the shell again, last seen after the acknowledgement: a new window is open.
    const again = e.reported('runtime-http:prod:falco', seen(shell, 1, 25), 26);
    assert.deepEqual(openIds([first, other, ack, again]).sort(), [drop.id, shell.id].sort());
  });

  it('gives the same answer whatever order the close and the report are folded in', () => {
    const e = new Events();
    const report = e.reported('runtime-http:prod:falco', seen(shell, 1, 10), 11);
    const excepted = closed(shell.id, DetectionCloseReason.EXCEPTED, 15, 'vigil', 'exc-42');
    assert.deepEqual(openIds([excepted, report]), []);
    assert.deepEqual(openIds([report, excepted]), []);
    const scope = scopeOf([excepted, report]);
    assert.equal(scope.runtimeClosures?.get(shell.id)?.[0]?.exceptionId, 'exc-42');
  });

  it('does not let a close of one detection close another', () => {
    const e = new Events();
    const events = [
      e.reported('runtime-http:prod:falco', seen(shell, 1, 10), 11),
      e.reported('runtime-http:prod:falco', seen(drop, 1, 10), 11),
      closed(drop.id, DetectionCloseReason.ACKNOWLEDGED, 12),
    ];
    assert.deepEqual(openIds(events), [shell.id]);
  });

  it('refuses a DetectionClosed without a reason or a finding id, naming the event', () => {
    assert.throws(
      () => fold([closed(shell.id, DetectionCloseReason.UNSPECIFIED, 3)]),
      /DetectionClosed\) has no close reason/,
    );
    assert.throws(() => fold([closed('', DetectionCloseReason.QUIET, 3)]), /has an empty findingId/);
  });

  it('refuses a quiet period that is not positive', () => {
    const e = new Events();
    const scope = scopeOf([e.reported('runtime-http:prod:falco', seen(shell, 1, 10), 11)]);
    assert.throws(() => resolveFindings(scope, { runtimeQuietPeriodMs: 0 }), /quiet period 0 ms/);
  });
});
