import 'reflect-metadata';
import cluster from 'node:cluster';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig, readConfigFile } from '@vigil/config';
import { EXIT_CONFIG, bootstrapService, loadServiceConfig } from '@vigil/nest-kit';
import { createLogger } from '@vigil/telemetry';
import { runtimeIngestOptions, type RuntimeIngestConfig } from './runtime-ingest.options.js';
import { superviseWorkers, workerCount } from './workers.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

const argv = process.argv.slice(2);
// The primary of several workers only supervises; a single worker is the plain service in this process.
let workers = 1;
let kit: ReturnType<typeof loadServiceConfig> | undefined;
if (cluster.isPrimary && !argv.includes('--help') && !argv.includes('-h')) {
  try {
    kit = loadServiceConfig(process.env, argv);
    const file = kit.configFile ? readConfigFile(kit.configFile) : undefined;
    const { ingestWorkers } = loadConfig(runtimeIngestOptions, {
      env: process.env,
      ...(file ? { file } : {}),
    });
    workers = workerCount(ingestWorkers);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`runtime-ingest: ${err.message}\n`);
    process.exit(EXIT_CONFIG);
  }
}

if (cluster.isPrimary && workers > 1 && kit) {
  const logger = createLogger('runtime-ingest-primary');
  const supervisor = superviseWorkers({
    workers,
    shutdownTimeoutMs: kit.shutdownTimeout,
    configExitCode: EXIT_CONFIG,
    ...(kit.serviceInstanceId ? { instanceId: kit.serviceInstanceId } : {}),
    logger: {
      info: (m) => logger.info(m),
      warn: (m) => logger.warn(m),
      error: (m) => logger.error(m),
    },
  });
  logger.info(`runtime-ingest ${version}: ${workers} workers on port ${kit.port}`);
  process.once('SIGTERM', () => supervisor.stop('SIGTERM'));
  process.once('SIGINT', () => supervisor.stop('SIGINT'));
} else {
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
                sensorSeenIntervalMs: config.sensorSeenInterval,
              },
              sensorWatch: {
                silenceMs: config.sensorSilence,
                checkIntervalMs: config.sensorCheckInterval,
              },
            }
          : {},
      );
    },
  });
}
