import { Module, type DynamicModule } from '@nestjs/common';
import { type EventLog } from '@vigil/event-log';
import { EVENT_LOG } from '@vigil/nest-kit';
import { ScanRequestConsumer } from './scan-request.consumer.js';

export interface ImageScannerModuleOptions {
  /** A log for this module alone; by default the one ServiceKitModule provides to the whole process. */
  eventLog?: EventLog;
}

/** The image-scanner as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class ImageScannerModule {
  static forRoot(options: ImageScannerModuleOptions = {}): DynamicModule {
    return {
      module: ImageScannerModule,
      providers: [
        ...(options.eventLog ? [{ provide: EVENT_LOG, useValue: options.eventLog }] : []),
        ScanRequestConsumer,
      ],
    };
  }
}
