import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ALL_TOPICS } from '@vigil/contracts';
import {
  createEmbeddedEventLog,
  createKafkaEventLog,
  type EventLog,
  type EventLogLogger,
} from '@vigil/event-log';
import { createSql, redactUrl, runMigrations, startEmbeddedPostgres, type Sql } from '@vigil/store';

export interface DeploymentOptions {
  eventLog: 'kafka' | 'embedded';
  dataDir: string;
  kafkaBrokers: readonly string[];
  kafkaClientId?: string | undefined;
  databaseUrl?: string | undefined;
  logger: EventLogLogger;
  /** One line per step worth telling a person (embedded Postgres started or attached, migrations). */
  progress: (line: string) => void;
  /** Apply pending migrations on open (default). `vigil db` commands open without, to report them themselves. */
  migrate?: boolean;
  /** Longest the log may take to answer (topics created) before opening fails. */
  timeoutMs?: number;
}

/** One deployment: its log and its database. Commands run one after another on one data dir share both. */
export interface Deployment {
  readonly mode: 'kafka' | 'embedded';
  readonly eventLog: EventLog;
  readonly databaseUrl: string;
  /** The deployment's database, for readiness (and, embedded, the log's tables). */
  readonly sql: Sql;
  /** Where the deployment lives, for messages: the data dir, or the brokers and the database. */
  readonly describe: string;
  close(): Promise<void>;
}

/**
 * Opens the deployment the options name. Embedded (the default): the data dir's own Postgres (started, or
 * attached to when another vigil process runs it) holds both the reporting store and the event log. Kafka: the
 * brokers and DATABASE_URL. Everything above this function is the same code in both modes.
 */
export async function openDeployment(o: DeploymentOptions): Promise<Deployment> {
  const closers: (() => Promise<void>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    let databaseUrl: string;
    let eventLog: EventLog;
    let describe: string;
    let sql: Sql;
    if (o.eventLog === 'embedded') {
      const dataDir = resolve(o.dataDir);
      const pg = await startEmbeddedPostgres({ dataDir, log: o.progress });
      closers.push(() => pg.stop());
      databaseUrl = o.databaseUrl ?? pg.url;
      sql = createSql(databaseUrl, { applicationName: 'vigil:event-log' });
      closers.push(() => sql.close());
      if (o.migrate !== false) await migrate(databaseUrl, o.progress);
      eventLog = createEmbeddedEventLog({ sql, logger: o.logger });
      describe = `embedded deployment in ${dataDir}`;
    } else {
      if (!o.databaseUrl)
        throw new DeploymentError('EVENT_LOG=kafka needs DATABASE_URL for the reporting store');
      databaseUrl = o.databaseUrl;
      const db = createSql(databaseUrl, { applicationName: 'vigil', max: 2 });
      sql = db;
      closers.push(() => db.close());
      if (o.migrate !== false) await migrate(databaseUrl, o.progress);
      eventLog = createKafkaEventLog({
        brokers: [...o.kafkaBrokers],
        clientId: o.kafkaClientId ?? 'vigil',
        logger: o.logger,
      });
      describe = `Kafka ${o.kafkaBrokers.join(',')} and ${redactUrl(databaseUrl)}`;
    }
    closers.push(() => eventLog.close());
    const log = eventLog;
    await withTimeout(
      log.ensureTopics(ALL_TOPICS.map((t) => ({ name: t.name, partitions: t.partitions }))),
      o.timeoutMs,
      () => `the event log (${describe}) did not answer within ${Math.round((o.timeoutMs ?? 0) / 1000)} s`,
    );
    return { mode: o.eventLog, eventLog, databaseUrl, sql, describe, close };
  } catch (err) {
    // A client still retrying an unreachable broker must not hold the error back: give closing a second.
    await Promise.race([close(), new Promise((r) => setTimeout(r, 1000).unref())]);
    throw err;
  }
}

/**
 * What a command that opens the data dir does with it: only reads a deployment that must already be there
 * (report, snapshots, diff, the lists, evidence export), or may create one (a scan, the first of everything).
 * Commands that never open it (explain, evidence verify) are not checked at all.
 */
export type DataDirUse = 'read' | 'write';

export interface DataDirCheck {
  dataDir: string;
  /** How the user named the data dir, for the message: `--data-dir /x`, `VIGIL_DATA_DIR /x`, the default. */
  label: string;
  use: DataDirUse;
  eventLog: 'kafka' | 'embedded';
  databaseUrl?: string | undefined;
  /** The command as its messages name it (`vigil report`). */
  command: string;
}

/**
 * Refuses, before anything is created, a data dir the command cannot use: a path that is (or runs through) a
 * file, for every command that uses the data dir; for one that only reads, a data dir that does not exist or
 * holds no deployment (a mistyped path must not become a fresh empty deployment that "has no snapshot yet").
 * Only the embedded deployment lives in the data dir: with Kafka, nothing is checked; with DATABASE_URL, the
 * deployment's data is elsewhere, so only the file case is.
 */
export function checkDataDir(c: DataDirCheck): void {
  if (c.eventLog !== 'embedded') return;
  const dir = resolve(c.dataDir);
  const file = fileOnPath(dir);
  if (file !== undefined)
    throw new DeploymentError(
      file === dir
        ? `${c.command}: ${c.label} is a file, not a directory (the data dir holds the deployment)`
        : `${c.command}: ${c.label} cannot be a directory: ${file} is a file`,
    );
  if (c.use !== 'read' || c.databaseUrl) return;
  const there = probe(dir);
  if (there === 'missing')
    throw new DeploymentError(
      `${c.command}: ${c.label} does not exist, so it holds no vigil deployment (run a scan there first, or check the path)`,
    );
  // The embedded cluster's folder is what a scan leaves; unreadable (permissions) is for the server start to say.
  const cluster = probe(join(dir, 'postgres'));
  if (there === 'dir' && (cluster === 'missing' || cluster === 'other'))
    throw new DeploymentError(
      `${c.command}: ${c.label} holds no vigil deployment (run a scan there first, or check the path)`,
    );
}

/** The path itself or the nearest existing entry above it, when that is not a directory. */
function fileOnPath(dir: string): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    const kind = probe(d);
    if (kind === 'other') return d;
    if (kind !== 'missing' || dirname(d) === d) return undefined;
  }
}

/** What is at a path: nothing (ENOENT, or a file on the way: ENOTDIR), a directory, something else, or unknown. */
function probe(path: string): 'missing' | 'dir' | 'other' | 'unknown' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'missing' : 'unknown';
  }
}

async function withTimeout<T>(work: Promise<T>, ms: number | undefined, what: () => string): Promise<T> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeploymentError(what())), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function migrate(url: string, progress: (line: string) => void): Promise<void> {
  const applied = await runMigrations(url);
  if (applied.length > 0) progress(`database migrated: ${applied.join(', ')}`);
}

/** A deployment that cannot be opened as configured: exit code 2 with this one line. */
export class DeploymentError extends Error {
  override readonly name = 'DeploymentError';
}
