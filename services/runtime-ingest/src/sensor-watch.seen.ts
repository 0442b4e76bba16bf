import { encodeEnvelope, newEnvelope, timestampFromDate, topicFor } from '@vigil/contracts';
import { type LogRecord } from '@vigil/event-log';
import { deriveEventId, type ServiceIdentity } from '@vigil/nest-kit';
import {
  sensorSightings,
  timestampOf,
  type IngestEventsResult,
  type SensorSighting,
} from '@vigil/runtime-rules';

export const DEFAULT_SENSOR_SEEN_INTERVAL_MS = 30_000;
const SEEN_ID_GROUP = 'vigil.runtime-ingest.sensor-seen';

/** The log key of a sensor's SensorSeen records: one per sensor of a node, so compaction keeps each sensor's latest. */
export function sensorKey(cluster: string, node: string, sensor: string): string {
  return `${cluster}/${node}/${sensor}`;
}

interface Sent {
  atMs: number;
  telemetry: boolean;
  dropped: number | null;
}

/**
 * Turns a delivery's sightings into SensorSeen records, at most one per sensor per interval in this process: the
 * watch needs to know a sensor is alive, not every request it made. A delivery still goes out inside the interval
 * when it tells the watch something new: the first telemetry of a sensor (from then on it is judged for silence) or
 * a changed dropped-event counter.
 */
export class SensorSeenPublisher {
  private readonly sent = new Map<string, Sent>();
  private lastPruneMs = 0;

  constructor(
    private readonly identity: ServiceIdentity,
    private readonly intervalMs: number = DEFAULT_SENSOR_SEEN_INTERVAL_MS,
  ) {
    if (!Number.isFinite(intervalMs) || intervalMs <= 0)
      throw new Error(`SensorSeen interval ${intervalMs} ms is not a positive number of milliseconds`);
  }

  /**
   * The records to publish with the delivery's findings, and `release` to call when that publish failed, so the
   * sender's retry is not held back by the interval.
   */
  take(
    result: Pick<IngestEventsResult, 'events' | 'telemetry'>,
    source: string,
    cluster: string,
    receivedAt: Date,
  ): { records: LogRecord[]; release: () => void } {
    const now = receivedAt.getTime();
    this.prune(now);
    const records: LogRecord[] = [];
    const before = new Map<string, Sent | undefined>();
    for (const s of sensorSightings(result.events, result.telemetry, source)) {
      const key = sensorKey(cluster, s.node, s.sensor);
      const prev = this.sent.get(key);
      const due =
        !prev ||
        now - prev.atMs >= this.intervalMs ||
        now < prev.atMs ||
        (s.telemetry && !prev.telemetry) ||
        (s.dropped !== null && s.dropped !== prev.dropped);
      if (!due) continue;
      before.set(key, prev);
      this.sent.set(key, {
        atMs: now,
        telemetry: s.telemetry || (prev?.telemetry ?? false),
        dropped: s.dropped ?? prev?.dropped ?? null,
      });
      records.push(this.record(s, key, cluster, receivedAt));
    }
    return {
      records,
      release: () => {
        for (const [key, prev] of before) {
          if (prev) this.sent.set(key, prev);
          else this.sent.delete(key);
        }
      },
    };
  }

  private record(s: SensorSighting, key: string, cluster: string, receivedAt: Date): LogRecord {
    // An init object, not create(SensorSeenSchema): @vigil/contracts' index does not re-export sensor_pb yet.
    const seen = {
      scope: { tenant: '', cluster },
      node: s.node,
      sensor: s.sensor,
      ...(s.first ? { firstEventAt: timestampOf(s.first) } : {}),
      ...(s.last ? { lastEventAt: timestampOf(s.last) } : {}),
      events: String(s.records),
      telemetry: s.telemetry,
      dropped: String(s.dropped ?? 0),
      receivedAt: timestampFromDate(receivedAt),
    };
    const env = newEnvelope({
      payload: { case: 'sensorSeen', value: seen },
      scope: { tenant: '', cluster },
      subjectKey: key,
      producer: {
        service: this.identity.service,
        version: this.identity.version,
        instance: this.identity.instance,
      },
      clock: () => receivedAt,
      newId: () =>
        deriveEventId(
          `${key}\u0000${receivedAt.toISOString()}\u0000${s.first}\u0000${s.last}\u0000${s.records}`,
          SEEN_ID_GROUP,
          this.identity.instance,
        ),
    });
    return { topic: topicFor(env), key, value: encodeEnvelope(env) };
  }

  // Entries past the interval limit nothing, but their telemetry and dropped facts do; a week bounds the memory of
  // nodes that left the cluster.
  private prune(now: number): void {
    if (now - this.lastPruneMs < this.intervalMs) return;
    this.lastPruneMs = now;
    const horizon = now - Math.max(this.intervalMs, 7 * 24 * 60 * 60 * 1000);
    for (const [key, sent] of this.sent) if (sent.atMs < horizon) this.sent.delete(key);
  }
}
