import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { APP_FILTER } from '@nestjs/core';
import { SERVICE_DATABASE } from '@vigil/nest-kit';
import type { ReportState, SigningKey } from '@vigil/report';
import type { ReportingReader, Sql } from '@vigil/store';
import { createLogger } from '@vigil/telemetry';
import { CallerErrorFilter, formatApiError, type ErrorLogger } from './api-errors.js';
import { authenticate, type ApiContext, type TokenVerifier } from './auth.js';
import { EVIDENCE_SIGNING_KEY } from './evidence-bundles.js';
import { EvidenceController } from './evidence.controller.js';
import { EvidenceResolver } from './evidence.resolver.js';
import { ExceptionResolver } from './exception.resolver.js';
import { FindingResolver } from './finding.resolver.js';
import { PermissionGuard } from './permission.guard.js';
import { DEFAULT_QUERY_LIMITS, queryLimitsRule, type QueryLimits } from './query-limits.js';
import { ScanResolver } from './scan.resolver.js';
import { SnapshotResolver } from './snapshot.resolver.js';
import { API_LIMITS, API_SNAPSHOTS, API_STATE, API_STORE, API_TOKENS } from './tokens.js';
import { SnapshotReads } from './api-data.js';

export const GRAPHQL_PATH = '/graphql';

export interface GraphqlApiOptions {
  /** The injection token of the reporting store (REPORTING_STORE). */
  storeToken: string;
  /** The injection token of something with current(): the projection's fold (assets and exceptions). */
  stateToken: string | (abstract new (...args: never[]) => { current(): ReportState });
  /** The token store over the service database (createTokenStore from @vigil/store). */
  tokens: (sql: Sql) => TokenVerifier;
  limits?: Partial<QueryLimits>;
  /** Write the generated SDL here (the committed schema.graphql in tests); default: kept in memory. */
  schemaFile?: string;
  logger?: ErrorLogger;
  /**
   * The deployment's evidence signing key for exportEvidence, read once at startup (a bad key fails the start);
   * none: the mutation answers that VIGIL_SIGNING_KEY is not set.
   */
  signingKey?: () => Promise<SigningKey | undefined>;
}

@Module({})
class GraphqlAuthModule {}

/**
 * The GraphQL API's imports and providers, for the reporting module to add to its own when it serves HTTP. They
 * join the reporting module rather than forming a module of their own because the resolvers need the reporting
 * store and the projection, which only the reporting module provides.
 */
export function graphqlApi(options: GraphqlApiOptions): {
  imports: DynamicModule[];
  providers: Provider[];
  controllers: Type[];
} {
  const limits: QueryLimits = { ...DEFAULT_QUERY_LIMITS, ...options.limits };
  const logger = options.logger ?? telemetryLogger();
  const auth: DynamicModule = {
    module: GraphqlAuthModule,
    providers: [
      {
        provide: API_TOKENS,
        inject: [SERVICE_DATABASE],
        useFactory: (sql: Sql | null) => {
          if (!sql)
            throw new Error('the GraphQL API needs the service database (DATABASE_URL) for its tokens');
          return options.tokens(sql);
        },
      },
    ],
    exports: [API_TOKENS],
  };
  const graphql = GraphQLModule.forRootAsync<ApolloDriverConfig>({
    driver: ApolloDriver,
    imports: [auth],
    inject: [API_TOKENS],
    useFactory: (tokens: TokenVerifier): ApolloDriverConfig => ({
      path: GRAPHQL_PATH,
      autoSchemaFile: options.schemaFile ?? true,
      sortSchema: true,
      playground: false,
      introspection: true,
      includeStacktraceInErrorResponses: false,
      validationRules: [queryLimitsRule(limits)],
      formatError: formatApiError(logger),
      context: async ({ req }: { req: { headers: Record<string, string | string[] | undefined> } }) =>
        ({ principal: await authenticate(req.headers['authorization'], tokens) }) satisfies ApiContext,
    }),
  });
  return {
    // The auth module too: the evidence download checks the same tokens outside GraphQL.
    imports: [graphql, auth],
    controllers: [EvidenceController],
    providers: [
      { provide: API_STORE, useExisting: options.storeToken },
      {
        provide: API_STATE,
        inject: [options.stateToken],
        useFactory: (p: { current(): ReportState }) => () => p.current(),
      },
      { provide: API_LIMITS, useValue: limits },
      // One cache of snapshot reads for every resolver: the summary and the exception listing read the same digest.
      {
        provide: API_SNAPSHOTS,
        inject: [API_STORE],
        useFactory: (store: ReportingReader) => new SnapshotReads(store),
      },
      { provide: APP_FILTER, useClass: CallerErrorFilter },
      PermissionGuard,
      SnapshotResolver,
      FindingResolver,
      ScanResolver,
      ExceptionResolver,
      {
        provide: EVIDENCE_SIGNING_KEY,
        useFactory: async () => (await options.signingKey?.()) ?? null,
      },
      EvidenceResolver,
    ],
  };
}

function telemetryLogger(): ErrorLogger {
  const logger = createLogger('graphql');
  return { error: (msg, fields) => logger.error(fields, msg) };
}
