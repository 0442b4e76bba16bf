import { Module, type DynamicModule } from '@nestjs/common';
import { type EventLog } from '@vigil/event-log';
import { EVENT_LOG } from '@vigil/nest-kit';
import { ScanRequestConsumer } from './scan-request.consumer.js';

export interface HostAssessorModuleOptions {
  /** A log for this module alone; by default the one ServiceKitModule provides to the whole process. */
  eventLog?: EventLog;
}

/** The host-assessor as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class HostAssessorModule {
  static forRoot(options: HostAssessorModuleOptions = {}): DynamicModule {
    return {
      module: HostAssessorModule,
      providers: [
        ...(options.eventLog ? [{ provide: EVENT_LOG, useValue: options.eventLog }] : []),
        ScanRequestConsumer,
      ],
    };
  }
}
