export { ImageScannerModule, type ImageScannerModuleOptions } from './image-scanner.module.js';
export { IMAGE_SCANNER_GROUP, imageScannerEngine } from './scan-request.consumer.js';
