import type { EventLogLogger } from './event-log.port.js';

// Without a logger from the caller, warnings and errors still reach stderr (an unreachable broker must be visible);
// info lines stay quiet so a library never chatters on its own.
export const defaultLogger: EventLogLogger = {
  info: () => undefined,
  warn: (message, fields) => console.warn(`event-log: ${message}${fields ? ' ' + safeJson(fields) : ''}`),
  error: (message, fields) => console.error(`event-log: ${message}${fields ? ' ' + safeJson(fields) : ''}`),
};

function safeJson(fields: Record<string, unknown>): string {
  try {
    return JSON.stringify(fields, (_k, v: unknown) =>
      v instanceof Error ? v.message : typeof v === 'bigint' ? v.toString() : v,
    );
  } catch {
    return String(fields);
  }
}
