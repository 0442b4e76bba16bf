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
import { timestampOf } from './to-findings.js';

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

function nsOf(rfc3339: string): bigint {
  const t = timestampOf(rfc3339);
  return t.seconds * 1_000_000_000n + BigInt(t.nanos);
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
): Finding[] {
  if (!Number.isFinite(silenceMs) || silenceMs <= 0)
    throw new Error(`sensor silence interval ${silenceMs} ms is not a positive number of milliseconds`);
  const byNode = new Map<string, Stamped[]>();
  for (const r of records) {
    const list = byNode.get(r.node) ?? [];
    list.push({ ...r, ns: nsOf(r.time) });
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
      const minutes = Number(gap / 60_000_000_000n);
      out.push(
        finding(
          SENSOR_SILENT_RULE,
          node,
          cluster,
          `silent after ${before.time}`,
          before.time,
          after.time,
          `Runtime sensor silent for ${minutes} min (node ${node})`,
          `The sensor on node ${node} sent nothing from ${before.time} to ${after.time}, longer than the ${Math.round(silenceMs / 60_000)} min interval: runtime detection was not known to be working then.`,
          [
            { key: 'node', value: node },
            { key: 'silent_from', value: before.time },
            { key: 'silent_until', value: after.time },
            { key: 'silence_minutes', value: String(minutes) },
            { key: 'input_lines', value: `${before.line},${after.line}` },
          ],
          `${minutes} min`,
        ),
      );
    }
  }
  return out;
}
