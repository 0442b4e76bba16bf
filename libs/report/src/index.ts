// @vigil/report: the reporting side's pure core. Events fold into scope state (evolve), the state builds an
// immutable, hash-chained snapshot (buildSnapshot), snapshots diff (diffSnapshots) and render (complianceReport,
// snapshotList, renderComplianceTable). No I/O, no clock: callers inject both.
export {
  initialState,
  evolve,
  fold,
  readyForSnapshot,
  scanReadiness,
  scopeKey,
  scopeStateOf,
  inventoryKey,
  type ReportState,
  type ScopeState,
  type ScanRecord,
  type FindingRecord,
  type FindingReport,
  type InventoryRecord,
  type ExceptionState,
  type AttestationState,
  type ScanReadiness,
} from './scope-state.js';
export {
  resolveFindings,
  reportedFindingOf,
  type ResolutionOptions,
  type Resolution,
  type OpenFinding,
  type TargetGroup,
  runtimeAsOf,
} from './finding-resolution.js';
export {
  selectorMatches,
  imageRepository,
  exceptionViews,
  packageMatches,
  pathMatches,
  purlWithoutVersion,
  type ExceptionView,
  type ExceptionStanding,
} from './exception-match.js';
export { attestationViews, type AttestationView, type AttestationStandingWord } from './attestation.js';
export { exceptionUses, attestationUses } from './exception-use.js';
export { renderExceptionListing } from './exception-listing.renderer.js';
export {
  ExceptionInputError,
  exceptionRecorded,
  exceptionRevoked,
  requirementAttested,
  attestationRevoked,
  findingSourceOf,
  knownRequirement,
  parseDeadline,
  type AcceptRiskInput,
  type AttestInput,
} from './exception-events.js';
export {
  ENTITY_TYPES,
  isAssessable,
  parseEntityType,
  type EntityType,
  type RequirementCatalog,
  type CatalogRequirement,
  type FindingMapping,
  type Coverage,
  type EvidenceSource,
} from './catalog.port.js';
export { pciCatalog, type PciCatalogOptions } from './pci-catalog.adapter.js';
export { type StatusOptions } from './requirement-status.js';
export {
  buildSnapshot,
  contentHashOf,
  reportFromContent,
  isContentHash,
  findingCounts,
  requirementSummary,
  type BuildSnapshotInput,
  type FindingOrder,
  type Snapshot,
  type SnapshotRef,
  type LogPositionInput,
} from './snapshot.builder.js';
export { canonicalJson, canonicalBytes, fromCanonicalJson } from './canonical-json.js';
export { diffSnapshots, changedFields } from './snapshot-diff.js';
export {
  complianceReport,
  exceptionListing,
  snapshotList,
  snapshotMeta,
  type ExceptionListing,
  type SnapshotMeta,
} from './compliance-report.js';
export {
  renderComplianceTable,
  acceptedFindingIds,
  REQUIREMENT_STATUS_WORDS,
  type TableOptions,
} from './compliance-table.renderer.js';
export {
  toSarif,
  sarifLevel,
  securitySeverity,
  comparePciIds,
  SARIF_SCHEMA_URI,
  SARIF_OUTPUT_VERSION,
  FINGERPRINT_KEY,
  type SarifOptions,
  type SarifLog,
  type SarifRun,
  type SarifResult,
  type SarifLevel,
  type ReportingDescriptor,
} from './sarif/sarif.renderer.js';
export * from './evidence/index.js';
export {
  runtimeWindowOf,
  lastSeenOf,
  closeReasonOf,
  DEFAULT_RUNTIME_QUIET_PERIOD_MS,
  type RuntimeWindow,
  type RuntimeCloseReason,
  type DetectionClosure,
} from './runtime-window.js';
export * from './junit/index.js';
export { digestFromContent, type SnapshotDigest } from './snapshot-digest.js';
export { assetKey } from './asset-key.js';
