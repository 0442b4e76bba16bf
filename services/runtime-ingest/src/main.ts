import 'reflect-metadata';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig, readConfigFile } from '@vigil/config';
import { EXIT_CONFIG, bootstrapService } from '@vigil/nest-kit';
import { createLogger } from '@vigil/telemetry';
import { runtimeIngestOptions, type RuntimeIngestConfig } from './runtime-ingest.options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

await bootstrapService({
  serviceName: 'runtime-ingest',
  serviceVersion: version,
  // Imported only after bootstrapService has started telemetry, so its instrumentation sees what the module loads.
  module: async (kit) => {
    let config: RuntimeIngestConfig;
    try {
      const file = kit.configFile ? readConfigFile(kit.configFile) : undefined;
      config = loadConfig(runtimeIngestOptions, { env: process.env, ...(file ? { file } : {}) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`runtime-ingest: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    if (!config.ingestToken)
      createLogger('runtime-ingest').warn(
        'RUNTIME_INGEST_TOKEN is not set: POST /v1/events/* is off; scan requests are still answered',
      );
    const { RuntimeIngestModule } = await import('./runtime-ingest.module.js');
    return RuntimeIngestModule.forRoot(
      config.ingestToken
        ? {
            http: {
              token: config.ingestToken,
              cluster: config.ingestCluster,
              maxBodyBytes: config.ingestMaxBody,
              maxInFlight: config.ingestMaxInFlight,
              publishTimeoutMs: config.ingestPublishTimeout,
            },
          }
        : {},
    );
  },
});
