import { defineOptions, opt, type ConfigOf } from '@vigil/config';

// The runtime-ingest's own options, beside the kit's (event log, database, HTTP, telemetry). Read from the
// environment and the config file; bootstrapService parses the kit's flags only.
export const runtimeIngestOptions = defineOptions({
  ingestToken: opt.string({
    env: 'RUNTIME_INGEST_TOKEN',
    fileKey: 'runtimeIngest.token',
    secret: true,
    pattern: /^\S{16,}$/,
    patternHint: 'at least 16 characters without spaces',
    description:
      'Bearer token sensors (Falco, falcosidekick, Tetragon shippers, the API server audit webhook) send to POST /v1/events/*; unset: the HTTP ingest is off',
  }),
  ingestCluster: opt.string({
    env: 'RUNTIME_INGEST_CLUSTER',
    fileKey: 'runtimeIngest.cluster',
    default: 'default',
    pattern: /^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/,
    patternHint: 'a name of letters, digits, dot, dash, colon or underscore',
    description: 'Scope (cluster) of the events posted to this instance: part of every finding id',
  }),
  ingestMaxBody: opt.int({
    env: 'RUNTIME_INGEST_MAX_BODY_BYTES',
    fileKey: 'runtimeIngest.maxBodyBytes',
    default: 1024 * 1024,
    min: 1024,
    max: 64 * 1024 * 1024,
    description: 'Largest request body POST /v1/events/* accepts; larger ones get 413',
  }),
  ingestMaxInFlight: opt.int({
    env: 'RUNTIME_INGEST_MAX_IN_FLIGHT',
    fileKey: 'runtimeIngest.maxInFlight',
    default: 32,
    min: 1,
    max: 10_000,
    description: 'Requests publishing to the log at once; over it a request gets 429 with Retry-After',
  }),
  ingestPublishTimeout: opt.duration({
    env: 'RUNTIME_INGEST_PUBLISH_TIMEOUT',
    fileKey: 'runtimeIngest.publishTimeout',
    default: 10_000,
    min: 1,
    description: 'Longest a request waits for the log to acknowledge its findings before answering 503',
  }),
  ingestWorkers: opt.string({
    env: 'RUNTIME_INGEST_WORKERS',
    fileKey: 'runtimeIngest.workers',
    default: '1',
    pattern: /^(?:auto|[1-9][0-9]{0,2})$/,
    patternHint: '"auto" (one per CPU) or a number of processes from 1 to 999',
    description:
      'Processes serving the one port (node:cluster), each a full runtime-ingest with its own log producer; a primary restarts a dead one and drains them all on SIGTERM. auto: one per CPU',
  }),
  sensorSilence: opt.duration({
    env: 'RUNTIME_INGEST_SENSOR_SILENCE',
    fileKey: 'runtimeIngest.sensorSilence',
    default: 2 * 60 * 60 * 1000,
    min: 60_000,
    description:
      'A node whose sensor sent telemetry (Falco metrics, heartbeats) and then nothing for longer is reported runtime/sensor-silent (10.7.x); judged by the time runtime-ingest received it',
  }),
  sensorCheckInterval: opt.duration({
    env: 'RUNTIME_INGEST_SENSOR_CHECK_INTERVAL',
    fileKey: 'runtimeIngest.sensorCheckInterval',
    default: 60_000,
    min: 1000,
    description: 'How often each replica looks for sensors silent longer than RUNTIME_INGEST_SENSOR_SILENCE',
  }),
  sensorSeenInterval: opt.duration({
    env: 'RUNTIME_INGEST_SENSOR_SEEN_INTERVAL',
    fileKey: 'runtimeIngest.sensorSeenInterval',
    default: 30_000,
    min: 1000,
    description:
      'At most one SensorSeen per sensor per this interval from each replica (sooner when a sensor first sends telemetry or its dropped counter changes); must be shorter than RUNTIME_INGEST_SENSOR_SILENCE',
  }),
});

export type RuntimeIngestConfig = ConfigOf<typeof runtimeIngestOptions>;
