// Opening the reporting store loads TypeORM (about half a second of imports), so it is loaded on first use:
// processes that only need the Sql port or embedded Postgres never pay for it.
import type * as impl from './reporting.store.js';

// The public shapes of the store's classes: their public members only, so no TypeORM type (the EntityManager
// they hold) appears in what other packages see.
type PublicOf<T> = { [K in keyof T]: T[K] };
export type ReportingStore = PublicOf<impl.ReportingStore>;
export type ReportingReader = PublicOf<impl.ReportingReader>;
export type ReportingTransaction = PublicOf<impl.ReportingTransaction>;

export interface ReportingStoreOptions {
  /** Pool size. Default 10. */
  max?: number;
  applicationName?: string;
}

/** Opens the reporting store on url (run runMigrations first). Close it with close(). */
export async function openReportingStore(
  url: string,
  options: ReportingStoreOptions = {},
): Promise<ReportingStore> {
  const { ReportingStore } = await import('./reporting.store.js');
  return ReportingStore.open(url, options);
}
