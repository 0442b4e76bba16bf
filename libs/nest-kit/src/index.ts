export { bootstrapService, createServiceContext, loadServiceConfig, EXIT_CONFIG } from './bootstrap.js';
export type { BootstrapServiceOptions, ServiceContextOptions } from './bootstrap.js';
export { ServiceKitModule, composeServiceModules } from './service-kit.module.js';
export type { ServiceKitModuleOptions } from './kit-runtime.js';
export { serviceKitOptions, checkKitConfig } from './kit-options.js';
export type { ServiceKitConfig, DatabaseNeed } from './kit-options.js';
export { createServiceResources, eventLogLogger } from './event-log.factory.js';
export type { ServiceResources } from './event-log.factory.js';
export { ConsumerSupervisor } from './consumer.supervisor.js';
export type { ConsumerSpec, ConsumerState, ConsumerStatus } from './consumer.supervisor.js';
export {
  LogHealthIndicator,
  DatabaseHealthIndicator,
  ConsumersHealthIndicator,
} from './health.indicators.js';
export { HealthController, MetricsController } from './health.controller.js';
export { PinoNestLogger } from './pino-nest.logger.js';
export { createScanRequestHandler, unavailableEngine, deriveEventId } from './scan-request.handler.js';
export { scannerModule, type ScannerModuleSpec, type ScannerModuleOptions } from './scanner.module.js';
export type { ScanEngine, ScanResult, ScanRequestHandlerOptions } from './scan-request.handler.js';
export { EVENT_LOG, SERVICE_DATABASE, SERVICE_IDENTITY } from './tokens.js';
export type { ServiceIdentity } from './tokens.js';
export { everyInterval, nameBasedId } from './periodic-requests.js';
