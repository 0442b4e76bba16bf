// Injection tokens the kit provides to every service module. Strings rather than classes: the port is an
// interface, and a service module may be handed its own EventLog (forRoot({ eventLog })) without the kit.

/** The EventLog port (@vigil/event-log). */
export const EVENT_LOG = 'vigil:event-log';
/** The service's database (a @vigil/store Sql), or null for a service without one. */
export const SERVICE_DATABASE = 'vigil:service-database';
/** Who this process is: the producer fields of every event it publishes. */
export const SERVICE_IDENTITY = 'vigil:service-identity';

export interface ServiceIdentity {
  /** Service name, e.g. "image-scanner" ("vigil" for the all-in-one). */
  readonly service: string;
  readonly version: string;
  /** Pod name or hostname-pid. */
  readonly instance: string;
}
