import {
  AssetKind,
  FindingSchema,
  FindingSource,
  MatchType,
  Severity,
  create,
  findingId,
  type Finding,
} from '@vigil/contracts';
import { requirementsFor } from '@vigil/pci';
import { RUNTIME_POLICIES } from '../registry.js';
import { instantOf, timestampOf, type Instant } from './to-findings.js';

// Runtime coverage is not assumed: a sensor that drops events or goes silent is a failed security control (PCI DSS
// 10.7.2), and vigil says so instead of reporting a clean node.

const MAPPING_KEY = 'extra.security_telemetry_failure';
export const SENSOR_DROPS_RULE = 'runtime/sensor-events-dropped';
export const SENSOR_SILENT_RULE = 'runtime/sensor-silent';

/** What sensor health is judged from: when each node's sensor said anything, and what it said about itself. */
export interface SensorRecord {
  node: string;
  /** RFC 3339. */
  time: string;
  line: number;
  /** Present on self-telemetry: the dropped-event count it reports (null: none given). */
  drops?: number | null;
  kind?: 'metrics' | 'drop-alert' | 'other' | 'event';
}

interface Stamped extends SensorRecord {
  ns: bigint;
}

function nsOf(t: Instant): bigint {
  return BigInt(t.seconds) * 1_000_000_000n + BigInt(t.nanos);
}

function msOf(t: Instant): number {
  return t.seconds * 1000 + Math.floor(t.nanos / 1_000_000);
}

function finding(
  ruleId: string,
  node: string,
  cluster: string,
  location: string,
  first: string,
  last: string,
  title: string,
  description: string,
  evidence: { key: string; value: string }[],
  actual: string,
): Finding {
  const asset = { kind: AssetKind.NODE, cluster, node, name: node };
  const r = requirementsFor(MAPPING_KEY);
  const policy = RUNTIME_POLICIES[ruleId];
  if (!policy) throw new Error(`sensor health: ${ruleId} is not in RUNTIME_POLICIES`);
  const start = timestampOf(first);
  const end = timestampOf(last);
  return create(FindingSchema, {
    id: findingId({ source: FindingSource.RUNTIME, ruleId, asset, location }),
    source: FindingSource.RUNTIME,
    ruleId,
    title,
    description,
    severity: Severity.HIGH,
    pciRequirements: [...r.primary],
    asset,
    locations: [location],
    remediation: {
      summary:
        'Restore the sensor on the node (DaemonSet pod running, driver loaded, output reachable), raise its buffer or lower its rule load if it drops events, and record the gap as a control failure with its cause (10.7.3).',
    },
    evidence: [
      ...evidence,
      { key: 'first_seen', value: first },
      { key: 'last_seen', value: last },
      { key: 'pci_mapping_keys', value: MAPPING_KEY },
      { key: 'pci_secondary', value: r.secondary.join(',') },
    ],
    firstSeen: start,
    lastSeen: end,
    window: { start, end },
    detection: {
      matchType: MatchType.RUNTIME_RULE,
      unit: { id: policy.id, version: policy.version },
      record: ruleId,
      field: ruleId === SENSOR_DROPS_RULE ? 'dropped events' : 'time since the previous record',
      expected: ruleId === SENSOR_DROPS_RULE ? '0' : `at most the configured silence interval`,
      actual,
    },
  });
}

/**
 * Sensor-health findings from one input: per node, one finding when its sensor reported dropped events (Falco's
 * drop alerts and the drop counters of its metrics snapshots) and one per gap longer than `silenceMs` between two
 * records of a node that sends heartbeats. Nodes that never sent telemetry are not judged for silence: a sensor
 * that only sends alerts is rightly quiet when nothing happens. Counters in metrics snapshots are cumulative, so the
 * largest one reported is the count.
 */
