export { RuntimeIngestModule, type RuntimeIngestModuleOptions } from './runtime-ingest.module.js';
export {
  RUNTIME_INGEST_GROUP,
  runtimeIngestEngine,
  type RuntimeIngestEngineOptions,
} from './scan-request.consumer.js';
export {
  RuntimeEventsIngest,
  type RuntimeEventsHttpOptions,
  type IngestReply,
} from './events-ingest.service.js';
export { RuntimeEventsController, DetectionsController, EVENTS_PATH } from './events.controller.js';
export { runtimeIngestOptions, type RuntimeIngestConfig } from './runtime-ingest.options.js';
export { skippedSummary, skippedLineCount } from './runtime-findings.js';
export { workerExecArgv } from './workers.js';
