import {
  configFileOptions,
  databaseOptions,
  defineOptions,
  eventLogOptions,
  httpOptions,
  instanceOptions,
  requireOption,
  telemetryOptions,
  type ConfigOf,
} from '@vigil/config';

/** Every option the kit reads; a service spreads these into its own declarations when it has more. */
export const serviceKitOptions = defineOptions({
  ...configFileOptions,
  ...eventLogOptions,
  ...databaseOptions,
  ...httpOptions,
  ...telemetryOptions,
  ...instanceOptions,
});

export type ServiceKitConfig = ConfigOf<typeof serviceKitOptions>;

/** Whether the service keeps tables of its own (the reporting side does; the scanners do not yet). */
export type DatabaseNeed = 'none' | 'required';

/** Cross-option rules loadConfig cannot express on a single option. Throws ConfigError. */
export function checkKitConfig(config: ServiceKitConfig, database: DatabaseNeed): void {
  if (config.eventLog === 'embedded')
    requireOption(serviceKitOptions, 'databaseUrl', config.databaseUrl, 'when EVENT_LOG=embedded');
  if (database === 'required')
    requireOption(serviceKitOptions, 'databaseUrl', config.databaseUrl, 'by this service');
  if (config.eventLog === 'kafka')
    requireOption(serviceKitOptions, 'kafkaBrokers', config.kafkaBrokers, 'when EVENT_LOG=kafka');
}
