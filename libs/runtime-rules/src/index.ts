export {
  ingestEvents,
  DEFAULT_CLUSTER,
  DEFAULT_RUNTIME_POLICY,
  DEFAULT_SENSOR_SILENCE_MS,
  type IngestCounts,
  type IngestEventsInput,
  type IngestEventsResult,
  type SensorTelemetry,
} from './ingest.js';
export {
  readEvents,
  RuntimeInputError,
  DEFAULT_READ_LIMITS,
  type ReadEventsOptions,
  type ReadEventsResult,
  type ReadLimits,
  type RawRuntimeEvent,
  type SkippedLine,
} from './input/read-events.js';
export {
  RUNTIME_NORMALIZERS,
  RUNTIME_FORMATS,
  RUNTIME_POLICIES,
  isRuntimeFormat,
  normalizerFor,
  type RuntimeFormat,
} from './registry.js';
export {
  pciMeaning,
  severityOf,
  KIND_MAPPING,
  KIND_SEVERITY_FLOOR,
  PRIORITY_SEVERITY,
  type PciMeaning,
} from './meaning/pci-meaning.js';
export { toFindings, timestampOf, instantOf, type Instant } from './meaning/to-findings.js';
export type {
  RuntimeInventoryPort,
  RuntimePolicyConfig,
  RuntimeNormalizer,
  NormalizeContext,
  NormalizeOutcome,
  DetectContext,
  JsonObject,
} from './normalizers/normalizer.model.js';
export * from './detection.model.js';
export {
  sensorHealthFindings,
  sensorSilenceFinding,
  sensorSightings,
  SENSOR_DROPS_RULE,
  SENSOR_SILENT_RULE,
  type SensorRecord,
  type SensorSighting,
  type SensorSilence,
} from './meaning/sensor-health.js';
export {
  detectionClosed,
  DetectionCloseError,
  type DetectionCloseInput,
  type ManualCloseReason,
} from './lifecycle/detection-close.js';
