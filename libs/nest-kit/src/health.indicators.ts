import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { type EventLog } from '@vigil/event-log';
import { type Sql } from '@vigil/store';
import { ConsumerSupervisor } from './consumer.supervisor.js';
import { EVENT_LOG, SERVICE_DATABASE } from './tokens.js';

const PROBE_TIMEOUT_MS = 3_000;

/** Resolves to the probe's answer, or to false when it takes longer than a readiness probe may wait. */
async function within<T>(probe: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>(
    (resolve) => (timer = setTimeout(() => resolve(fallback), PROBE_TIMEOUT_MS)),
  );
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ready when the event log's server answers now (Kafka: a broker; embedded: the database). */
@Injectable()
export class LogHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(EVENT_LOG) private readonly eventLog: EventLog,
  ) {}

  async check(key = 'eventLog') {
    const session = this.health.check(key);
    const answered = await within(
      this.eventLog.ping().catch(() => false),
      false,
    );
    return answered ? session.up() : session.down({ message: 'the event log does not answer' });
  }
}

/** Ready when the service's database answers a trivial query. Services without a database are always up here. */
@Injectable()
export class DatabaseHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(SERVICE_DATABASE) private readonly sql: Sql | null,
  ) {}

  get applies(): boolean {
    return this.sql !== null;
  }

  async check(key = 'database') {
    const session = this.health.check(key);
    if (!this.sql) return session.up({ message: 'this service has no database' });
    const sql = this.sql;
    const error = await within(
      sql.query('select 1').then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
      `no answer within ${PROBE_TIMEOUT_MS} ms`,
    );
    return error === undefined
      ? session.up()
      : session.down({ message: `the database does not answer: ${error}` });
  }
}

/** Ready when every consumer has joined its group: until then the service would take no work. */
@Injectable()
export class ConsumersHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly health: HealthIndicatorService,
    @Inject(ConsumerSupervisor) private readonly supervisor: ConsumerSupervisor,
  ) {}

  check(key = 'consumers') {
    const session = this.health.check(key);
    const groups = Object.fromEntries(
      this.supervisor.status().map((s) => [`${s.group} ${s.topics.join(',')}`, s.state]),
    );
    return this.supervisor.allReady() ? session.up({ groups }) : session.down({ groups });
  }
}
