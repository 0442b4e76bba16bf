import { type Finding } from '@vigil/contracts';
import { type RuntimeDetection, type RuntimeEvent, type SensorKind } from './detection.model.js';
import {
  readEachEvent,
  type RawRuntimeEvent,
  type ReadLimits,
  type SkippedLine,
} from './input/read-events.js';
import { sensorHealthFindings, type SensorRecord } from './meaning/sensor-health.js';
import { rememberingInstantOf, toFindings, type Instant } from './meaning/to-findings.js';
import { type RuntimeInventoryPort, type RuntimePolicyConfig } from './normalizers/normalizer.model.js';
import { type RuntimeFormat } from './registry.js';

export interface IngestEventsInput {
  input: string | Uint8Array;
  /** Absent: each object's sensor is recognised by the normalizers' predicates. */
  format?: RuntimeFormat;
  clock: () => Date;
  /** The cluster (scope) the events come from; part of every finding's asset identity. */
  cluster?: string;
  /** Names the input in errors. */
  name?: string;
  inventory?: RuntimeInventoryPort;
  policy?: Partial<RuntimePolicyConfig>;
  limits?: Partial<ReadLimits>;
}

export interface IngestCounts {
  lines: number;
  blankLines: number;
  events: number;
  bySensor: Record<SensorKind, number>;
  telemetry: number;
  detections: number;
  findings: number;
  skippedLines: number;
}

/** A sensor's record about itself; `drops` sums the dropped-event counters it reports (null: none reported). */
export interface SensorTelemetry {
  line: number;
  what: string;
  node: string | null;
  drops: number | null;
  time: string | null;
  kind: 'metrics' | 'drop-alert' | 'other';
}

export interface IngestEventsResult {
  events: RuntimeEvent[];
  detections: RuntimeDetection[];
  findings: Finding[];
  skipped: SkippedLine[];
  /** Sensor self-telemetry (Falco metrics snapshots): read, never a detection. */
  telemetry: SensorTelemetry[];
  counts: IngestCounts;
  encoding: string;
}

// Every record that says when a node's sensor was last heard from; events timed by our clock say nothing of it.
// Only nodes that sent telemetry can have a health finding (drops and heartbeats come from telemetry), so the events
// of other nodes are left out: a batch of plain alerts costs nothing here.
function sensorRecords(
  events: readonly RuntimeEvent[],
  telemetry: readonly SensorTelemetry[],
): SensorRecord[] {
  const out: SensorRecord[] = [];
  const reporting = new Set<string>();
  for (const t of telemetry) if (t.node && t.time) reporting.add(t.node);
  if (reporting.size === 0) return out;
  for (const e of events)
    if (e.node && !e.timeFromClock && e.sensor !== 'k8s-audit' && reporting.has(e.node))
      out.push({ node: e.node, time: e.time, line: e.line, kind: 'event' });
  for (const t of telemetry)
    if (t.node && t.time)
      out.push({ node: t.node, time: t.time, line: t.line, drops: t.drops, kind: t.kind });
  return out;
}

function timeProblem(time: string, instant: (rfc3339: string) => Instant): string | null {
  try {
    instant(time);
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

// Twice Falco's default metrics.interval (1h), so one late snapshot is not a control failure.
export const DEFAULT_SENSOR_SILENCE_MS = 2 * 60 * 60 * 1000;
export const DEFAULT_RUNTIME_POLICY: RuntimePolicyConfig = {
  egressAllowList: [],
  sensorSilenceMs: DEFAULT_SENSOR_SILENCE_MS,
};
export const DEFAULT_CLUSTER = 'default';

/**
 * The runtime engine's one entry: sensor output in, normalized events, detections and PCI-mapped findings out.
 * Throws RuntimeInputError when the input holds no event at all; everything else that is not an event is in
 * `skipped` with its line and reason.
 */
export function ingestEvents(req: IngestEventsInput): IngestEventsResult {
  const policy = { ...DEFAULT_RUNTIME_POLICY, ...req.policy };
  const events: RuntimeEvent[] = [];
  const detections: RuntimeDetection[] = [];
  const telemetry: SensorTelemetry[] = [];
  const bySensor: Record<SensorKind, number> = { falco: 0, tetragon: 0, 'k8s-audit': 0 };
  const problems: SkippedLine[] = [];
  const instant = rememberingInstantOf();
  // Each event is normalized as it is read, so only the normalized events outlive their parsed JSON.
  const take = (raw: RawRuntimeEvent): void => {
    const outcome = raw.normalizer.normalize(raw.value, {
      line: raw.line,
      clock: req.clock,
      inventory: req.inventory,
    });
    bySensor[raw.normalizer.sensor]++;
    if ('telemetry' in outcome) {
      const t = outcome.time !== null && timeProblem(outcome.time, instant) === null ? outcome.time : null;
      telemetry.push({
        line: raw.line,
        what: outcome.telemetry,
        node: outcome.node,
        drops: outcome.drops,
        time: t,
        kind: outcome.kind,
      });
      return;
    }
    // A wrong-typed time would make the event unplaceable in any window: refuse that event, keep the batch.
    const problem = timeProblem(outcome.event.time, instant);
    if (problem) {
      problems.push({ line: raw.line, reason: `${raw.normalizer.sensor} event: ${problem}` });
      return;
    }
    events.push(outcome.event);
    for (const d of raw.normalizer.detect(outcome.event, { inventory: req.inventory, policy }, raw.value))
      detections.push(d);
  };
  const read = readEachEvent(req.input, { format: req.format, name: req.name, limits: req.limits }, take);
  const skipped = [...read.skipped, ...problems];
  skipped.sort((a, b) => a.line - b.line);
  const cluster = req.cluster ?? DEFAULT_CLUSTER;
  const findings = [
    ...toFindings(detections, cluster, instant),
    ...sensorHealthFindings(sensorRecords(events, telemetry), cluster, policy.sensorSilenceMs, instant),
  ];
  return {
    events,
    detections,
    findings,
    skipped,
    telemetry,
    encoding: read.encoding,
    counts: {
      lines: read.lines,
      blankLines: read.blankLines,
      events: read.events,
      bySensor,
      telemetry: telemetry.length,
      detections: detections.length,
      findings: findings.length,
      skippedLines: skipped.length,
    },
  };
}
