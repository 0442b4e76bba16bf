import { hostname } from 'node:os';
import type { INestApplication, INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ConfigAuditorModule } from '@vigil/config-auditor';
import { CORRELATION_RUNNER, CorrelatorModule, type CorrelationRunner } from '@vigil/correlator';
import { HostAssessorModule } from '@vigil/host-assessor';
import { ImageScannerModule } from '@vigil/image-scanner';
import { ConsumerSupervisor, PinoNestLogger, composeServiceModules } from '@vigil/nest-kit';
import { REPORTING_STORE, ReportingModule } from '@vigil/reporting';
import { RuntimeIngestModule } from '@vigil/runtime-ingest';
import type { EntityType, SigningKey } from '@vigil/report';
import type { ReportingStore } from '@vigil/store';
import type { Deployment } from './deployment.js';

export const VIGIL_VERSION = '0.1.0';

export interface PipelineOptions {
  entityType: EntityType;
  /** Prefix of every consumer group, so two deployments can share one Kafka cluster. */
  consumerGroupPrefix?: string | undefined;
  /** Registries images may come from; an image from elsewhere is a finding. Undefined or empty: not checked. */
  allowedRegistries?: readonly string[] | undefined;
  /** Serve HTTP (health, metrics, APIs) on this port: `vigil up`. One-shot commands start no HTTP server. */
  http?: { port: number; host: string };
  /** With http: serve POST /v1/events/* for runtime sensors, into this scope. */
  runtimeIngest?: {
    token: string;
    cluster: string;
    maxBodyBytes: number;
    maxInFlight: number;
    publishTimeoutMs: number;
  };
  /** With http: the deployment's evidence signing key, for the exportEvidence mutation. */
  signingKey?: () => Promise<SigningKey>;
}

export interface Pipeline {
  readonly store: ReportingStore;
  /** Resolves once every consumer group has read everything on the log and nothing is in flight. */
  waitUntilCaughtUp(timeoutMs: number): Promise<void>;
  /** The HTTP address when serving. */
  readonly url?: string;
  close(): Promise<void>;
}

/**
 * Every service module in one process over one deployment: the same modules, consumers and events as the
 * distributed services, with the log and the database shared.
 */
export async function startPipeline(deployment: Deployment, options: PipelineOptions): Promise<Pipeline> {
  const root = composeServiceModules(
    {
      identity: { service: 'vigil', version: VIGIL_VERSION, instance: `${hostname()}-${process.pid}` },
      eventLog: deployment.eventLog,
      sql: deployment.sql,
      http: options.http !== undefined,
      logDescription: deployment.describe,
      ...(options.consumerGroupPrefix ? { consumerGroupPrefix: options.consumerGroupPrefix } : {}),
    },
    [
      ImageScannerModule.forRoot(
        options.allowedRegistries?.length ? { allowedRegistries: options.allowedRegistries } : {},
      ),
      ConfigAuditorModule.forRoot(),
      RuntimeIngestModule.forRoot(
        options.http && options.runtimeIngest ? { http: options.runtimeIngest } : {},
      ),
      HostAssessorModule.forRoot(),
      CorrelatorModule.forRoot(),
      ReportingModule.forRoot({
        databaseUrl: deployment.databaseUrl,
        entityType: options.entityType,
        graphql: options.http !== undefined,
        ...(options.signingKey ? { signingKey: options.signingKey } : {}),
      }),
    ],
  );
  const logger = new PinoNestLogger();
  let app: INestApplicationContext;
  let url: string | undefined;
  if (options.http) {
    const web: INestApplication = await NestFactory.create(root, { logger, abortOnError: false });
    await web.listen(options.http.port, options.http.host);
    url = await web.getUrl();
    app = web;
  } else {
    app = await NestFactory.createApplicationContext(root, { logger, abortOnError: false });
    await app.init();
  }
  const supervisor = app.get(ConsumerSupervisor);
  const store = app.get<ReportingStore>(REPORTING_STORE);
  const correlator = app.get<CorrelationRunner>(CORRELATION_RUNNER);

  return {
    store,
    ...(url ? { url } : {}),
    async waitUntilCaughtUp(timeoutMs) {
      await caughtUp(timeoutMs);
      // The correlator waits for a quiet moment before it publishes; a one-shot command does not wait for that:
      // it publishes now, and what it published is folded before the command goes on.
      const flushed = await correlator.flush();
      if (flushed.published > 0 || flushed.completions > 0) await caughtUp(timeoutMs);
    },
    async close() {
      await app.close();
    },
  };

  async function caughtUp(timeoutMs: number): Promise<void> {
    await waitUntil(timeoutMs, 'every consumer to join its group', async () => supervisor.allReady());
    // All lags zero twice in a row over unchanged log ends: a handler in flight has not committed yet, so its
    // group still lags, and anything it published moves an end offset.
    let previous = '';
    await waitUntil(timeoutMs, 'every consumer to catch up with the log', async () => {
      const lags = [];
      for (const c of supervisor.status()) lags.push(...(await deployment.eventLog.lag(c.group, c.topics)));
      const behind = lags.some((l) => l.lag > 0);
      const ends = lags
        .map((l) => `${l.topic}/${l.partition}=${l.end}`)
        .sort()
        .join(',');
      const quiet = !behind && ends === previous;
      previous = behind ? '' : ends;
      return quiet;
    });
  }
}

async function waitUntil(timeoutMs: number, what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 20;
  for (;;) {
    if (await done()) return;
    if (Date.now() > deadline)
      throw new PipelineTimeout(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 2, 250);
  }
}

export class PipelineTimeout extends Error {
  override readonly name = 'PipelineTimeout';
}
