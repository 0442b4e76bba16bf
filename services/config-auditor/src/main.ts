import 'reflect-metadata';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig, readConfigFile } from '@vigil/config';
import { EXIT_CONFIG, bootstrapService } from '@vigil/nest-kit';
import { configAuditorOptions, type ConfigAuditorConfig } from './config-auditor.options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

await bootstrapService({
  serviceName: 'config-auditor',
  serviceVersion: version,
  // Imported only after bootstrapService has started telemetry, so its instrumentation sees what the module loads.
  module: async (kit) => {
    let config: ConfigAuditorConfig;
    try {
      const file = kit.configFile ? readConfigFile(kit.configFile) : undefined;
      config = loadConfig(configAuditorOptions, { env: process.env, ...(file ? { file } : {}) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`config-auditor: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const { ConfigAuditorModule } = await import('./config-auditor.module.js');
    return ConfigAuditorModule.forRoot({
      inCluster: config.inCluster,
      liveAudits: {
        cluster: config.auditCluster,
        intervalMs: config.auditInterval,
        onChange: config.auditOnChange,
        debounceMs: config.auditDebounce,
        ...(config.cdeLabel ? { cdeLabel: config.cdeLabel } : {}),
      },
    });
  },
});
