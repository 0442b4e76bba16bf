import { Module, type DynamicModule } from '@nestjs/common';
import { TOPICS } from '@vigil/contracts';
import { scannerModule, type ScannerModuleOptions } from '@vigil/nest-kit';
import { HOST_ASSESSOR_GROUP, hostAssessorEngine } from './scan-request.consumer.js';

export type HostAssessorModuleOptions = ScannerModuleOptions;

/** The host-assessor as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class HostAssessorModule {
  static forRoot(options: HostAssessorModuleOptions = {}): DynamicModule {
    return scannerModule(
      HostAssessorModule,
      { group: HOST_ASSESSOR_GROUP, topic: TOPICS.scanRequests.host, engine: () => hostAssessorEngine() },
      options,
    );
  }
}
