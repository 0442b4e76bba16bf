import { type EventLog, type EventLogLogger } from '@vigil/event-log';
import { type Sql } from '@vigil/store';
import { createLogger, type Logger } from '@vigil/telemetry';
import { type ServiceKitConfig } from './kit-options.js';

export interface ServiceResources {
  eventLog: EventLog;
  /** The service's database when DATABASE_URL is set (the embedded log lives there too), else null. */
  sql: Sql | null;
  /** Closes the log, then the database. */
  close(): Promise<void>;
}

/** The port's logger interface over a pino logger. */
export function eventLogLogger(logger: Logger): EventLogLogger {
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}

/**
 * Builds the EventLog the configuration asks for. Kafka connects lazily (an unreachable broker is not an error
 * here: consumers retry and readiness says so); the embedded log needs the database.
 *
 * The adapters are imported here, not at the top of the module, so that `pg` and `kafkajs` load after
 * startTelemetry has installed its instrumentation.
 */
export async function createServiceResources(
  config: ServiceKitConfig,
  serviceName: string,
): Promise<ServiceResources> {
  const logger = createLogger('event-log');
  let sql: Sql | null = null;
  if (config.databaseUrl) {
    const { createSql } = await import('@vigil/store');
    sql = createSql(config.databaseUrl, {
      applicationName: `vigil.${serviceName}`,
      onError: (err) => createLogger('database').warn({ err }, 'database connection error outside any query'),
    });
  }
  let eventLog: EventLog;
  const eventLogModule = await import('@vigil/event-log');
  if (config.eventLog === 'kafka') {
    eventLog = eventLogModule.createKafkaEventLog({
      brokers: [...config.kafkaBrokers],
      clientId: config.kafkaClientId ?? `vigil.${serviceName}`,
      logger: eventLogLogger(logger),
    });
  } else {
    if (!sql)
      throw new Error(
        'createServiceResources: the embedded event log needs DATABASE_URL (checkKitConfig enforces it)',
      );
    eventLog = eventLogModule.createEmbeddedEventLog({ sql, logger: eventLogLogger(logger) });
  }
  return {
    eventLog,
    sql,
    async close() {
      await eventLog.close().catch((err: unknown) => logger.warn({ err }, 'closing the event log failed'));
      await sql?.close().catch((err: unknown) => logger.warn({ err }, 'closing the database failed'));
    },
  };
}
