import {
  ALL_TOPICS,
  EnvelopeDecodeError,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  topicFor,
  type EventEnvelope,
  type Timestamp,
} from '@vigil/contracts';
import { type ConsumedRecord, type EventLog, type LogRecord, type Subscription } from '@vigil/event-log';
import { deriveEventId, type ServiceIdentity } from '@vigil/nest-kit';
import { DEFAULT_SENSOR_SILENCE_MS, sensorSilenceFinding } from '@vigil/runtime-rules';
import { createLogger, metrics } from '@vigil/telemetry';
import { findingEvents } from './runtime-findings.js';

type SensorSeen = Extract<EventEnvelope['payload'], { case: 'sensorSeen' }>['value'];

export const SENSOR_WATCH = 'vigil:runtime-ingest:sensor-watch';
export const DEFAULT_SENSOR_CHECK_INTERVAL_MS = 60_000;
export { DEFAULT_SENSOR_SILENCE_MS };

// Part of every silence event id: the same on every replica, so the reporting side folds a silence once.
const WATCH_ID_GROUP = 'vigil.runtime-ingest.sensor-watch';
const START_RETRY_MS = 5000;
// The sensors topic keeps a week; a sensor not heard from for longer is forgotten by a restarted replica, so every
// replica forgets it then too and they keep agreeing.
const FORGET_AFTER_MS = 7 * 24 * 60 * 60 * 1000;
const NS_PER_MS = 1_000_000n;

export interface SensorWatchOptions {
  /** A sensor that sent telemetry and then nothing for longer than this is silent. */
  silenceMs: number;
  /** How often silences are looked for. */
  checkIntervalMs: number;
  /** The ingest's wall clock, which silence is judged by: a stopped sensor has no clock of its own. */
  clock?: () => Date;
}

interface Watched {
  tenant: string;
  cluster: string;
  node: string;
  sensor: string;
  /** received_at of the latest SensorSeen, in nanoseconds. */
  lastNs: bigint;
  /** The gap start (RFC 3339) this process already reported as ongoing. */
  reported?: string;
}

/** A sensor the watch follows, as tests and operators see it. */
export interface WatchedSensor {
  tenant: string;
  cluster: string;
  node: string;
  sensor: string;
  lastSeen: string;
}

/**
 * Remembers when each node's sensor was last heard from across requests and replicas, and reports the ones that
 * stopped. Every replica reads every SensorSeen (a consumer group of its own, after replaying the sensors topic at
 * start), so each can judge every node; the findings they publish have ids derived from the gap alone and are
 * folded once. Only sensors that ever sent telemetry are judged: one that only sends alerts is rightly quiet when
 * nothing happens.
 */
export class SensorWatch {
  private readonly logger = createLogger('sensor-watch');
  private readonly watched = new Map<string, Watched>();
  private readonly limitNs: bigint;
  private readonly clock: () => Date;
  private replaying = true;
  private buffered: ConsumedRecord[] = [];
  private subscription: Subscription | undefined;
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;
  private markReady: () => void = () => undefined;
  /** Resolves once the topic is replayed and the watch follows it. */
  readonly ready: Promise<void>;
  private readonly silences = metrics.counter({
    name: 'vigil_runtime_ingest_sensor_silences_total',
    help: 'runtime/sensor-silent findings the sensor watch published, by whether the gap was still open',
    labelNames: ['state'],
  });

  constructor(
    private readonly eventLog: EventLog,
    private readonly identity: ServiceIdentity,
    private readonly options: SensorWatchOptions,
  ) {
    for (const [name, ms] of [
      ['silence interval', options.silenceMs],
      ['check interval', options.checkIntervalMs],
    ] as const)
      if (!Number.isFinite(ms) || ms <= 0)
        throw new Error(`SensorWatch: the ${name} ${ms} ms is not a positive number of milliseconds`);
    this.limitNs = BigInt(Math.round(options.silenceMs)) * NS_PER_MS;
    this.clock = options.clock ?? (() => new Date());
    this.ready = new Promise((resolve) => (this.markReady = resolve));
  }

