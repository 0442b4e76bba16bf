// Option sets every service shares. Services and the all-in-one CLI spread the sets they need into their own
// `defineOptions({...})`, so an env var such as KAFKA_BROKERS is declared here and nowhere else.
import { defineOptions, opt } from './option.js';

export const EVENT_LOG_KINDS = ['kafka', 'embedded'] as const;
export type EventLogKind = (typeof EVENT_LOG_KINDS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const eventLogOptions = defineOptions({
  eventLog: opt.enum({
    env: 'EVENT_LOG',
    fileKey: 'eventLog.kind',
    values: EVENT_LOG_KINDS,
    default: 'kafka',
    description: 'Event log adapter: kafka (distributed) or embedded (a Postgres table, needs DATABASE_URL)',
  }),
  kafkaBrokers: opt.list({
    env: 'KAFKA_BROKERS',
    fileKey: 'kafka.brokers',
    default: ['127.0.0.1:9092'],
    description: 'Kafka bootstrap brokers, host:port, comma-separated',
  }),
  kafkaClientId: opt.string({
    env: 'KAFKA_CLIENT_ID',
    fileKey: 'kafka.clientId',
    pattern: /^[A-Za-z0-9._-]+$/,
    patternHint: 'letters, digits, dot, underscore or dash',
    description: 'Kafka client id (defaults to the service name)',
  }),
  consumerGroupPrefix: opt.string({
    env: 'CONSUMER_GROUP_PREFIX',
    fileKey: 'eventLog.groupPrefix',
    pattern: /^[A-Za-z0-9._-]+$/,
    patternHint: 'letters, digits, dot, underscore or dash',
    description:
      'Put before every consumer group name (vigil.<service>): several deployments or test runs on one broker',
  }),
});

export const databaseOptions = defineOptions({
  databaseUrl: opt.url({
    env: 'DATABASE_URL',
    fileKey: 'database.url',
    protocols: ['postgres', 'postgresql'],
    secret: true,
    description: 'Postgres connection URL, e.g. postgres://user:password@host:5432/vigil',
  }),
});

export const httpOptions = defineOptions({
  port: opt.int({
    env: 'PORT',
    fileKey: 'http.port',
    min: 0,
    max: 65535,
    default: 8080,
    description: 'HTTP port (0 picks a free one)',
  }),
  host: opt.string({
    env: 'HOST',
    fileKey: 'http.host',
    default: '0.0.0.0',
    description: 'Address the HTTP server binds',
  }),
});

export const telemetryOptions = defineOptions({
  logLevel: opt.enum({
    env: 'LOG_LEVEL',
    fileKey: 'log.level',
    values: LOG_LEVELS,
    default: 'info',
    description: 'Log level',
  }),
  otelExporterOtlpEndpoint: opt.url({
    env: 'OTEL_EXPORTER_OTLP_ENDPOINT',
    flag: 'otlp-endpoint',
    fileKey: 'telemetry.otlpEndpoint',
    protocols: ['http', 'https'],
    description: 'OTLP/HTTP endpoint for traces; no traces are exported when unset',
  }),
});

export const instanceOptions = defineOptions({
  serviceInstanceId: opt.string({
    env: 'SERVICE_INSTANCE_ID',
    flag: 'instance-id',
    description: 'This process in event producer fields and logs (defaults to hostname-pid)',
  }),
  shutdownTimeout: opt.duration({
    env: 'SHUTDOWN_TIMEOUT',
    fileKey: 'shutdownTimeout',
    default: 15_000,
    min: 1,
    description: 'Longest a graceful shutdown may take before the process exits anyway',
  }),
});
