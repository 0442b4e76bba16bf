import { Module, type DynamicModule } from '@nestjs/common';
import { type EventLog } from '@vigil/event-log';
import { EVENT_LOG, SERVICE_IDENTITY } from '@vigil/nest-kit';
import { CORRELATION_RUNNER, CorrelationConsumer, correlationRunnerFactory } from './correlation.consumer.js';

export interface CorrelatorModuleOptions {
  /** A log for this module alone; by default the one ServiceKitModule provides to the whole process. */
  eventLog?: EventLog;
}

/** The correlator as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class CorrelatorModule {
  static forRoot(options: CorrelatorModuleOptions = {}): DynamicModule {
    return {
      module: CorrelatorModule,
      providers: [
        ...(options.eventLog ? [{ provide: EVENT_LOG, useValue: options.eventLog }] : []),
        {
          provide: CORRELATION_RUNNER,
          useFactory: correlationRunnerFactory,
          inject: [EVENT_LOG, SERVICE_IDENTITY],
        },
        CorrelationConsumer,
      ],
      exports: [CORRELATION_RUNNER],
    };
  }
}
