import { trace, isSpanContextValid } from '@opentelemetry/api';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';
export type LogLevelName = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

interface LoggingState {
  service: string | undefined;
  level: LogLevelName;
}

const state: LoggingState = { service: undefined, level: 'info' };
// Child loggers copy their level when created, so a later setLogLevel must reach each of them.
const created = new Set<Logger>();
let root: Logger | undefined;

/** Fields every line carries: the service, and the active span's ids so a log line can be joined to its trace. */
function mixin(): Record<string, string> {
  const fields: Record<string, string> = {};
  if (state.service) fields['service'] = state.service;
  const ctx = trace.getActiveSpan()?.spanContext();
  if (ctx && isSpanContextValid(ctx)) {
    fields['trace_id'] = ctx.traceId;
    fields['span_id'] = ctx.spanId;
  }
  return fields;
}

function options(level: LogLevelName): LoggerOptions {
  return {
    level,
    base: { pid: process.pid },
    mixin,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
}

// Decided at write time, not when the root logger is made: loggers are created while modules load, before a
// command line is read, and a one-shot CLI must keep stdout for its result (`--format json` pipes cleanly).
let target: NodeJS.WriteStream = process.stdout;
const forwarding: DestinationStream = { write: (line: string) => target.write(line) };

function rootLogger(): Logger {
  root ??= pino(options(state.level), forwarding);
  return root;
}

/** Sends every log line made by createLogger (without its own destination) to stdout (the default) or stderr. */
export function setLogDestination(to: 'stdout' | 'stderr'): void {
  target = to === 'stderr' ? process.stderr : process.stdout;
}

export interface CreateLoggerOptions {
  /** Write somewhere other than stdout (tests capture lines this way). */
  destination?: DestinationStream;
  level?: LogLevelName;
}

/** A JSON logger for one component (`logger` field); trace_id/span_id of the active span are mixed into each line. */
export function createLogger(name: string, opts: CreateLoggerOptions = {}): Logger {
  const logger = opts.destination
    ? pino(options(opts.level ?? state.level), opts.destination).child({ logger: name })
    : rootLogger().child({ logger: name }, opts.level ? { level: opts.level } : undefined);
  if (!opts.level) created.add(logger);
  return logger;
}

/** Changes the level of every logger made by createLogger without an explicit level. */
export function setLogLevel(level: LogLevelName): void {
  state.level = level;
  if (root) root.level = level;
  for (const logger of created) logger.level = level;
}

/** Names the service on every log line from now on. */
export function setLogService(service: string): void {
  state.service = service;
}
