import { Module, type DynamicModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TOPICS } from '@vigil/contracts';
import { type EventLog } from '@vigil/event-log';
import {
  EVENT_LOG,
  SERVICE_IDENTITY,
  scannerModule,
  type ScannerModuleOptions,
  type ServiceIdentity,
} from '@vigil/nest-kit';
import {
  DetectionsController,
  EVENTS_PATH,
  RUNTIME_EVENTS_INGEST,
  RuntimeEventsController,
  eventsBodyReader,
} from './events.controller.js';
import { RuntimeEventsIngest, type RuntimeEventsHttpOptions } from './events-ingest.service.js';
import { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from './scan-request.consumer.js';

export type RuntimeIngestModuleOptions = ScannerModuleOptions & {
  /** Time of events that carry none (scan requests and HTTP); default the wall clock. */
  clock?: () => Date;
  /** Serve POST /v1/events/{falco,tetragon,k8s-audit}. Absent: the routes do not exist. */
  http?: RuntimeEventsHttpOptions;
};

/** The runtime-ingest as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class RuntimeIngestModule {
  static forRoot(options: RuntimeIngestModuleOptions = {}): DynamicModule {
    const { http, clock, ...scannerOptions } = options;
    const base = scannerModule(
      RuntimeIngestModule,
      {
        group: RUNTIME_INGEST_GROUP,
        topic: TOPICS.scanRequests.runtime,
        engine: () => runtimeIngestEngine(clock ? { clock } : {}),
      },
      scannerOptions,
    );
    if (!http) return base;
    const httpOptions: RuntimeEventsHttpOptions = { ...http, ...(clock && !http.clock ? { clock } : {}) };
    return {
      ...base,
      controllers: [RuntimeEventsController, DetectionsController],
      providers: [
        ...(base.providers ?? []),
        {
          provide: RUNTIME_EVENTS_INGEST,
          inject: [EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (eventLog: EventLog, identity: ServiceIdentity) =>
            new RuntimeEventsIngest(eventLog, identity, httpOptions),
        },
        {
          // Providers are built before the application registers its body parsers, so the reader is installed
          // ahead of them (see eventsBodyReader). Without an HTTP server (one-shot commands) there is nothing to do.
          provide: 'vigil:runtime-ingest:body-reader',
          inject: [HttpAdapterHost, RUNTIME_EVENTS_INGEST],
          useFactory: (host: HttpAdapterHost, ingest: RuntimeEventsIngest) => {
            host.httpAdapter?.use(EVENTS_PATH, eventsBodyReader(ingest));
            return EVENTS_PATH;
          },
        },
      ],
    };
  }
}
