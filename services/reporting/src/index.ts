export {
  ReportingModule,
  REPORTING_GROUP,
  REPORTING_STORE,
  REPORTING_TOPICS,
  type ReportingModuleOptions,
} from './reporting.module.js';
export { reportingOptions } from './reporting.options.js';
export { ReportingProjection } from './reporting.projection.js';