  /** The consumer group of this process: its own, so every replica sees every record. */
  get group(): string {
    const instance = this.identity.instance.replace(/[^A-Za-z0-9._:-]/g, '-').slice(0, 160);
    return `${WATCH_ID_GROUP}.${instance}`;
  }

  onApplicationBootstrap(): void {
    void this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Follows the topic from its end, replays it from the start, then checks on the timer. Retries until stopped. */
  async start(): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      try {
        await this.eventLog.ensureTopics(
          ALL_TOPICS.filter((t) => t.name === TOPICS.sensors || t.name === TOPICS.findings.runtime).map(
            (t) => ({ name: t.name, partitions: t.partitions }),
          ),
        );
        // Subscribed first, so nothing published while the replay runs is missed; what both deliver is applied
        // once, since a record no newer than what is known changes nothing.
        this.subscription ??= await this.eventLog.subscribe({
          group: this.group,
          topics: [TOPICS.sensors],
          start: 'latest',
          // A group per process: deleted when the process stops, so restarts leave no dead groups behind.
          ephemeral: true,
          handler: (records) => this.receive(records),
        });
        await this.subscription.ready;
        await this.eventLog.replay([TOPICS.sensors], (records) => this.apply(records, false));
        break;
      } catch (err) {
        this.logger.warn(
          { err },
          `sensor watch: reading the ${TOPICS.sensors} topic failed, retrying: ${(err as Error).message}`,
        );
        await new Promise((r) => setTimeout(r, START_RETRY_MS).unref());
      }
    }
    if (this.stopped) return;
    // Gaps the replay crossed were reported by the replicas that were running then; from here on this one reports.
    while (this.buffered.length > 0) await this.apply(this.buffered.splice(0), true);
    this.replaying = false;
    this.logger.info(`sensor watch follows ${this.watched.size} sensor(s) on ${TOPICS.sensors}`);
    this.timer = setInterval(() => void this.tick(), this.options.checkIntervalMs);
    this.timer.unref();
    this.markReady();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const sub = this.subscription;
    this.subscription = undefined;
    await sub?.stop();
  }

  /** The sensors judged for silence, by node. */
  sensors(): WatchedSensor[] {
    return [...this.watched.values()]
      .map((w) => ({
        tenant: w.tenant,
        cluster: w.cluster,
        node: w.node,
        sensor: w.sensor,
        lastSeen: isoOf(w.lastNs),
      }))
      .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : a.sensor < b.sensor ? -1 : 1));
  }

  /**
   * Publishes runtime/sensor-silent for each sensor silent longer than the interval now, once per gap per process
   * (the timer calls it; so can tests). Resolves to the number published.
   */
  async check(): Promise<number> {
    const nowNs = BigInt(this.clock().getTime()) * NS_PER_MS;
    const due: Watched[] = [];
    for (const [key, w] of this.watched) {
      const quiet = nowNs - w.lastNs;
      if (quiet > BigInt(FORGET_AFTER_MS) * NS_PER_MS) this.watched.delete(key);
      else if (quiet > this.limitNs && w.reported !== isoOf(w.lastNs)) due.push(w);
    }
    if (due.length === 0) return 0;
    const gaps = due.map((w) => ({ w, from: w.lastNs }));
    await this.eventLog.publish(gaps.flatMap(({ w }) => this.silence(w, w.lastNs + this.limitNs, true)));
    // A record applied while the publish was pending opened no gap yet; only the gap published is marked.
    for (const { w, from } of gaps) if (w.lastNs === from) w.reported = isoOf(from);
    this.silences.inc({ state: 'ongoing' }, due.length);
    return due.length;
  }

  private async tick(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      await this.check();
    } catch (err) {
      this.logger.warn({ err }, `sensor watch: publishing silences failed, retrying on the next check`);
    } finally {
      this.checking = false;
    }
  }

  private async receive(records: ConsumedRecord[]): Promise<void> {
    if (this.replaying) this.buffered.push(...records);
    else await this.apply(records, true);
  }

  // Live, a record that ends a gap longer than the interval publishes the gap's final window before it is applied:
  // if that publish fails the batch is retried and the gap is found again.
  private async apply(records: ConsumedRecord[], live: boolean): Promise<void> {
    for (const record of records) {
      const seen = this.decode(record);
      if (!seen) continue;
      const tenant = seen.scope?.tenant ?? '';
      const cluster = seen.scope?.cluster ?? '';
      const key = `${tenant}\u0000${cluster}\u0000${seen.node}\u0000${seen.sensor}`;
      const at = nsOf(seen.receivedAt as Timestamp);
      const w = this.watched.get(key);
      if (!w) {
        if (seen.telemetry)
          this.watched.set(key, { tenant, cluster, node: seen.node, sensor: seen.sensor, lastNs: at });
        continue;
      }
      if (at <= w.lastNs) continue;
      if (live && at - w.lastNs > this.limitNs) {
        await this.eventLog.publish(this.silence(w, at, false));
        this.silences.inc({ state: 'ended' });
      }
      w.lastNs = at;
      delete w.reported;
    }
  }

  private decode(record: ConsumedRecord): SensorSeen | null {
    let env;
    try {
      env = decodeEnvelope(record.value);
    } catch (err) {
      // A record this build cannot read says nothing about a sensor; stopping the watch for it would blind it.
      if (!(err instanceof EnvelopeDecodeError)) throw err;
      this.logger.warn(
        { err, partition: record.partition, offset: record.offset },
        `sensor watch: skipped ${record.topic}[${record.partition}]@${record.offset}: ${err.message}`,
      );
      return null;
    }
    if (env.payload.case !== 'sensorSeen') return null;
    const seen = env.payload.value;
    if (!seen.node || !seen.sensor || !seen.receivedAt || !seen.scope?.cluster) {
      this.logger.warn(
        { eventId: env.eventId },
        `sensor watch: skipped SensorSeen ${env.eventId}: it has no node, sensor, scope cluster or received_at`,
      );
      return null;
    }
    return seen;
  }

  /** The silence of `w` from its last record to `untilNs`, as the records to publish. */
  private silence(w: Watched, untilNs: bigint, ongoing: boolean): LogRecord[] {
    const from = isoOf(w.lastNs);
    const until = isoOf(untilNs);
    const finding = sensorSilenceFinding({
      node: w.node,
      cluster: w.cluster,
      from,
      until,
      silenceMs: this.options.silenceMs,
      location: `${w.sensor} silent after ${from}`,
      ongoing,
      evidence: [
        { key: 'sensor', value: w.sensor },
        { key: 'judged_by', value: 'runtime-ingest sensor watch (time received)' },
      ],
    });
    const gap = `${w.tenant}\u0000${w.cluster}\u0000${w.node}\u0000${w.sensor}\u0000${from}`;
    const at = new Date(Number(untilNs / NS_PER_MS));
    return findingEvents([finding], `runtime-sensors:${w.cluster}`).map((event) => {
      const env = newEnvelope({
        payload: event.payload,
        scope: { tenant: w.tenant, cluster: w.cluster },
        subjectKey: event.subjectKey,
        producer: {
          service: this.identity.service,
          version: this.identity.version,
          instance: this.identity.instance,
        },
        clock: () => at,
        newId: () =>
          ongoing
            ? deriveEventId(gap, WATCH_ID_GROUP, 'silent')
            : deriveEventId(`${gap}\u0000${until}`, WATCH_ID_GROUP, 'silence-ended'),
      });
      return { topic: topicFor(env), key: env.subjectKey, value: encodeEnvelope(env) };
    });
  }
}

function nsOf(t: Timestamp): bigint {
  return t.seconds * 1_000_000_000n + BigInt(t.nanos);
}

function isoOf(ns: bigint): string {
  return new Date(Number(ns / NS_PER_MS)).toISOString();
}
