import {
  type EventEnvelope,
  ScanStatus,
  ScannerKind,
  TOPICS,
  decodeEnvelope,
  encodeEnvelope,
  newEnvelope,
  timestampFromDate,
  topicFor,
} from '@vigil/contracts';
import {
  CORRELATION_TARGET_KEY,
  Correlator,
  type CorrelatedFinding,
  deterministicEventId,
  renderPriority,
} from '@vigil/correlate';
import { type BatchHandler, type LogRecord } from '@vigil/event-log';
import { createLogger, metrics, type Logger } from '@vigil/telemetry';

/** Everything the correlator joins: every scanner's findings, the inventory, and the scans that resolve them. */
export const CORRELATOR_TOPICS = [
  TOPICS.findings.image,
  TOPICS.findings.config,
  TOPICS.findings.runtime,
  TOPICS.findings.host,
  TOPICS.inventory,
  TOPICS.scans,
];

/** The scanner kind the correlator's completions carry, so the reporting side resolves what it stops reporting. */
export const CORRELATOR_SCANNER: ScannerKind = ScannerKind.CORRELATOR;

export interface CorrelationRunnerOptions {
  publish: (records: LogRecord[]) => Promise<void>;
  producer: { service: string; version: string; instance: string };
  /** Quiet time after the last event before correlating and publishing: a burst publishes once. */
  debounceMs?: number;
  /** Longest a steady stream may hold publication back. */
  maxWaitMs?: number;
  clock?: () => Date;
  logger?: Logger;
}

export interface PublishSummary {
  /** Correlated findings published because they are new or their priority changed. */
  published: number;
  /** Correlated findings no longer present, per scope: resolved by the completion. */
  resolved: number;
  completions: number;
}

interface Published {
  /** finding id → the event id of its last published state. */
  findings: Map<string, string>;
  ids: string;
}

/**
 * Folds every consumed event into one Correlator and, once events stop arriving for `debounceMs` (or `maxWaitMs`
 * into a steady stream), publishes what changed: a FindingReported per correlated finding that is new or whose
 * priority moved, then per scope a ScanCompleted of the CORRELATOR listing every current correlated finding id, so
 * the reporting side resolves the ones that disappeared exactly like any other scanner's. Event ids derive from the
 * state published and from how many distinct input events were folded, so replaying the log to the same point
 * publishes the same ids (the consumers drop them as duplicates) while a state that comes back later is a new event.
 */
export class CorrelationRunner {
  readonly correlator = new Correlator();
  private readonly logger: Logger;
  private readonly clock: () => Date;
  private readonly debounceMs: number;
  private readonly maxWaitMs: number;
  private readonly published = new Map<string, Published>();
  private timer: NodeJS.Timeout | undefined;
  private firstPending: number | undefined;
  private flushing: Promise<PublishSummary> | undefined;
  /** Settles when the rebuild from the log ends (or the runner closes); already settled when none is running. */
  private rebuilt: Promise<void> = Promise.resolve();
  private endRebuild: (() => void) | undefined;
  private paused = false;
  private lastCorrelatedAt = 0;
  private readonly applied = metrics.counter({
    name: 'vigil_correlator_events_total',
    help: 'Events the correlator folded into its asset graph, by topic and event type',
    labelNames: ['topic', 'event_type'],
  });
  private readonly current = metrics.gauge({
    name: 'vigil_correlator_correlated_findings',
    help: 'Correlated findings in the last published correlation',
  });

  constructor(private readonly options: CorrelationRunnerOptions) {
    this.logger = options.logger ?? createLogger('correlator');
    this.clock = options.clock ?? (() => new Date());
    this.debounceMs = options.debounceMs ?? 2000;
    this.maxWaitMs = options.maxWaitMs ?? 15000;
  }

