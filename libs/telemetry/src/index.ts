export { startTelemetry, shutdownTelemetry } from './telemetry.js';
export type { TelemetryOptions, TelemetryHandle } from './telemetry.js';
export { createLogger, setLogLevel, setLogDestination } from './logger.js';
export type { Logger, LogLevelName, CreateLoggerOptions } from './logger.js';
export {
  metrics,
  renderMetrics,
  metricsSnapshot,
  renderAggregatedMetrics,
  METRICS_CONTENT_TYPE,
} from './metrics.js';
export type { MetricSpec, HistogramSpec } from './metrics.js';
export {
  currentTraceIds,
  injectTraceHeaders,
  contextFromHeaders,
  withHeadersContext,
  withSpan,
} from './trace-context.js';
