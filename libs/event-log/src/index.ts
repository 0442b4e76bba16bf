export {
  DEAD_LETTER_HEADERS,
  type BatchHandler,
  type ConsumedRecord,
  type DeadLetterFailure,
  type DeadLetterValue,
  type EventLog,
  type EventLogLogger,
  type LogRecord,
  type PartitionLag,
  type SubscribeOptions,
  type Subscription,
  type TopicSpec,
} from './event-log.port.js';
export { createKafkaEventLog, type KafkaEventLogOptions } from './kafka.adapter.js';
export { traced, recordContext, withRecordContext } from './traced.js';
export { murmur2, partitionForKey } from './murmur2.js';
export { createEmbeddedEventLog, type EmbeddedEventLogOptions } from './embedded.adapter.js';
export { SCHEMA_STEPS as EMBEDDED_LOG_SCHEMA_STEPS } from './embedded.schema.js';
