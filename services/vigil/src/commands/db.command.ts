import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  DownloadError,
  DumpError,
  OSV_DUMP_BASE_URL,
  downloadOsvDump,
  dumpUrl,
  importOsvDump,
  type DownloadResult,
  type DumpImportResult,
} from '@vigil/image-scan';
import {
  createAdvisoryStore,
  createSql,
  migrationStatus,
  runMigrations,
  type AdvisoryDbInfoRow,
} from '@vigil/store';
import { table, type Output } from '../output.js';
import { UsageError, usageError } from '../usage-error.js';

/** The OSV ecosystems `vigil db update` fetches by default: the ones the image scanner's analyzers report. */
export const DEFAULT_OSV_ECOSYSTEMS = [
  'Debian',
  'Ubuntu',
  'Alpine',
  'AlmaLinux',
  'Rocky Linux',
  'Red Hat',
  'SUSE',
  'openSUSE',
  'Wolfi',
  'Chainguard',
  'npm',
  'PyPI',
  'Go',
  'Maven',
  'crates.io',
  'RubyGems',
  'Packagist',
  'NuGet',
] as const;

export interface DbCommandOptions {
  /** Positionals after the subcommand (`vigil db import <zip|dir>...`). */
  args?: readonly string[];
  /** `--ecosystem X` (repeatable) for `vigil db update`. */
  ecosystems?: readonly string[];
  /** `--url BASE` for `vigil db update`. */
  baseUrl?: string;
  /** The deployment's data dir: downloads are kept under <dataDir>/vulndb. */
  dataDir?: string;
  now?: () => Date;
  fetch?: typeof globalThis.fetch;
}

/** `vigil db migrate|status|import|update`: the deployment's database itself. */
export async function dbCommand(
  sub: string | undefined,
  databaseUrl: string,
  requestedFormat: string,
  out: Output,
  options: DbCommandOptions = {},
): Promise<number> {
  if (requestedFormat !== 'table' && requestedFormat !== 'json')
    throw usageError('db', sub, `--format ${requestedFormat} is for scans; use table or json`);
  const format: 'table' | 'json' = requestedFormat;
  const now = options.now ?? (() => new Date());
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
      const advisoryTables = status.applied.some((m) => m.name === 'AdvisoryDb1764813600000');
      const vulndb = advisoryTables ? await withAdvisoryStore(databaseUrl, (s) => s.info()) : undefined;
      if (format === 'json') {
        out.result(
          JSON.stringify({ ...status, vulnerabilityDb: vulndb ? vulndbJson(vulndb, now()) : null }, null, 2),
        );
      } else {
        const rows = [
          ...status.applied.map((m) => [m.name, 'applied']),
          ...status.pending.map((name) => [name, 'pending']),
        ];
        out.result(table(['migration', 'state'], rows));
        out.result('');
        out.result(vulndbTable(vulndb, now()));
      }
      return 0;
    }
    case 'import': {
      const paths = options.args ?? [];
      if (!paths.length)
        throw new UsageError('vigil db import: give one or more OSV zips or directories of records');
      for (const p of paths) {
        try {
          await stat(p);
        } catch {
          throw new UsageError(`vigil db import: ${p}: no such file or directory`);
        }
      }
      await runMigrations(databaseUrl);
      const results: DumpImportResult[] = [];
      for (const p of paths) {
        out.progress(`importing ${p}`);
        results.push(await importOne(databaseUrl, p, resolve(p), 'import'));
      }
      return report(results, format, out);
    }
    case 'update': {
      if (options.args?.length)
        throw new UsageError(`vigil db update: unexpected argument "${options.args[0]}"`);
      const ecosystems = options.ecosystems?.length
        ? [...new Set(options.ecosystems)]
        : [...DEFAULT_OSV_ECOSYSTEMS];
      const baseUrl = options.baseUrl ?? OSV_DUMP_BASE_URL;
      if (!/^https?:\/\//.test(baseUrl))
        throw new UsageError(`vigil db update: --url must be an http(s) URL, got "${baseUrl}"`);
      const dir = join(resolve(options.dataDir ?? '.vigil'), 'vulndb');
      // Everything is downloaded before anything is imported: a network failure leaves the database as it was.
      const downloads: DownloadResult[] = [];
      for (const ecosystem of ecosystems) {
        out.progress(`downloading ${dumpUrl(ecosystem, baseUrl)}`);
        try {
          downloads.push(
            await downloadOsvDump(ecosystem, {
              dir,
              baseUrl,
              onProgress: out.progress,
              ...(options.fetch ? { fetch: options.fetch } : {}),
            }),
          );
        } catch (err) {
          if (err instanceof DownloadError)
            throw new UsageError(
              `vigil db update: ${err.message}${err.offline ? ' — is the internet (or --url) reachable?' : ''}; the vulnerability database is unchanged`,
            );
          throw err;
        }
      }
      await runMigrations(databaseUrl);
      const known = new Set(
        (await withAdvisoryStore(databaseUrl, (s) => s.info())).sources.map((s) => s.name),
      );
      const results: DumpImportResult[] = [];
      for (const d of downloads) {
        const source = `osv:${d.ecosystem}`;
        if (d.notModified && known.has(source)) {
          out.progress(`${d.ecosystem}: up to date`);
          continue;
        }
        out.progress(`importing ${d.path}`);
        results.push(await importOne(databaseUrl, d.path, source, 'update'));
      }
      return report(results, format, out);
    }
    default:
      throw new UsageError(
        `vigil db: expected migrate, status, import or update${sub ? `, got "${sub}"` : ''}`,
      );
  }
}

