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

/** Replicas of the runtime-ingest share this group and split the partitions of scan.requests.runtime. */
export const RUNTIME_INGEST_GROUP = 'vigil.runtime-ingest';

/**
 * The runtime-ingest's engine. libs/runtime-rules does not exist in this build, so every scan completes with status
 * UNAVAILABLE and the message "runtime-rules engine is not available in this build": no findings, nothing resolved.
 * When the library lands, this is the one place that changes (wrap its public use case in a ScanEngine).
 */
export function runtimeIngestEngine(): ScanEngine {
  return unavailableEngine(ScannerKind.RUNTIME, 'runtime-rules');
}

/** Consumes scan requests for runtime events (Falco, Tetragon, Kubernetes audit) and answers each with ScanStarted and ScanCompleted on the scans topic. */
@Injectable()
export class ScanRequestConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    @Inject(SERVICE_IDENTITY) private readonly identity: ServiceIdentity,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}

  onApplicationBootstrap(): void {
    const group = RUNTIME_INGEST_GROUP;
    this.supervisor.run({
      eventLog: this.eventLog,
      group,
      topics: [TOPICS.scanRequests.runtime],
      handler: createScanRequestHandler({
        engine: runtimeIngestEngine(),
        eventLog: this.eventLog,
        identity: this.identity,
        group,
      }),
    });
  }
}
