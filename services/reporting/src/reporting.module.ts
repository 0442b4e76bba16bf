import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ALL_TOPICS, TOPICS } from '@vigil/contracts';
import type { EventLog } from '@vigil/event-log';
import { ConsumerSupervisor, EVENT_LOG, SERVICE_IDENTITY, type ServiceIdentity } from '@vigil/nest-kit';
import { pciCatalog, type EntityType, type SigningKey } from '@vigil/report';
import { loadConfig } from '@vigil/config';
import { createTokenStore, openReportingStore, runMigrations, type ReportingStore } from '@vigil/store';
import { createLogger } from '@vigil/telemetry';
import { ERROR_CODES, apiError } from './graphql/api-errors.js';
import { readSigningKeyFile } from './graphql/evidence-bundles.js';
import { graphqlApi, type QueryLimits } from './graphql/index.js';
import type { SnapshotOnRequest } from './graphql/scan.resolver.js';
import { SNAPSHOT_ON_REQUEST } from './graphql/tokens.js';
import { evidenceOptions, snapshotScheduleOptions } from './reporting.options.js';
import { ReportingProjection } from './reporting.projection.js';
import { SnapshotMaker } from './snapshot-maker.js';
import {
  SnapshotRequestPending,
  SnapshotSchedule,
  publishSnapshotRequest,
  waitForRequest,
} from './snapshot-requests.js';

export const REPORTING_STORE = 'vigil:reporting-store';
export const REPORTING_GROUP = 'vigil.reporting';

export interface ReportingModuleOptions {
  databaseUrl: string;
  entityType: EntityType;
  /** Wall clock for snapshot creation times (kept beside the content, never in it). */
  clock?: () => Date;
  /** Serve the GraphQL API on /graphql (only where the application serves HTTP). */
  graphql?: boolean | { limits?: Partial<QueryLimits> };
  /** Scheduled snapshot requests every this many ms; 0 is off. Default: REPORTING_SNAPSHOT_INTERVAL. */
  snapshotIntervalMs?: number;
  /** How long createSnapshot waits for its version before answering that it is pending. Default 10 s. */
  snapshotRequestWaitMs?: number;
  /**
   * The evidence signing key exportEvidence signs with: `vigil up` passes the data dir's own. Default: the file
   * VIGIL_SIGNING_KEY names, or none (exportEvidence then answers that the option is not set).
   */
  signingKey?: () => Promise<SigningKey>;
}

const SNAPSHOT_SCHEDULE = 'vigil:reporting-snapshot-schedule';

// Everything on the log except the scan requests (which are instructions to scanners, not facts). The snapshots
// topic carries the snapshot requests the projection acts on; its own announcements there are stored and skipped.
export const REPORTING_TOPICS = ALL_TOPICS.map((t) => t.name).filter(
  (name) => !name.startsWith('scan.requests.') && name !== TOPICS.deadLetter,
);

/** Events per projection batch (bench/reporting uses the same). */
export const REPORTING_BATCH_SIZE = 2000;

@Injectable()
class ReportingConsumer implements OnApplicationBootstrap {
  constructor(
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
    private readonly supervisor: ConsumerSupervisor,
    private readonly projection: ReportingProjection,
  ) {}

  onApplicationBootstrap(): void {
    this.supervisor.run({
      eventLog: this.eventLog,
      group: REPORTING_GROUP,
      topics: REPORTING_TOPICS,
      handler: this.projection.handle,
      // Each batch is one transaction: its lock, catch-up check and commit cost the same whatever its size, and
      // its writes are pipelined in slices, so larger batches project faster (10,600 findings/s at 2,000 against
      // 9,300 at 500 in bench/reporting). On Kafka a batch is also bounded by a partition fetch (1 MiB, about
      // 1,000 findings).
      maxBatchSize: REPORTING_BATCH_SIZE,
    });
  }
}

@Injectable()
class StoreCloser implements OnApplicationShutdown {
  constructor(
    @Inject(REPORTING_STORE) private readonly store: ReportingStore,
    @Inject(SNAPSHOT_SCHEDULE) private readonly schedule: SnapshotSchedule,
  ) {}
  async onApplicationShutdown(): Promise<void> {
    await this.schedule.stop();
    await this.store.close();
  }
}

