import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { TOPICS, decodeEnvelope } from '@vigil/contracts';
import { type BatchHandler, type EventLog } from '@vigil/event-log';
import { ConsumerSupervisor, EVENT_LOG } from '@vigil/nest-kit';
import { createLogger, metrics, type Logger } from '@vigil/telemetry';

export const CORRELATOR_GROUP = 'vigil.correlator';

/** Everything the correlator will join: every scanner's findings and the inventory they are about. */
export const CORRELATOR_TOPICS = [
  TOPICS.findings.image,
  TOPICS.findings.config,
  TOPICS.findings.runtime,
  TOPICS.findings.host,
  TOPICS.inventory,
];

/**
 * libs/correlate does not exist in this build: the correlator reads its topics (so its group's position is real
 * and its lag is visible) and counts what it sees, but correlates nothing and publishes nothing.
 */
export function createCorrelatorHandler(logger: Logger = createLogger('correlator')): BatchHandler {
  const seen = metrics.counter({
    name: 'vigil_correlator_events_total',
    help: 'Events the correlator read, by topic and event type (no correlation engine in this build)',
    labelNames: ['topic', 'event_type'],
  });
  return async (records) => {
    const counts: Record<string, number> = {};
    for (const record of records) {
      let eventType: string;
      try {
        eventType = decodeEnvelope(record.value).eventType;
      } catch (err) {
        // Thrown, so the port retries and then dead-letters it with this error.
        throw new Error(`${record.topic}/${record.partition}@${record.offset}: ${(err as Error).message}`, {
          cause: err,
        });
      }
      counts[eventType] = (counts[eventType] ?? 0) + 1;
      seen.inc({ topic: record.topic, event_type: eventType });
    }
    const topic = records[0]?.topic ?? '?';
    logger.info(
      { topic, counts },
      `read ${records.length} event(s) from ${topic}; the correlate engine is not available in this build, nothing was correlated`,
    );
  };
}

@Injectable()
export class FindingsConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}

  onApplicationBootstrap(): void {
    this.supervisor.run({
      eventLog: this.eventLog,
      group: CORRELATOR_GROUP,
      topics: CORRELATOR_TOPICS,
      handler: createCorrelatorHandler(),
    });
  }
}
