import { Module, type DynamicModule } from '@nestjs/common';
import { TOPICS } from '@vigil/contracts';
import { scannerModule, type ScannerModuleOptions } from '@vigil/nest-kit';
import { CONFIG_AUDITOR_GROUP, configAuditorEngine } from './scan-request.consumer.js';

export type ConfigAuditorModuleOptions = ScannerModuleOptions;

/** The config-auditor as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class ConfigAuditorModule {
  static forRoot(options: ConfigAuditorModuleOptions = {}): DynamicModule {
    return scannerModule(
      ConfigAuditorModule,
      { group: CONFIG_AUDITOR_GROUP, topic: TOPICS.scanRequests.config, engine: () => configAuditorEngine() },
      options,
    );
  }
}