@Injectable()
class ScheduleStarter implements OnApplicationBootstrap {
  constructor(@Inject(SNAPSHOT_SCHEDULE) private readonly schedule: SnapshotSchedule) {}
  onApplicationBootstrap(): void {
    this.schedule.start();
  }
}

/**
 * The reporting side: folds the log into the event store, the projections and the snapshots. Its database is
 * its own (DATABASE_URL); scanners never write to it.
 */
@Module({})
export class ReportingModule {
  static forRoot(options: ReportingModuleOptions): DynamicModule {
    const api = options.graphql
      ? graphqlApi({
          storeToken: REPORTING_STORE,
          stateToken: ReportingProjection,
          tokens: createTokenStore,
          signingKey: options.signingKey ?? signingKeyFromEnv,
          ...(typeof options.graphql === 'object' ? options.graphql : {}),
        })
      : { imports: [], providers: [], controllers: [] };
    return {
      module: ReportingModule,
      imports: api.imports,
      controllers: api.controllers,
      providers: [
        ...api.providers,
        {
          provide: REPORTING_STORE,
          // The reporting side owns its schema: migrations are append-only, advisory-locked and a no-op when current.
          useFactory: async () => {
            await runMigrations(options.databaseUrl);
            return openReportingStore(options.databaseUrl, { applicationName: 'vigil.reporting' });
          },
        },
        {
          provide: ReportingProjection,
          inject: [REPORTING_STORE, EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (store: ReportingStore, eventLog: EventLog, identity: ServiceIdentity) =>
            new ReportingProjection({
              store,
              eventLog,
              producer: { service: 'reporting', version: identity.version, instance: identity.instance },
              snapshots: new SnapshotMaker(
                pciCatalog(),
                options.entityType,
                options.clock ?? (() => new Date()),
              ),
              logger: pinoAdapter(),
            }),
        },
        {
          provide: SNAPSHOT_SCHEDULE,
          inject: [REPORTING_STORE, EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (store: ReportingStore, eventLog: EventLog, identity: ServiceIdentity) =>
            new SnapshotSchedule({
              store,
              eventLog,
              producer: { service: 'reporting', version: identity.version, instance: identity.instance },
              intervalMs:
                options.snapshotIntervalMs ??
                loadConfig(snapshotScheduleOptions, { env: process.env }).snapshotInterval,
              logger: pinoAdapter(),
            }),
        },
        {
          provide: SNAPSHOT_ON_REQUEST,
          inject: [REPORTING_STORE, EVENT_LOG, SERVICE_IDENTITY],
          useFactory: (
            store: ReportingStore,
            eventLog: EventLog,
            identity: ServiceIdentity,
          ): SnapshotOnRequest => ({
            async create(scope, requestedBy) {
              const producer = {
                service: 'reporting',
                version: identity.version,
                instance: identity.instance,
              };
              const request = await publishSnapshotRequest(eventLog, producer, scope, requestedBy, 'api');
              const wait = options.snapshotRequestWaitMs ?? 10_000;
              const made = await waitForRequest(store, request, wait);
              // The request stays on the log and its version follows; the caller learns which request to look for.
              if (!made)
                throw apiError(ERROR_CODES.unavailable, new SnapshotRequestPending(request, wait).message, {
                  requestId: request.requestId,
                });
              return made;
            },
          }),
        },
        ReportingConsumer,
        ScheduleStarter,
        StoreCloser,
      ],
      exports: [REPORTING_STORE],
    };
  }
}

async function signingKeyFromEnv(): Promise<SigningKey | undefined> {
  const path = loadConfig(evidenceOptions, { env: process.env }).signingKey;
  return path === undefined ? undefined : readSigningKeyFile(path);
}

function pinoAdapter() {
  const logger = createLogger('reporting');
  return {
    info: (msg: string, fields?: Record<string, unknown>) => logger.info(fields ?? {}, msg),
    warn: (msg: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, msg),
  };
}
