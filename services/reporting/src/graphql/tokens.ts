// Injection tokens of the GraphQL API's providers. The reporting module hands its store in under API_STORE
// (graphqlApi's storeToken), so nothing here imports the reporting module back.
export const API_STORE = 'vigil:graphql-store';
export const API_LIMITS = 'vigil:graphql-limits';
export const API_TOKENS = 'vigil:graphql-tokens';
export const API_STATE = 'vigil:graphql-state';
export const API_SNAPSHOTS = 'vigil:graphql-snapshots';
export const SNAPSHOT_ON_REQUEST = 'vigil:snapshot-on-request';
