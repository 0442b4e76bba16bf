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

/** Replicas of the image-scanner share this group and split the partitions of scan.requests.image. */
export const IMAGE_SCANNER_GROUP = 'vigil.image-scanner';

/**
 * The image-scanner's engine. libs/image-scan does not exist in this build, so every scan completes with status
 * UNAVAILABLE and the message "image-scan engine is not available in this build": no findings, nothing resolved.
 * When the library lands, this is the one place that changes (wrap its public use case in a ScanEngine).
 */
export function imageScannerEngine(): ScanEngine {
  return unavailableEngine(ScannerKind.IMAGE, 'image-scan');
}

/** Consumes scan requests for images (OS and language packages against advisories) and answers each with ScanStarted and ScanCompleted on the scans topic. */
@Injectable()
export class ScanRequestConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}

  onApplicationBootstrap(): void {
    const group = IMAGE_SCANNER_GROUP;
    this.supervisor.run({
      eventLog: this.eventLog,
      group,
      topics: [TOPICS.scanRequests.image],
      handler: createScanRequestHandler({
        engine: imageScannerEngine(),
        eventLog: this.eventLog,
        identity: this.identity,
        group,
      }),
    });
  }
}
