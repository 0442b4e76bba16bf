import { Module, type DynamicModule } from '@nestjs/common';
import { TOPICS } from '@vigil/contracts';
import { scannerModule, type ScannerModuleOptions } from '@vigil/nest-kit';
import { putBlob } from '@vigil/store';
import { IMAGE_SCANNER_GROUP, imageScannerEngine } from './scan-request.consumer.js';

export type ImageScannerModuleOptions = ScannerModuleOptions & {
  clock?: () => Date;
  allowedRegistries?: readonly string[];
};

/** The image-scanner as a Nest module: standalone under bootstrapService, or one module among many in the all-in-one. */
@Module({})
export class ImageScannerModule {
  static forRoot(options: ImageScannerModuleOptions = {}): DynamicModule {
    return scannerModule(
      ImageScannerModule,
      {
        group: IMAGE_SCANNER_GROUP,
        topic: TOPICS.scanRequests.image,
        engine: ({ sql }) =>
          imageScannerEngine({
            sql,
            ...(sql ? { putBlob: (content, mediaType) => putBlob(sql, content, mediaType) } : {}),
            ...(options.clock ? { clock: options.clock } : {}),
            ...(options.allowedRegistries ? { allowedRegistries: options.allowedRegistries } : {}),
          }),
      },
      options,
    );
  }
}
