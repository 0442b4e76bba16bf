import { hostname } from 'node:os';
import { NestFactory } from '@nestjs/core';
import {
  type DynamicModule,
  type INestApplication,
  type INestApplicationContext,
  type Type,
} from '@nestjs/common';
import {
  ConfigError,
  configFileOptions,
  describeOptions,
  loadConfig,
  parseArgv,
  readConfigFile,
  redactConfig,
} from '@vigil/config';
import { type EventLog } from '@vigil/event-log';
import { type Sql } from '@vigil/store';
import { createLogger, shutdownTelemetry, startTelemetry } from '@vigil/telemetry';
import { createServiceResources } from './event-log.factory.js';
import {
  checkKitConfig,
  serviceKitOptions,
  type DatabaseNeed,
  type ServiceKitConfig,
} from './kit-options.js';
import { PinoNestLogger } from './pino-nest.logger.js';
import { composeServiceModules } from './service-kit.module.js';
import { type ServiceIdentity } from './tokens.js';

export interface BootstrapServiceOptions {
  serviceName: string;
  serviceVersion: string;
  /**
   * The service's module, imported here (`() => import('./x.module.js').then((m) => m.XModule.forRoot())`) so that
   * it loads after telemetry has installed its instrumentation.
   */
  module: (config: ServiceKitConfig) => Promise<DynamicModule | Type<unknown>>;
  /** 'required' for services with tables of their own: DATABASE_URL must be set and answer for readiness. */
  database?: DatabaseNeed;
  /** Default process.env and process.argv.slice(2). */
  env?: Record<string, string | undefined>;
  argv?: readonly string[];
}

/** Exit code for configuration and usage errors (the CLI uses the same). */
export const EXIT_CONFIG = 2;

function describeLog(config: ServiceKitConfig): string {
  return config.eventLog === 'kafka'
    ? `Kafka brokers ${config.kafkaBrokers.join(',')}`
    : 'embedded log in Postgres';
}

/**
 * A service's main: loads and checks the configuration (a ConfigError prints its one line on stderr and exits with
 * code 2), starts telemetry before anything it instruments is loaded, builds the event log, creates the Nest
 * application with the kit and the service module, enables shutdown hooks and listens on PORT. The log not
 * answering is not a start failure: the service comes up not ready and retries (see ConsumerSupervisor).
 */
export async function bootstrapService(options: BootstrapServiceOptions): Promise<INestApplication> {
  const argv = options.argv ?? process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(
      `Usage: ${options.serviceName} [options]\n\nEvery option can be given as a flag or in the environment.\n\n${describeOptions(serviceKitOptions)}\n`,
    );
    process.exit(0);
  }
  let config: ServiceKitConfig;
  try {
    config = loadServiceConfig(options.env ?? process.env, argv);
    checkKitConfig(config, options.database ?? 'none');
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${options.serviceName}: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }

  const identity: ServiceIdentity = {
    service: options.serviceName,
    version: options.serviceVersion,
    instance: config.serviceInstanceId ?? `${hostname()}-${process.pid}`,
  };
  startTelemetry({
    serviceName: identity.service,
    serviceVersion: identity.version,
    instanceId: identity.instance,
    logLevel: config.logLevel,
    ...(config.otelExporterOtlpEndpoint ? { otlpEndpoint: config.otelExporterOtlpEndpoint } : {}),
  });
  const logger = createLogger('bootstrap');
  logger.info(
    { config: redactConfig(serviceKitOptions, config), instance: identity.instance },
    `${identity.service} ${identity.version} starting`,
  );

  try {
    const resources = await createServiceResources(config, identity.service);
    const serviceModule = await options.module(config);
    const root = composeServiceModules(
      {
        identity,
        eventLog: resources.eventLog,
        sql: resources.sql,
        http: true,
        logDescription: describeLog(config),
        shutdownTimeoutMs: config.shutdownTimeout,
        ...(config.consumerGroupPrefix ? { consumerGroupPrefix: config.consumerGroupPrefix } : {}),
        onShutdown: async () => {
          await resources.close();
          await shutdownTelemetry();
        },
      },
      [serviceModule],
    );
    const app = await NestFactory.create(root, { logger: new PinoNestLogger(), abortOnError: false });
    // Not Nest's enableShutdownHooks: it re-raises the signal after closing, so a clean stop would end as "killed by
    // SIGTERM" (143). A drained, closed service exits 0; the kit's deadline still exits 1 if draining hangs.
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, `${identity.service} received ${signal}`);
      app.close().then(
        () => process.exit(0),
        (err: unknown) => {
          logger.error({ err }, `${identity.service} did not shut down cleanly: ${(err as Error).message}`);
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    await app.listen(config.port, config.host);
    const address = app.getHttpServer().address() as { port: number } | null;
    logger.info(
      { port: address?.port ?? config.port, host: config.host },
      `${identity.service} listening on ${config.host}:${address?.port ?? config.port}`,
    );
    if (!(await resources.eventLog.ping().catch(() => false))) {
      logger.warn(
        `event log not reachable yet (${describeLog(config)}): ${identity.service} keeps running, reports not ready on /readyz and retries with backoff`,
      );
    }
    return app;
  } catch (err) {
    logger.fatal({ err }, `${identity.service} failed to start: ${(err as Error).message}`);
    await shutdownTelemetry().catch(() => undefined);
    process.exit(1);
  }
}

/**
 * Flags, environment, then the JSON file named by --config / VIGIL_CONFIG, then defaults. Throws ConfigError.
 * The file is found first (from flags and env only), then every option is loaded once with it.
 */
export function loadServiceConfig(
  env: Record<string, string | undefined>,
  argv: readonly string[],
): ServiceKitConfig {
  const { flags } = parseArgv(serviceKitOptions, argv);
  const { configFile } = loadConfig(configFileOptions, { env, flags });
  const file = configFile ? readConfigFile(configFile) : undefined;
  return loadConfig(serviceKitOptions, { env, flags, ...(file ? { file } : {}) });
}

export interface ServiceContextOptions {
  identity: ServiceIdentity;
  /** Shared by every module of the process; the caller creates and closes it. */
  eventLog: EventLog;
  sql?: Sql | null;
  modules: (DynamicModule | Type<unknown>)[];
}

/**
 * The service modules without HTTP, for one-shot commands: consumers start on init (createApplicationContext
 * runs the lifecycle hooks) and stop on close(); the caller owns the log and the database and closes them after.
 */
export async function createServiceContext(options: ServiceContextOptions): Promise<INestApplicationContext> {
  const root = composeServiceModules(
    { identity: options.identity, eventLog: options.eventLog, sql: options.sql ?? null, http: false },
    options.modules,
  );
  return NestFactory.createApplicationContext(root, { logger: new PinoNestLogger(), abortOnError: false });
}
