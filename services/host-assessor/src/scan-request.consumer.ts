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

/** Replicas of the host-assessor share this group and split the partitions of scan.requests.host. */
export const HOST_ASSESSOR_GROUP = 'vigil.host-assessor';

/**
 * The host-assessor's engine. libs/host-assess does not exist in this build, so every scan completes with status
 * UNAVAILABLE and the message "host-assess engine is not available in this build": no findings, nothing resolved.
 * When the library lands, this is the one place that changes (wrap its public use case in a ScanEngine).
 */
export function hostAssessorEngine(): ScanEngine {
  return unavailableEngine(ScannerKind.HOST, 'host-assess');
}

/** Consumes scan requests for node root filesystems and answers each with ScanStarted and ScanCompleted on the scans topic. */
@Injectable()
export class ScanRequestConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}

  onApplicationBootstrap(): void {
    const group = HOST_ASSESSOR_GROUP;
    this.supervisor.run({
      eventLog: this.eventLog,
      group,
      topics: [TOPICS.scanRequests.host],
      handler: createScanRequestHandler({
        engine: hostAssessorEngine(),
        eventLog: this.eventLog,
        identity: this.identity,
        group,
      }),
    });
  }
}
