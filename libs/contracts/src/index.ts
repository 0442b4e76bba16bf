// Generated from proto/vigil/v1 (npm run codegen): every message's type and *Schema descriptor, every enum.
export * from './gen/vigil/v1/options_pb.js';
export * from './gen/vigil/v1/common_pb.js';
export * from './gen/vigil/v1/finding_pb.js';
export * from './gen/vigil/v1/scan_pb.js';
export * from './gen/vigil/v1/inventory_pb.js';
export * from './gen/vigil/v1/exception_pb.js';
export * from './gen/vigil/v1/compliance_pb.js';
export * from './gen/vigil/v1/snapshot_pb.js';
export * from './gen/vigil/v1/sensor_pb.js';
export * from './gen/vigil/v1/report_pb.js';
export * from './gen/vigil/v1/envelope_pb.js';

export {
  TOPICS,
  TOPIC_PARTITIONS,
  ALL_TOPICS,
  type TopicName,
  type TopicSpec,
  scanRequestTopic,
  findingsTopic,
  topicFor,
} from './topics.js';
export {
  newEnvelope,
  encodeEnvelope,
  decodeEnvelope,
  reportedFindingBytes,
  eventTypeOf,
  EnvelopeDecodeError,
  type EnvelopeDecodeFailure,
  type EnvelopePayloadInit,
  type NewEnvelopeInput,
} from './envelope.js';
export { readEnvelope } from './envelope-reader.js';
export {
  findingId,
  findingIdCanonical,
  type FindingIdInput,
  type FindingAssetIdentity,
} from './finding-id.js';
export { targetKeyOf, LIVE_TARGET_KEY } from './target-key.js';
export { toReportJson, fromReportJson, type FromReportJsonOptions } from './report-json.js';
export {
  SCHEMA_VERSIONS,
  EVENT_SCHEMA_VERSIONS,
  REPORT_UPCASTERS,
  EVENT_UPCASTERS,
  upcast,
  upcastEvent,
  isReportTypeName,
  readableSchemaVersion,
  type ReportTypeName,
  type PayloadCase,
  type ReportUpcaster,
  type ReportUpcastTables,
  type EventUpcaster,
} from './schema-versions.js';

// The protobuf runtime, re-exported so every package uses the one pinned @bufbuild/protobuf (its generated code and
// runtime must be the same version) without depending on it directly.
export {
  create,
  clone,
  equals,
  isMessage,
  toBinary,
  fromBinary,
  toJson,
  fromJson,
  ScalarType,
  type DescField,
  type DescMessage,
  type DescEnum,
  type JsonObject,
  type JsonValue,
  type MessageInitShape,
  type MessageShape,
} from '@bufbuild/protobuf';
export {
  timestampFromDate,
  timestampDate,
  timestampNow,
  type Timestamp,
  TimestampSchema,
} from '@bufbuild/protobuf/wkt';
export { canonicalImageRef, type CanonicalImageRef } from './image-ref.js';
