import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK, resources } from '@opentelemetry/sdk-node';
import { NoopSpanProcessor, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createLogger, setLogLevel, setLogService, type LogLevelName } from './logger.js';
import { metrics } from './metrics.js';

export interface TelemetryOptions {
  serviceName: string;
  serviceVersion: string;
  /** This process among replicas; default hostname-pid. */
  instanceId?: string;
  /**
   * OTLP/HTTP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT). When set, spans are exported there and the standard OTEL_*
   * variables tune the exporter; when unset, spans are created (their ids reach logs and event headers) but not
   * exported anywhere.
   */
  otlpEndpoint?: string;
  logLevel?: LogLevelName;
  /** Replaces the exporter choice above; tests pass an in-memory exporter's processor. */
  spanProcessors?: SpanProcessor[];
}

export interface TelemetryHandle {
  readonly serviceName: string;
  readonly instanceId: string;
  /** True when spans leave the process (an OTLP endpoint or explicit span processors). */
  readonly exporting: boolean;
}

// Health and metric scrapes arrive every few seconds; a span per scrape would drown the real traffic.
const UNTRACED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

let sdk: NodeSDK | undefined;
let handle: TelemetryHandle | undefined;

/**
 * Starts tracing, logging and metrics for this process. Call it before loading the code it should instrument
 * (http servers, pg): instrumentation patches modules as they are required. Calling it again returns the first
 * handle: OpenTelemetry's globals can be registered once per process.
 */
export function startTelemetry(options: TelemetryOptions): TelemetryHandle {
  if (handle) return handle;
  const instanceId = options.instanceId ?? `${hostname()}-${process.pid}`;
  setLogService(options.serviceName);
  if (options.logLevel) setLogLevel(options.logLevel);
  metrics.setDefaultLabels({ service: options.serviceName });

  const endpoint = options.otlpEndpoint ?? nonEmpty(process.env['OTEL_EXPORTER_OTLP_ENDPOINT']);
  if (endpoint && !process.env['OTEL_EXPORTER_OTLP_ENDPOINT'])
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = endpoint;
  // With no processor NodeSDK registers no tracer provider at all and every span is the no-op span with zero ids,
  // so logs could not be joined to traces. A no-op processor keeps a real provider that just exports nothing.
  // With an endpoint, leaving spanProcessors unset lets NodeSDK build its OTLP exporter from the OTEL_* variables.
  const spanProcessors = options.spanProcessors ?? (endpoint ? undefined : [new NoopSpanProcessor()]);

  sdk = new NodeSDK({
    serviceName: options.serviceName,
    resource: resources.resourceFromAttributes({
      'service.version': options.serviceVersion,
      'service.instance.id': instanceId,
    }),
    autoDetectResources: true,
    // W3C trace context only (no baggage): it is what the log headers and HTTP carry. The context manager is left
    // to NodeSDK's default, AsyncLocalStorage, so the active span follows async work (and pino's mixin sees it).
    textMapPropagator: new W3CTraceContextPropagator(),
    ...(spanProcessors ? { spanProcessors } : {}),
    // Metrics are Prometheus (prom-client) and logs go to stdout as JSON; NodeSDK would otherwise default both to OTLP.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => UNTRACED_PATHS.has((req.url ?? '').split('?')[0] ?? ''),
      }),
      new PgInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  // Patching happens when a module is required after start. `http` may already be cached (loaded by this ESM
  // graph before start); requiring it once more here runs the hook, which patches http.Server.prototype for
  // every server created from now on, however it was imported.
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');

  handle = Object.freeze({
    serviceName: options.serviceName,
    instanceId,
    exporting: Boolean(options.spanProcessors) || Boolean(endpoint),
  });
  createLogger('telemetry').debug(
    { version: options.serviceVersion, instance: instanceId, otlp: endpoint ?? null },
    endpoint
      ? 'telemetry started, exporting traces over OTLP'
      : 'telemetry started, traces not exported (no OTLP endpoint)',
  );
  return handle;
}

/** Flushes and stops tracing. Safe to call when telemetry never started. */
export async function shutdownTelemetry(): Promise<void> {
  const running = sdk;
  sdk = undefined;
  handle = undefined;
  if (running) await running.shutdown();
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
