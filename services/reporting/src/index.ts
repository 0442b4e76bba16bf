export {
  ReportingModule,
  REPORTING_BATCH_SIZE,
  REPORTING_GROUP,
  REPORTING_STORE,
  REPORTING_TOPICS,
  type ReportingModuleOptions,
} from './reporting.module.js';
export { reportingOptions } from './reporting.options.js';
export {
  ReportingProjection,
  coversPosition,
  type RebuildResult,
  type RebuiltVersion,
} from './reporting.projection.js';
export { SnapshotMaker } from './snapshot-maker.js';
export {
  parseScopeKey,
  publishSnapshotRequest,
  versionForRequest,
  waitForRequest,
  type PublishedRequest,
} from './snapshot-requests.js';