async function withAdvisoryStore<T>(
  databaseUrl: string,
  fn: (store: ReturnType<typeof createAdvisoryStore>) => Promise<T>,
): Promise<T> {
  const sql = createSql(databaseUrl, { max: 2, applicationName: 'vigil:vulndb' });
  try {
    return await fn(createAdvisoryStore(sql));
  } finally {
    await sql.close();
  }
}

async function importOne(
  databaseUrl: string,
  path: string,
  source: string,
  sub: string,
): Promise<DumpImportResult> {
  try {
    const r = await withAdvisoryStore(databaseUrl, (store) => importOsvDump(path, store, { source }));
    if (r.records === 0 && r.invalid > 0)
      throw new UsageError(
        `vigil db ${sub}: ${path}: none of its ${r.invalid} records is valid OSV (first: ${r.invalidExamples[0]}); nothing was imported`,
      );
    return r;
  } catch (err) {
    if (err instanceof DumpError)
      throw new UsageError(`vigil db ${sub}: ${err.message}; nothing from it was imported`);
    throw err;
  }
}

function report(results: DumpImportResult[], format: 'table' | 'json', out: Output): number {
  if (format === 'json') {
    out.result(JSON.stringify({ imported: results }, null, 2));
  } else if (!results.length) {
    out.result('vulnerability database is up to date');
  } else {
    out.result(
      table(
        ['source', 'records', 'new', 'replaced', 'unchanged', 'invalid'],
        results.map((r) => [r.source, r.records, r.inserted, r.replaced, r.unchanged, r.invalid].map(String)),
      ),
    );
  }
  for (const r of results) {
    if (!r.invalid) continue;
    out.warn(`${r.source}: ${r.invalid} invalid record(s) left out, e.g.:`);
    for (const e of r.invalidExamples) out.warn(`  ${e}`);
  }
  return 0;
}

function age(from: Date | undefined, now: Date): string {
  if (!from) return '-';
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function vulndbJson(info: AdvisoryDbInfoRow, now: Date) {
  return {
    build: info.build,
    records: info.records,
    updatedAt: info.updatedAt?.toISOString() ?? null,
    ageSeconds: info.updatedAt
      ? Math.max(0, Math.round((now.getTime() - info.updatedAt.getTime()) / 1000))
      : null,
    sources: info.sources.map((s) => ({
      name: s.name,
      records: s.records,
      invalidRecords: s.invalidRecords,
      importedAt: s.importedAt.toISOString(),
      newestRecord: s.newestRecord?.toISOString() ?? null,
    })),
  };
}

function vulndbTable(info: AdvisoryDbInfoRow | undefined, now: Date): string {
  if (!info) return 'vulnerability database: not created yet (run vigil db migrate, import or update)';
  if (!info.sources.length) return 'vulnerability database: empty (run vigil db import or vigil db update)';
  const head = `vulnerability database: ${info.records} records, build ${info.build}, updated ${age(info.updatedAt, now)} ago`;
  return `${head}\n${table(
    ['source', 'records', 'invalid', 'newest record', 'imported'],
    info.sources.map((s) => [
      s.name,
      String(s.records),
      String(s.invalidRecords),
      s.newestRecord?.toISOString() ?? '-',
      `${age(s.importedAt, now)} ago`,
    ]),
  )}`;
}