export function sensorHealthFindings(
  records: readonly SensorRecord[],
  cluster: string,
  silenceMs: number,
  instant: (rfc3339: string) => Instant = instantOf,
): Finding[] {
  if (!Number.isFinite(silenceMs) || silenceMs <= 0)
    throw new Error(`sensor silence interval ${silenceMs} ms is not a positive number of milliseconds`);
  const byNode = new Map<string, Stamped[]>();
  for (const r of records) {
    const list = byNode.get(r.node) ?? [];
    list.push({ ...r, ns: nsOf(instant(r.time)) });
    byNode.set(r.node, list);
  }
  const out: Finding[] = [];
  for (const node of [...byNode.keys()].sort()) {
    const list = (byNode.get(node) ?? []).sort((a, b) =>
      a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : a.line - b.line,
    );
    const dropping = list.filter((r) => r.kind === 'drop-alert' || (r.drops ?? 0) > 0);
    const first = dropping[0];
    const last = dropping[dropping.length - 1];
    if (first && last) {
      const counts = dropping.map((r) => r.drops ?? 0);
      const max = Math.max(...counts);
      const alerts = dropping.filter((r) => r.kind === 'drop-alert').length;
      out.push(
        finding(
          SENSOR_DROPS_RULE,
          node,
          cluster,
          'sensor',
          first.time,
          last.time,
          `Runtime sensor dropped events (node ${node})`,
          `The sensor on node ${node} reported dropped events${max > 0 ? ` (up to ${max})` : ''}: the activity it missed was not inspected, so intrusion detection had a blind spot.`,
          [
            { key: 'node', value: node },
            { key: 'dropped_events_max', value: String(max) },
            { key: 'drop_alerts', value: String(alerts) },
            { key: 'reports', value: String(dropping.length) },
            {
              key: 'input_lines',
              value: dropping
                .slice(0, 20)
                .map((r) => r.line)
                .join(','),
            },
          ],
          String(max > 0 ? max : 'drop alert without a count'),
        ),
      );
    }
    const firstBeat = list.findIndex((r) => r.kind !== undefined && r.kind !== 'event');
    if (firstBeat < 0) continue;
    const limit = BigInt(Math.round(silenceMs)) * 1_000_000n;
    for (let i = firstBeat + 1; i < list.length; i++) {
      const before = list[i - 1] as Stamped;
      const after = list[i] as Stamped;
      const gap = after.ns - before.ns;
      if (gap <= limit) continue;
      out.push(
        sensorSilenceFinding({
          node,
          cluster,
          from: before.time,
          until: after.time,
          silenceMs,
          location: `silent after ${before.time}`,
          evidence: [{ key: 'input_lines', value: `${before.line},${after.line}` }],
        }),
      );
    }
  }
  return out;
}

/** A gap in what a node's sensor sent, as sensorSilenceFinding reports it. */
export interface SensorSilence {
  node: string;
  cluster: string;
  /** RFC 3339: the last time the sensor was heard from before the gap. */
  from: string;
  /** RFC 3339: when it was heard again, or, for a gap still open, the moment it became longer than the interval. */
  until: string;
  silenceMs: number;
  /** Names the gap within the node (part of the finding id): the same gap must always get the same location. */
  location: string;
  /** True while the sensor has not been heard again: the gap's end is not known yet. */
  ongoing?: boolean;
  evidence?: { key: string; value: string }[];
}

/**
 * The runtime/sensor-silent finding for one gap: shared by the in-request check above and runtime-ingest's
 * watch across requests, so a silence reads the same whichever side saw it.
 */
