import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { ScannerKind, TOPICS } from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import {
  ConsumerSupervisor,
  EVENT_LOG,
  SERVICE_IDENTITY,
  createScanRequestHandler,
  unavailableEngine,
  type ScanEngine,
  type ServiceIdentity,
} from '@vigil/nest-kit';

/** Replicas of the config-auditor share this group and split the partitions of scan.requests.config. */
export const CONFIG_AUDITOR_GROUP = 'vigil.config-auditor';

/**
 * The config-auditor's engine. libs/config-audit does not exist in this build, so every scan completes with status
 * UNAVAILABLE and the message "config-audit engine is not available in this build": no findings, nothing resolved.
 * When the library lands, this is the one place that changes (wrap its public use case in a ScanEngine).
 */
export function configAuditorEngine(): ScanEngine {
  return unavailableEngine(ScannerKind.CONFIG, 'config-audit');
}

/** Consumes scan requests for Kubernetes manifests and live clusters and answers each with ScanStarted and ScanCompleted on the scans topic. */
@Injectable()
export class ScanRequestConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}

  onApplicationBootstrap(): void {
    const group = CONFIG_AUDITOR_GROUP;
    this.supervisor.run({
      eventLog: this.eventLog,
      group,
      topics: [TOPICS.scanRequests.config],
      handler: createScanRequestHandler({
        engine: configAuditorEngine(),
        eventLog: this.eventLog,
        identity: this.identity,
        group,
      }),
    });
  }
}
