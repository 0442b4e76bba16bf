import { Module, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { EventLog } from '@vigil/event-log';
import { composeServiceModules } from '@vigil/nest-kit';
import type { ReportingStore, Sql } from '@vigil/store';
import { ReportingProjection } from '../reporting.projection.js';
import { graphqlApi, type GraphqlApiOptions } from './graphql-api.js';

export interface ServedApi {
  app: INestApplication;
  /** http://127.0.0.1:<port> */
  base: string;
}

/**
 * The GraphQL API (and its HTTP controllers) over a real store, projection, log and database on a free loopback
 * port: the set-up every GraphQL integration spec shares. The caller closes `app`.
 */
export async function serveGraphqlApi(deps: {
  store: ReportingStore;
  projection: ReportingProjection;
  eventLog: EventLog;
  sql: Sql;
  options: Omit<GraphqlApiOptions, 'storeToken' | 'stateToken' | 'logger'>;
  /** Nest's own log (what its exception handler writes); none by default. */
  nestLogger?: LoggerService;
}): Promise<ServedApi> {
  const api = graphqlApi({
    storeToken: 'test:store',
    stateToken: ReportingProjection,
    logger: { error: () => undefined },
    ...deps.options,
  });
  @Module({
    imports: api.imports,
    controllers: api.controllers,
    providers: [
      { provide: 'test:store', useValue: deps.store },
      { provide: ReportingProjection, useValue: deps.projection },
      ...api.providers,
    ],
  })
  class TestApiModule {}
  const root = composeServiceModules(
    {
      identity: { service: 'reporting', version: '0', instance: 'spec' },
      eventLog: deps.eventLog,
      sql: deps.sql,
      http: false,
    },
    [TestApiModule],
  );
  const app = await NestFactory.create(root, { logger: deps.nestLogger ?? false, abortOnError: false });
  await app.listen(0, '127.0.0.1');
  return { app, base: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
}
