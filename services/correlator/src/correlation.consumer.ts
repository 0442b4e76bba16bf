import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { type EventLog } from '@vigil/event-log';
import { ConsumerSupervisor, EVENT_LOG, type ServiceIdentity } from '@vigil/nest-kit';
import { createLogger } from '@vigil/telemetry';
import { CORRELATOR_TOPICS, CorrelationRunner } from './correlation.runner.js';

export const CORRELATOR_GROUP = 'vigil.correlator';
export const CORRELATION_RUNNER = 'vigil:correlation-runner';

const REBUILD_RETRY_MS = 5000;

/**
 * The correlator's consumer. Its asset graph lives in memory, so on start it is rebuilt by replaying the topics from
 * the beginning (publishing nothing meanwhile), then the group consumes from its committed position; what the two
 * overlap on is applied once, since the graph is idempotent on event id. One replica: the graph needs every
 * partition, so a second replica in the same group would correlate half the cluster.
 */
@Injectable()
export class CorrelationConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = createLogger('correlator');
  private stopped = false;

  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
    @Inject(CORRELATION_RUNNER) private readonly runner: CorrelationRunner,
  ) {}

  onApplicationBootstrap(): void {
    void this.rebuildThenConsume();
  }

  private async rebuildThenConsume(): Promise<void> {
    this.runner.pause();
    for (;;) {
      if (this.stopped) return;
      try {
        await this.eventLog.replay(CORRELATOR_TOPICS, this.runner.handler);
        break;
      } catch (err) {
        this.logger.warn(
          { err },
          `rebuilding the asset graph from the log failed, retrying: ${(err as Error).message}`,
        );
        await new Promise((r) => setTimeout(r, REBUILD_RETRY_MS).unref());
      }
    }
    this.logger.info(`asset graph rebuilt from ${this.runner.correlator.graph.eventCount} event(s)`);
    this.runner.resume();
    this.supervisor.run({
      eventLog: this.eventLog,
      group: CORRELATOR_GROUP,
      topics: CORRELATOR_TOPICS,
      handler: this.runner.handler,
    });
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    this.runner.close();
  }
}

/** The runner with this process's identity as the producer of what it publishes. */
export function correlationRunnerFactory(eventLog: EventLog, identity: ServiceIdentity): CorrelationRunner {
  return new CorrelationRunner({
    publish: (records) => eventLog.publish(records),
    producer: { service: identity.service, version: identity.version, instance: identity.instance },
  });
}