export function sensorSilenceFinding(s: SensorSilence): Finding {
  const gap = nsOf(instantOf(s.until)) - nsOf(instantOf(s.from));
  if (gap < 0n) throw new Error(`sensor silence on node ${s.node}: ${s.until} is before ${s.from}`);
  const minutes = Number(gap / 60_000_000_000n);
  const interval = Math.round(s.silenceMs / 60_000);
  return finding(
    SENSOR_SILENT_RULE,
    s.node,
    s.cluster,
    s.location,
    s.from,
    s.until,
    s.ongoing
      ? `Runtime sensor silent since ${s.from} (node ${s.node})`
      : `Runtime sensor silent for ${minutes} min (node ${s.node})`,
    s.ongoing
      ? `The sensor on node ${s.node} has sent nothing since ${s.from}, longer than the ${interval} min interval by ${s.until}: runtime detection is not known to be working.`
      : `The sensor on node ${s.node} sent nothing from ${s.from} to ${s.until}, longer than the ${interval} min interval: runtime detection was not known to be working then.`,
    [
      { key: 'node', value: s.node },
      { key: 'silent_from', value: s.from },
      ...(s.ongoing ? [] : [{ key: 'silent_until', value: s.until }]),
      { key: 'silence_minutes', value: String(minutes) },
      ...(s.ongoing ? [{ key: 'silence_ongoing', value: 'true' }] : []),
      ...(s.evidence ?? []),
    ],
    s.ongoing ? `no record since ${s.from}` : `${minutes} min`,
  );
}

/** One node's sensor as a delivery showed it: what runtime-ingest tells its sensor watch (SensorSeen). */
export interface SensorSighting {
  node: string;
  sensor: string;
  /** RFC 3339, the sensor's own clock; null when every record of the node was timed by ours. */
  first: string | null;
  last: string | null;
  /** Events and self-telemetry records of the node in the delivery. */
  records: number;
  /** The delivery carried the node's self-telemetry (metrics, heartbeats, drop alerts). */
  telemetry: boolean;
  /** Largest dropped-event counter the node reported; null when it reported none. */
  dropped: number | null;
}

interface SightingEvent {
  sensor: string;
  node: string | null;
  time: string;
  timeFromClock: boolean;
}

interface SightingTelemetry {
  node: string | null;
  time: string | null;
  drops: number | null;
}

/**
 * Per node and sensor, what the engine read of it (ingestEvents' events and telemetry). Audit events come from
 * the API server, not a node's sensor, and are left out. Telemetry records do not name their sensor: they are
 * the delivery's, `telemetrySensor`.
 */
export function sensorSightings(
  events: readonly SightingEvent[],
  telemetry: readonly SightingTelemetry[],
  telemetrySensor: string,
): SensorSighting[] {
  const byKey = new Map<string, SensorSighting & { firstMs?: number; lastMs?: number }>();
  const see = (node: string, sensor: string, time: string | null, tele: boolean, drops: number | null) => {
    const key = `${node}\u0000${sensor}`;
    let s = byKey.get(key);
    if (!s) {
      s = { node, sensor, first: null, last: null, records: 0, telemetry: false, dropped: null };
      byKey.set(key, s);
    }
    s.records++;
    if (tele) s.telemetry = true;
    if (drops !== null) s.dropped = Math.max(s.dropped ?? 0, drops);
    if (time === null) return;
    // Milliseconds order a delivery well enough to say when a sensor was heard, and Date.parse is several times
    // cheaper than instantOf; the string kept is the sensor's own, nanoseconds and all.
    const parsed = Date.parse(time);
    const ms = Number.isNaN(parsed) ? msOf(instantOf(time)) : parsed;
    if (s.firstMs === undefined || ms < s.firstMs) [s.firstMs, s.first] = [ms, time];
    if (s.lastMs === undefined || ms > s.lastMs) [s.lastMs, s.last] = [ms, time];
  };
  for (const e of events)
    if (e.node && e.sensor !== 'k8s-audit')
      see(e.node, e.sensor, e.timeFromClock ? null : e.time, false, null);
  for (const t of telemetry) if (t.node) see(t.node, telemetrySensor, t.time, true, t.drops);
  return [...byKey.values()]
    .map(({ firstMs: _f, lastMs: _l, ...s }) => s)
    .sort((a, b) =>
      a.node < b.node ? -1 : a.node > b.node ? 1 : a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : 0,
    );
}