  /** The consumer's batch handler: decode and apply; a record that is not an envelope is thrown to dead-letter. */
  readonly handler: BatchHandler = async (records) => {
    for (const record of records) {
      let envelope: EventEnvelope;
      try {
        envelope = decodeEnvelope(record.value);
      } catch (err) {
        throw new Error(`${record.topic}/${record.partition}@${record.offset}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      try {
        if (this.correlator.apply(envelope))
          this.applied.inc({ topic: record.topic, event_type: envelope.eventType });
      } catch (err) {
        throw new Error(
          `${record.topic}/${record.partition}@${record.offset} (event ${envelope.eventId}): ${(err as Error).message}`,
          { cause: err },
        );
      }
    }
    if (records.length) this.schedule();
  };

  /** While paused (the rebuild from the log) events are applied but nothing is published. */
  pause(): void {
    this.paused = true;
    this.cancel();
    if (!this.endRebuild) this.rebuilt = new Promise((resolve) => (this.endRebuild = resolve));
  }

  resume(): void {
    this.paused = false;
    this.endRebuild?.();
    this.endRebuild = undefined;
    this.schedule();
  }

  private schedule(): void {
    if (this.paused) return;
    const now = this.clock().getTime();
    this.firstPending ??= now;
    if (this.timer) clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstPending + this.maxWaitMs - now));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((err: unknown) =>
        // Kept for the next event or flush: the published map only advances after a successful publish.
        this.logger.error({ err }, `publishing correlations failed: ${(err as Error).message}`),
      );
    }, wait);
    this.timer.unref?.();
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Correlates now and publishes the difference from the last publication. Serialized: one flush at a time. */
  async flush(): Promise<PublishSummary> {
    this.cancel();
    // A flush during the rebuild would publish the half of the graph replayed so far, and its completion would
    // resolve downstream every correlation of the other half: a one-shot command that flushes early waits.
    await this.rebuilt;
    while (this.flushing) await this.flushing.catch(() => undefined);
    this.flushing = this.publishChanges();
    try {
      return await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  private async publishChanges(): Promise<PublishSummary> {
    this.firstPending = undefined;
    const all = this.correlator.correlate();
    this.current.set(all.length);
    const byCluster = new Map<string, CorrelatedFinding[]>();
    for (const c of all) {
      const cluster = c.cluster;
      let list = byCluster.get(cluster);
      if (!list) byCluster.set(cluster, (list = []));
      list.push(c);
    }
    // A scope that had correlations and now has none still needs its empty completion.
    for (const cluster of this.published.keys()) if (!byCluster.has(cluster)) byCluster.set(cluster, []);
    const generation = this.correlator.graph.eventCount;
    // The reporting side orders the completions of one target by their start, then completion time, and only then
    // by scan id: without times, which correlation is the latest (what resolves, which priority shows) would be
    // decided by the order of hashes.
    // Two flushes within one millisecond still come out in order.
    this.lastCorrelatedAt = Math.max(this.clock().getTime(), this.lastCorrelatedAt + 1);
    const correlatedAt = timestampFromDate(new Date(this.lastCorrelatedAt));
    const summary: PublishSummary = { published: 0, resolved: 0, completions: 0 };
    for (const [cluster, list] of [...byCluster].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!cluster) {
        this.logger.warn(`${list.length} correlated finding(s) have no cluster: not published`);
        continue;
      }
      const before = this.published.get(cluster) ?? { findings: new Map<string, string>(), ids: '' };
      const ids = list.map((c) => c.id).sort();
      const idsText = JSON.stringify(ids);
      const scanId = `correlation-${deterministicEventId(JSON.stringify(['correlation-set', cluster, ids, generation]))}`;
      const records: LogRecord[] = [];
      const next = new Map<string, string>();
      for (const c of list) {
        const state = JSON.stringify([
          c.id,
          c.priority.score,
          renderPriority(c.priority),
          c.relatedFindingIds,
        ]);
        const stateId = deterministicEventId(state);
        next.set(c.id, stateId);
        if (before.findings.get(c.id) === stateId) continue;
        records.push(
          this.record(
            newEnvelope({
              payload: { case: 'findingReported', value: { scanId, finding: c.finding } },
              scope: { cluster },
              subjectKey: c.finding.id,
              producer: this.options.producer,
              clock: this.clock,
              newId: () =>
                deterministicEventId(JSON.stringify(['correlated-finding', cluster, state, generation])),
            }),
          ),
        );
      }
      const resolved = [...before.findings.keys()].filter((id) => !next.has(id)).length;
      const setChanged = before.ids !== idsText;
      if (records.length === 0 && !setChanged) continue;
      // One completion per published change lists the whole current set: absence resolves downstream.
      records.push(
        this.record(
          newEnvelope({
            payload: {
              case: 'scanCompleted',
              value: {
                scanId,
                scanner: CORRELATOR_SCANNER,
                scope: { cluster },
                targetKey: CORRELATION_TARGET_KEY,
                status: ScanStatus.OK,
                findingIds: ids,
                startedAt: correlatedAt,
                completedAt: correlatedAt,
              },
            },
            scope: { cluster },
            subjectKey: scanId,
            producer: this.options.producer,
            clock: this.clock,
            newId: () => deterministicEventId(JSON.stringify(['correlation-completed', scanId])),
          }),
        ),
      );
      summary.completions++;
      await this.options.publish(records);
      summary.published += records.length - 1;
      summary.resolved += resolved;
      this.published.set(cluster, { findings: next, ids: idsText });
    }
    if (summary.published || summary.resolved)
      this.logger.info(
        { ...summary, correlated: all.length },
        `published ${summary.published} correlated finding(s), ${summary.resolved} resolved`,
      );
    return summary;
  }

  private record(envelope: EventEnvelope): LogRecord {
    return { topic: topicFor(envelope), key: envelope.subjectKey, value: encodeEnvelope(envelope) };
  }

  close(): void {
    this.cancel();
    this.endRebuild?.();
    this.endRebuild = undefined;
  }
}
