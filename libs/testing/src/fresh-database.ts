// One database per test file on the shared server, so test files never see each other's rows and can run in
// parallel; dropped (sessions and all) when the file is done.
import { createDatabase, dropDatabase, withDatabase } from '@vigil/store';
import { uniqueName } from './unique-name.js';

export interface FreshDatabase {
  /** The URL of the new database (same server and credentials as the admin URL). */
  readonly url: string;
  readonly name: string;
  /** Drops the database, disconnecting whoever is still on it. Safe to call twice. */
  drop(): Promise<void>;
}

export async function freshDatabase(adminUrl: string, prefix: string): Promise<FreshDatabase> {
  if (!adminUrl) throw new Error('freshDatabase: no admin URL given (pass servers.env.DATABASE_URL)');
  // Postgres folds and limits identifiers; keep the name to what createDatabase accepts.
  const name = uniqueName(prefix).replace(/\./g, '_');
  const created = await createDatabase(adminUrl, name);
  if (!created)
    throw new Error(
      `freshDatabase: database "${name}" already exists; refusing to reuse another test's data`,
    );
  let dropped = false;
  return {
    url: withDatabase(adminUrl, name),
    name,
    drop: async () => {
      if (dropped) return;
      dropped = true;
      await dropDatabase(adminUrl, name);
    },
  };
}
