import 'reflect-metadata';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig, readConfigFile } from '@vigil/config';
import { EXIT_CONFIG, bootstrapService } from '@vigil/nest-kit';
import { hostAssessorOptions, type HostAssessorConfig } from './host-assessor.options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

await bootstrapService({
  serviceName: 'host-assessor',
  serviceVersion: version,
  // Imported only after bootstrapService has started telemetry, so its instrumentation sees what the module loads.
  module: async (kit) => {
    let config: HostAssessorConfig;
    try {
      const file = kit.configFile ? readConfigFile(kit.configFile) : undefined;
      config = loadConfig(hostAssessorOptions, { env: process.env, ...(file ? { file } : {}) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`host-assessor: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const { HostAssessorModule } = await import('./host-assessor.module.js');
    return HostAssessorModule.forRoot(
      config.nodeName
        ? {
            node: {
              name: config.nodeName,
              root: config.hostRoot,
              intervalMs: config.assessInterval,
              cluster: config.assessCluster,
            },
          }
        : {},
    );
  },
});
