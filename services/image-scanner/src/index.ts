export { ImageScannerModule, type ImageScannerModuleOptions } from './image-scanner.module.js';
export { IMAGE_SCANNER_GROUP, imageScannerEngine } from './scan-request.consumer.js';
export {
  IMAGE_SCANNER_INVENTORY_GROUP,
  InventoryScanLoop,
  type InventoryScanLoopOptions,
  type DigestResolver,
} from './inventory-scan.loop.js';
export {
  RegistryAuth,
  parsePullSecretOption,
  type RegistryAuthOptions,
  type KubeAccess,
} from './registry-auth.js';
export { imageScannerOptions, type ImageScannerConfig } from './image-scanner.options.js';
