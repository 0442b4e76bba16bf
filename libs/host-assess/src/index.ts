export {
  assessHost,
  hostReport,
  hostCheckResults,
  HostRootError,
  HOST_REPORT_SCHEMA_VERSION,
  type AssessHostInput,
  type HostAssessment,
} from './assess-host.js';
export { HOST_CHECKS, hostCheck } from './registry.js';
export type { Catalogue, CheckOutcome, CheckResult, CheckStatus, HostCheck } from './check.model.js';
// Test support, exported for other packages' tests (the service, the CLI e2e) that need a real node root.
export { materializeFixture, type MaterializedNode, type NodeFixture } from './fixture-materializer.js';
