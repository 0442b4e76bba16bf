export { RuntimeIngestModule, type RuntimeIngestModuleOptions } from './runtime-ingest.module.js';
export { RUNTIME_INGEST_GROUP, runtimeIngestEngine } from './scan-request.consumer.js';
