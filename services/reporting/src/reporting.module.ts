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
import { pciCatalog, type EntityType } from '@vigil/report';
import { createTokenStore, openReportingStore, runMigrations, type ReportingStore } from '@vigil/store';
import { createLogger } from '@vigil/telemetry';
import { graphqlApi, type QueryLimits } from './graphql/index.js';
import { ReportingProjection } from './reporting.projection.js';
import { SnapshotMaker } from './snapshot-maker.js';

export const REPORTING_STORE = 'vigil:reporting-store';
export const REPORTING_GROUP = 'vigil.reporting';

export interface ReportingModuleOptions {
  databaseUrl: string;
  entityType: EntityType;
  /** Wall clock for snapshot creation times (kept beside the content, never in it). */
  clock?: () => Date;
  /** Serve the GraphQL API on /graphql (only where the application serves HTTP). */
  graphql?: boolean | { limits?: Partial<QueryLimits> };
}

// Everything on the log except the scan requests (which are instructions to scanners, not facts) and the
// snapshot announcements this service writes itself.
export const REPORTING_TOPICS = ALL_TOPICS.map((t) => t.name).filter(
  (name) => !name.startsWith('scan.requests.') && name !== TOPICS.snapshots && name !== TOPICS.deadLetter,
);

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
      maxBatchSize: 500,
    });
  }
}

@Injectable()
class StoreCloser implements OnApplicationShutdown {
  constructor(@Inject(REPORTING_STORE) private readonly store: ReportingStore) {}
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
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
          ...(typeof options.graphql === 'object' ? options.graphql : {}),
        })
      : { imports: [], providers: [] };
    return {
      module: ReportingModule,
      imports: api.imports,
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
        ReportingConsumer,
        StoreCloser,
      ],
      exports: [REPORTING_STORE],
    };
  }
}

function pinoAdapter() {
  const logger = createLogger('reporting');
  return {
    info: (msg: string, fields?: Record<string, unknown>) => logger.info(fields ?? {}, msg),
    warn: (msg: string, fields?: Record<string, unknown>) => logger.warn(fields ?? {}, msg),
  };
}
