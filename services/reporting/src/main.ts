import 'reflect-metadata';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig } from '@vigil/config';
import { EXIT_CONFIG, bootstrapService } from '@vigil/nest-kit';
import { reportingOptions } from './reporting.options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

let entityType: 'merchant' | 'service_provider' = 'merchant';
if (!process.argv.includes('--help')) {
  try {
    entityType = loadConfig(reportingOptions, { env: process.env }).entityType;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`reporting: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

await bootstrapService({
  serviceName: 'reporting',
  serviceVersion: version,
  database: 'required',
  // Imported only after bootstrapService has started telemetry, so its instrumentation sees what the module loads.
  module: async (config) =>
    (await import('./reporting.module.js')).ReportingModule.forRoot({
      databaseUrl: config.databaseUrl as string,
      entityType,
      graphql: true,
    }),
});
