import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { createLogger } from '@vigil/telemetry';
import { ConsumerSupervisor } from './consumer.supervisor.js';
import { HealthController, MetricsController } from './health.controller.js';
import {
  ConsumersHealthIndicator,
  DatabaseHealthIndicator,
  LogHealthIndicator,
} from './health.indicators.js';
import { KIT_OPTIONS, type KitRuntimeOptions, type ServiceKitModuleOptions } from './kit-runtime.js';
import { EVENT_LOG, SERVICE_DATABASE, SERVICE_IDENTITY } from './tokens.js';

/** Closes what the kit was given to close, after the consumers stopped, and bounds how long that may take. */
@Injectable()
class KitLifecycle implements BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = createLogger('shutdown');
  private deadline: NodeJS.Timeout | undefined;

  constructor(@Inject(KIT_OPTIONS) private readonly kit: KitRuntimeOptions) {}

  beforeApplicationShutdown(signal?: string): void {
    this.logger.info(
      { signal: signal ?? null },
      `${this.kit.identity.service} shutting down: stopping consumers, then closing the log`,
    );
    if (this.kit.shutdownTimeoutMs !== undefined) {
      const ms = this.kit.shutdownTimeoutMs;
      this.deadline = setTimeout(() => {
        this.logger.error(`graceful shutdown took longer than ${ms} ms; exiting`);
        process.exit(1);
      }, ms);
      this.deadline.unref();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.kit.onShutdown?.();
    } finally {
      if (this.deadline) clearTimeout(this.deadline);
    }
  }
}

/**
 * What every service gets from the kit, registered once per process (global): the EventLog and database
 * providers, the consumer supervisor, readiness indicators and, with `http`, the /healthz, /readyz and /metrics
 * controllers. Service modules only add their consumers; the all-in-one registers this once beside all of them.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitModuleOptions): DynamicModule {
    const runtime: KitRuntimeOptions = {
      identity: options.identity,
      eventLog: options.eventLog,
      http: options.http ?? true,
      logDescription: options.logDescription ?? 'event log',
      sql: options.sql ?? null,
      ...(options.onShutdown ? { onShutdown: options.onShutdown } : {}),
      ...(options.consumerGroupPrefix ? { consumerGroupPrefix: options.consumerGroupPrefix } : {}),
      ...(options.shutdownTimeoutMs !== undefined ? { shutdownTimeoutMs: options.shutdownTimeoutMs } : {}),
    };
    return {
      module: ServiceKitModule,
      global: true,
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: runtime.http ? [HealthController, MetricsController] : [],
      providers: [
        { provide: KIT_OPTIONS, useValue: runtime },
        { provide: EVENT_LOG, useValue: options.eventLog },
        { provide: SERVICE_DATABASE, useValue: runtime.sql },
        { provide: SERVICE_IDENTITY, useValue: options.identity },
        ConsumerSupervisor,
        LogHealthIndicator,
        DatabaseHealthIndicator,
        ConsumersHealthIndicator,
        KitLifecycle,
      ],
      exports: [KIT_OPTIONS, EVENT_LOG, SERVICE_DATABASE, SERVICE_IDENTITY, ConsumerSupervisor],
    };
  }
}

@Module({})
class ServiceRootModule {}

/**
 * The root module of a process: the kit once, then the service modules. bootstrapService uses it for one service;
 * the all-in-one passes every service module (and its own) with one shared log and database.
 */
export function composeServiceModules(
  kit: ServiceKitModuleOptions,
  modules: (DynamicModule | Type<unknown>)[],
): DynamicModule {
  return { module: ServiceRootModule, imports: [ServiceKitModule.forRoot(kit), ...modules] };
}
