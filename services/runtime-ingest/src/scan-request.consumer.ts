import { ScannerKind } from '@vigil/contracts';
import { unavailableEngine, type ScanEngine } from '@vigil/nest-kit';

/** Replicas of the runtime-ingest share this group and split the partitions of scan.requests.runtime. */
export const RUNTIME_INGEST_GROUP = 'vigil.runtime-ingest';

/**
 * The runtime-ingest's engine. libs/runtime-rules does not exist in this build, so every scan completes with status
 * UNAVAILABLE and the message "runtime-rules engine is not available in this build": no findings, nothing resolved.
 * When the library lands, this is the one place that changes (wrap its public use case in a ScanEngine).
 */
export function runtimeIngestEngine(): ScanEngine {
  return unavailableEngine(ScannerKind.RUNTIME, 'runtime-rules');
}
