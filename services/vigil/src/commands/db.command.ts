import { migrationStatus, runMigrations } from '@vigil/store';
import { table, type Output } from '../output.js';
import { UsageError } from '../usage-error.js';

/** `vigil db migrate|status|import|update`: the deployment's database itself. */
export async function dbCommand(
  sub: string | undefined,
  databaseUrl: string,
  format: 'table' | 'json',
  out: Output,
): Promise<number> {
  switch (sub) {
    case 'migrate': {
      const applied = await runMigrations(databaseUrl);
      if (format === 'json') out.result(JSON.stringify({ applied: applied }, null, 2));
      else
        out.result(
          applied.length
            ? `applied ${applied.length} migration(s): ${applied.join(', ')}`
            : 'database is up to date',
        );
      return 0;
    }
    case 'status': {
      const status = await migrationStatus(databaseUrl);
      if (format === 'json') {
        out.result(JSON.stringify(status, null, 2));
      } else {
        const rows = [
          ...status.applied.map((m) => [m.name, 'applied']),
          ...status.pending.map((name) => [name, 'pending']),
        ];
        out.result(table(['migration', 'state'], rows));
      }
      return 0;
    }
    case 'import':
    case 'update':
      // The vulnerability database belongs to the image scanner's engine, which this build does not contain.
      throw new UsageError(
        `vigil db ${sub}: the vulnerability database comes with the image-scan engine, which is not available in this build`,
      );
    default:
      throw new UsageError(
        `vigil db: expected migrate, status, import or update${sub ? `, got "${sub}"` : ''}`,
      );
  }
}
