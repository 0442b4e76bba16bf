import { type DynamicModule, type Type } from '@nestjs/common';
import { type EventLog } from '@vigil/event-log';
import { type Sql } from '@vigil/store';
import { ConsumerSupervisor } from './consumer.supervisor.js';
import { createScanRequestHandler, type ScanEngine } from './scan-request.handler.js';
import { EVENT_LOG, SERVICE_DATABASE, SERVICE_IDENTITY, type ServiceIdentity } from './tokens.js';

export interface ScannerModuleSpec {
  /** The consumer group: replicas of one scanner share it and split the partitions of its request topic. */
  group: string;
  /** The scan-request topic the scanner answers. */
  topic: string;
  /**
   * The scanner's engine behind the ScanEngine interface (built once, when the consumer starts). `sql` is the
   * service's database when it has one (DATABASE_URL), for engines with reference data of their own.
   */
  engine: (deps: { sql: Sql | null }) => ScanEngine;
}

export interface ScannerModuleOptions {
  /** A log for this module alone; by default the one ServiceKitModule provides to the whole process. */
  eventLog?: EventLog;
}

/**
 * A scanner service as a Nest module: one consumer of its scan-request topic answering each request through its
 * engine (ScanStarted, the engine's events, ScanCompleted). Standalone under bootstrapService, or one module among
 * many in the all-in-one. Each scanner differs only in its spec.
 */
export function scannerModule(
  module: Type<unknown>,
  spec: ScannerModuleSpec,
  options: ScannerModuleOptions = {},
): DynamicModule {
  return {
    module,
    providers: [
      ...(options.eventLog ? [{ provide: EVENT_LOG, useValue: options.eventLog }] : []),
      {
        provide: `vigil:scan-request-consumer:${spec.group}`,
        inject: [EVENT_LOG, SERVICE_IDENTITY, ConsumerSupervisor, SERVICE_DATABASE],
        useFactory: (
          eventLog: EventLog,
          identity: ServiceIdentity,
          supervisor: ConsumerSupervisor,
          sql: Sql | null,
        ) => ({
          onApplicationBootstrap(): void {
            supervisor.run({
              eventLog,
              group: spec.group,
              topics: [spec.topic],
              handler: createScanRequestHandler({
                engine: spec.engine({ sql }),
                eventLog,
                identity,
                group: spec.group,
              }),
            });
          },
        }),
      },
    ],
  };
}
