// For this package's integration tests only (not exported): a fresh database per test file on the server of
// DATABASE_URL. libs/testing has the same helper, but libs/store cannot depend on it (it depends on us).
import { randomBytes } from 'node:crypto';
import { createDatabase, dropDatabase } from './database-admin.js';
import { withDatabase } from './database-url.js';

export const ADMIN_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function freshTestDatabase(prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (!(await createDatabase(ADMIN_URL, name))) throw new Error(`test database ${name} already exists`);
  return { url: withDatabase(ADMIN_URL, name), drop: () => dropDatabase(ADMIN_URL, name) };
}
