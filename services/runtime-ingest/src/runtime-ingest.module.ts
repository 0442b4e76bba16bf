import cluster from 'node:cluster';
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
import { clusterMetricsHandler, sendMetricsOnRequest } from './cluster-metrics.js';
import { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from './scan-request.consumer.js';
import {
  DEFAULT_SENSOR_CHECK_INTERVAL_MS,
  DEFAULT_SENSOR_SILENCE_MS,
  SENSOR_WATCH,
  SensorWatch,
  type SensorWatchOptions,
} from './sensor-watch.js';
import { DEFAULT_SENSOR_SEEN_INTERVAL_MS } from './sensor-watch.seen.js';

export type RuntimeIngestModuleOptions = ScannerModuleOptions & {
  /** Time of events that carry none (scan requests and HTTP); default the wall clock. */
  clock?: () => Date;
  /** Serve POST /v1/events/{falco,tetragon,k8s-audit}. Absent: the routes do not exist. */
  http?: RuntimeEventsHttpOptions;
  /** With http: how the sensor watch judges silence across requests (defaults: 2 h, checked every minute). */
  sensorWatch?: Partial<SensorWatchOptions>;
};

/** The runtime-ingest as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class RuntimeIngestModule {
  static forRoot(options: RuntimeIngestModuleOptions = {}): DynamicModule {
    const { http, clock, sensorWatch, ...scannerOptions } = options;
    const base = scannerModule(
      RuntimeIngestModule,
      {
        group: RUNTIME_INGEST_GROUP,
        topic: TOPICS.scanRequests.runtime,
        engine: () => runtimeIngestEngine(clock ? { clock } : {}),
      },
      scannerOptions,
    );
    // A worker of several (RUNTIME_INGEST_WORKERS > 1) answers /metrics with the sum over all workers, ahead of
    // the kit's own /metrics route (see cluster-metrics.ts). A lone process keeps the kit's.
    if (cluster.isWorker && process.env['RUNTIME_INGEST_WORKER'])
      base.providers = [
        ...(base.providers ?? []),
        {
          provide: 'vigil:runtime-ingest:cluster-metrics',
          inject: [HttpAdapterHost],
          useFactory: (host: HttpAdapterHost) => {
            sendMetricsOnRequest();
            host.httpAdapter?.use('/metrics', clusterMetricsHandler());
            return '/metrics';
          },
        },
      ];
    if (!http) return base;
    // The clock that stamps received_at, so silence is measured on the clock that timed what was heard.
    const watchClock = sensorWatch?.clock ?? http.clock ?? clock;
    const watchOptions: SensorWatchOptions = {
      silenceMs: sensorWatch?.silenceMs ?? http.sensorSilenceMs ?? DEFAULT_SENSOR_SILENCE_MS,
      checkIntervalMs: sensorWatch?.checkIntervalMs ?? DEFAULT_SENSOR_CHECK_INTERVAL_MS,
      ...(watchClock ? { clock: watchClock } : {}),
    };
    // One silence interval, whether the gap is inside a delivery or between deliveries.
    const httpOptions: RuntimeEventsHttpOptions = {
      ...http,
      sensorSilenceMs: watchOptions.silenceMs,
      ...(clock && !http.clock ? { clock } : {}),
    };
    const seenEvery = http.sensorSeenIntervalMs ?? DEFAULT_SENSOR_SEEN_INTERVAL_MS;
    // A sensor heard from is reported at most this often: an interval as long as the silence would call it silent.
    if (seenEvery >= watchOptions.silenceMs)
      throw new Error(
        `runtime-ingest: the SensorSeen interval (${seenEvery} ms) must be shorter than the sensor silence interval (${watchOptions.silenceMs} ms)`,
      );
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
          // Only where sensors post: the watch judges what this tier publishes (SensorSeen).
          provide: SENSOR_WATCH,
          inject: [EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (eventLog: EventLog, identity: ServiceIdentity) =>
            new SensorWatch(eventLog, identity, watchOptions),
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
