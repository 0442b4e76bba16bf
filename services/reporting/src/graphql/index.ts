export { graphqlApi, GRAPHQL_PATH, type GraphqlApiOptions } from './graphql-api.js';
export { ROLE_PERMISSIONS, PERMISSIONS, type Permission, type Principal, type Role } from './permissions.js';
export { DEFAULT_QUERY_LIMITS, queryLimitsRule, type QueryLimits } from './query-limits.js';
export type { TokenVerifier } from './auth.js';
export type { SnapshotOnRequest } from './scan.resolver.js';
export { SNAPSHOT_ON_REQUEST } from './tokens.js';
