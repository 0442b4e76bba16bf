export {
  auditManifests,
  auditObjects,
  type AuditManifestsInput,
  type AuditResult,
  type AuditedOutcome,
} from './audit.js';
export { CHECKS, checkById } from './checks/registry.js';
export type { CheckDefinition, CheckOutcome, PciUse } from './checks/check.model.js';
export {
  describeLoadErrors,
  loadManifests,
  parseManifestText,
  DEFAULT_LOADER_LIMITS,
  type LoadError,
  type LoadResult,
  type LoaderLimits,
} from './load/manifest-loader.js';
export type { LoadedObject, SourcePosition } from './model/k8s-object.js';
export {
  readCluster,
  liveSource,
  CredentialsRejectedError,
  type ReadClusterOptions,
  type ClusterReadResult,
  type ClusterIdentity,
  type SkippedKind,
} from './live/cluster-reader.js';
export {
  watchCluster,
  type WatchClusterOptions,
  type ClusterEvent,
  type ClusterEventType,
  type ClusterWatchError,
} from './live/watch.js';
export { auditCluster, type AuditClusterInput, type AuditClusterResult } from './live/audit-cluster.js';
export { LIVE_KINDS, type LiveKind, type LiveKindInfo } from './live/live-kinds.js';
export type { ConnectOptions } from './live/kube-connection.js';
export { buildInventory, type InventoryAnalyses } from './inventory.js';
export { isConfigFile } from './model/k8s-object.js';
export {
  explainNetwork,
  renderNetworkExplanation,
  type NetworkExplanation,
  type DirectionExplanation,
} from './network/explain.js';
export {
  analyzeNetwork,
  exposuresOf,
  type NetworkAnalysis,
  type WorkloadNetwork,
  type DirectionView,
  type AllowedRule,
  type Peer,
  type PortView,
  type Exposures,
  type ServiceExposure as NetworkServiceExposure,
  type IngressExposure,
} from './network/analysis.js';
export { ALLOWED_EGRESS_ANNOTATION, EXPOSURE_ANNOTATION } from './network/declared.js';
export {
  effectivePermissions,
  serviceAccountRights,
  subjectKey,
  type EffectivePermissions,
  type RbacSubject,
  type Grant,
  type ResolvedBinding,
} from './rbac/effective.js';
export { CAPABILITY_NAMES } from './rbac/capabilities.js';
export { applyStrategicMerge, StrategicMergeError } from './remediation/strategic-merge.js';
export { CLUSTER_CHECKS } from './checks/cluster.checks.js';
