import { type Sql } from '@vigil/store';
import { type EventLog } from '@vigil/event-log';
import { type ServiceIdentity } from './tokens.js';

export const KIT_OPTIONS = 'vigil:service-kit-options';

export interface ServiceKitModuleOptions {
  identity: ServiceIdentity;
  /** The one log of the process: built by bootstrapService, or shared by the all-in-one across its modules. */
  eventLog: EventLog;
  /** The database, for services (or the all-in-one) that have one; readiness then requires it to answer. */
  sql?: Sql | null;
  /** Serve /healthz, /readyz and /metrics. Default true; false for one-shot commands (no HTTP at all). */
  http?: boolean;
  /** Said in log lines about the log being unreachable, e.g. "Kafka brokers 127.0.0.1:9092". */
  logDescription?: string;
  /**
   * Runs after every consumer stopped, in onApplicationShutdown: close what the caller created for the kit (the
   * log, the database, telemetry). The all-in-one that owns a shared log passes nothing and closes it itself.
   */
  onShutdown?: () => Promise<void>;
  /** Put before every consumer group name, so two deployments (or test runs) on one broker do not share groups. */
  consumerGroupPrefix?: string;
  /** The process exits with code 1 when a graceful shutdown takes longer than this. Default: no deadline. */
  shutdownTimeoutMs?: number;
}

export type KitRuntimeOptions = Required<
  Pick<ServiceKitModuleOptions, 'identity' | 'eventLog' | 'http' | 'logDescription'>
> &
  Pick<ServiceKitModuleOptions, 'sql' | 'onShutdown' | 'shutdownTimeoutMs' | 'consumerGroupPrefix'>;
