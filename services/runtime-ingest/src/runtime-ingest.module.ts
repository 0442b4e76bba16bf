import { Module, type DynamicModule } from '@nestjs/common';
import { TOPICS } from '@vigil/contracts';
import { scannerModule, type ScannerModuleOptions } from '@vigil/nest-kit';
import { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from './scan-request.consumer.js';

export type RuntimeIngestModuleOptions = ScannerModuleOptions;

/** The runtime-ingest as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class RuntimeIngestModule {
  static forRoot(options: RuntimeIngestModuleOptions = {}): DynamicModule {
    return scannerModule(
      RuntimeIngestModule,
      {
        group: RUNTIME_INGEST_GROUP,
        topic: TOPICS.scanRequests.runtime,
        engine: () => runtimeIngestEngine(),
      },
      options,
    );
  }
}
