import 'reflect-metadata';
import { createRequire } from 'node:module';
import { ConfigError, loadConfig, readConfigFile } from '@vigil/config';
import { EXIT_CONFIG, bootstrapService } from '@vigil/nest-kit';
import { imageScannerOptions, type ImageScannerConfig } from './image-scanner.options.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

await bootstrapService({
  serviceName: 'image-scanner',
  serviceVersion: version,
  // Imported only after bootstrapService has started telemetry, so its instrumentation sees what the module loads.
  module: async (kit) => {
    let config: ImageScannerConfig;
    try {
      const file = kit.configFile ? readConfigFile(kit.configFile) : undefined;
      config = loadConfig(imageScannerOptions, { env: process.env, ...(file ? { file } : {}) });
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`image-scanner: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    const kube = config.inCluster
      ? { inCluster: true }
      : config.kubeconfig
        ? { kubeconfig: config.kubeconfig }
        : undefined;
    const { ImageScannerModule } = await import('./image-scanner.module.js');
    return ImageScannerModule.forRoot({
      registryAuth: {
        ...(kube ? { kube } : {}),
        ...(config.registryAuthFile ? { authFile: config.registryAuthFile } : {}),
      },
      ...(config.inventoryScans
        ? {
            inventoryScans: {
              insecureRegistries: config.insecureRegistries,
              resolveTtlMs: config.resolveTtl,
            },
          }
        : {}),
    });
  },
});
