export {
  AssetGraph,
  CorrelateInputError,
  type FindingRecord,
  type Stamp,
  type Versioned,
} from './asset-graph.js';
export {
  Correlator,
  correlateEvents,
  diffCorrelations,
  type CorrelationDiff,
  type PrioritizedFinding,
} from './correlator.js';
export {
  CORRELATION_RULES,
  type CorrelatedFinding,
  type CorrelationRule,
  type ContainerContext,
  type WorkloadContext,
} from './rules.js';
export {
  priorityOf,
  renderPriority,
  epssOf,
  isKnownExploited,
  type Priority,
  type PriorityFactor,
  type PriorityContext,
} from './priority.js';
export { normalizeImageRef } from './keys.js';
export {
  correlationSetId,
  correlatedEventId,
  deterministicEventId,
  CORRELATION_TARGET_KEY,
} from './publication.js';
