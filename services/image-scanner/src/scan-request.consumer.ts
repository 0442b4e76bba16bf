import { ScannerKind } from '@vigil/contracts';
import { unavailableEngine, type ScanEngine } from '@vigil/nest-kit';

/** Replicas of the image-scanner share this group and split the partitions of scan.requests.image. */
export const IMAGE_SCANNER_GROUP = 'vigil.image-scanner';

/**
 * The image-scanner's engine. libs/image-scan does not exist in this build, so every scan completes with status
 * UNAVAILABLE and the message "image-scan engine is not available in this build": no findings, nothing resolved.
 * When the library lands, this is the one place that changes (wrap its public use case in a ScanEngine).
 */
export function imageScannerEngine(): ScanEngine {
  return unavailableEngine(ScannerKind.IMAGE, 'image-scan');
}
