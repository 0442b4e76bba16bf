import 'reflect-metadata';
import { createRequire } from 'node:module';
import { bootstrapService } from '@vigil/nest-kit';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

await bootstrapService({
  serviceName: 'runtime-ingest',
  serviceVersion: version,
  // Imported only after bootstrapService has started telemetry, so its instrumentation sees what the module loads.
  module: async () => (await import('./runtime-ingest.module.js')).RuntimeIngestModule.forRoot(),
});
