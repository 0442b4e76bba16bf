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
});

export type RuntimeIngestConfig = ConfigOf<typeof runtimeIngestOptions>;
