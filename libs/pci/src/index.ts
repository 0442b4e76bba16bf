export {
  FRAMEWORK_VERSION,
  assessable,
  canonicalId,
  catalog,
  children,
  isAssessableLevel,
  isRequirementId,
  principalOf,
  requirement,
} from './catalog.js';
export { findingMapping, mappingKeys, requirementsFor } from './mapping.js';
export {
  isLegacyTag,
  legacyNumberOf,
  legacyRemapTable,
  normalizeRequirementId,
  parseRequirementList,
  remapLegacyId,
  type LegacyRemap,
} from './legacy-ids.js';
export { assertKnownRequirementIds, type AssertKnownOptions } from './assert-known-ids.js';
export type { LegacyRemapEntry, LegacySource } from './legacy-remap.data.js';
export type { FindingMapping, MappedRequirement } from './mapping.model.js';
export type {
  Applicability,
  AssessmentProfile,
  Coverage,
  EntityType,
  EvidenceSource,
  FutureDated,
  Requirement,
  RequirementLevel,
} from './requirement.model.js';
