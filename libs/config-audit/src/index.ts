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
  loadManifests,
  parseManifestText,
  DEFAULT_LOADER_LIMITS,
  type LoadError,
  type LoadResult,
  type LoaderLimits,
} from './load/manifest-loader.js';
export type { LoadedObject, SourcePosition } from './model/k8s-object.js';
