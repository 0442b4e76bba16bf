import { Controller, Get, Header, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { METRICS_CONTENT_TYPE, renderMetrics } from '@vigil/telemetry';
import {
  ConsumersHealthIndicator,
  DatabaseHealthIndicator,
  LogHealthIndicator,
} from './health.indicators.js';

@Controller()
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(LogHealthIndicator) private readonly log: LogHealthIndicator,
    @Inject(DatabaseHealthIndicator) private readonly database: DatabaseHealthIndicator,
    @Inject(ConsumersHealthIndicator) private readonly consumers: ConsumersHealthIndicator,
  ) {}

  /** Liveness: the process is up and its event loop turns. Never depends on the log or the database. */
  @Get('healthz')
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: 200 only when the log (and the database, where there is one) answer and consumers have joined; else 503. */
  @Get('readyz')
  @HealthCheck()
  readiness() {
    return this.health.check([
      () => this.log.check(),
      ...(this.database.applies ? [() => this.database.check()] : []),
      () => this.consumers.check(),
    ]);
  }
}

@Controller()
export class MetricsController {
  @Get('metrics')
  @Header('Content-Type', METRICS_CONTENT_TYPE)
  metrics(): Promise<string> {
    return renderMetrics();
  }
}
