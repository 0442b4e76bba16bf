// The files that let several processes share one embedded postmaster on one data dir:
//   postgres.gate          short critical sections (start/attach, leave) are serialized by creating it with 'wx'
//   postgres.lock          the running server: { pid, postmasterPid, port, url, startedAt }, created with 'wx'
//   postgres.clients/<id>  one file per attached handle; the last live one to leave stops the server
// Liveness is "the pid runs and is the same process" (its start time on Linux), because pids are reused,
// most visibly in containers where every boot starts again from pid 1.
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface ProcessRef {
  pid: number;
  /** Kernel start time of the process (Linux /proc/<pid>/stat field 22), when known. */
  started?: string;
}

export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses; fields after it are plain.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19];
  } catch {
    return undefined;
  }
}

export function selfRef(): ProcessRef {
  return { pid: process.pid, started: processStartTime(process.pid) };
}

export function isAlive(ref: ProcessRef): boolean {
  if (!Number.isInteger(ref.pid) || ref.pid <= 0) return false;
  try {
    process.kill(ref.pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user (a postmaster running as postgres, seen by a non-root user).
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  if (ref.started === undefined) return true;
  const now = processStartTime(ref.pid);
  return now === undefined || now === ref.started;
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Creates file exclusively; false when it already exists. */
export function createExclusive(file: string, content: string, mode = 0o600): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

export function removeFile(file: string): void {
  try {
    unlinkSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

interface GateHolder extends ProcessRef {
  token: string;
  at: number;
}

// Tokens of gates held by this process: a gate naming our own pid but none of these is left over from an
// earlier process that had the same pid.
const heldHere = new Set<string>();

/** Runs fn while holding <dir>/postgres.gate. A gate whose holder died is taken over. */
export async function withGate<T>(dir: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const gate = join(dir, 'postgres.gate');
  const token = randomBytes(8).toString('hex');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const me: GateHolder = { ...selfRef(), token, at: Date.now() };
    if (createExclusive(gate, JSON.stringify(me))) break;
    const holder = readJson<GateHolder>(gate);
    const stale = holder
      ? !isAlive(holder) || (holder.pid === process.pid && !heldHere.has(holder.token))
      : false; // unreadable: the holder is between open and write; look again shortly
    if (stale) {
      // Re-read right before removing so a gate that changed hands meanwhile is left alone; the window
      // between the read and the unlink is what remains of the race, and it needs a holder that died.
      const again = readJson<GateHolder>(gate);
      if (again?.token === holder?.token) removeFile(gate);
      continue;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `embedded Postgres: ${gate} has been held by pid ${holder?.pid ?? '?'} for over ${Math.round(timeoutMs / 1000)} s; ` +
          `if no vigil process is starting or stopping, remove that file`,
      );
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  heldHere.add(token);
  try {
    return await fn();
  } finally {
    heldHere.delete(token);
    const holder = readJson<GateHolder>(gate);
    if (holder?.token === token) removeFile(gate);
  }
}

export interface ServerLock {
  /** The process that started the postmaster. */
  pid: number;
  started?: string;
  postmasterPid: number;
  port: number;
  /** Connection URL without the password (that lives in postgres.password). */
  url: string;
  startedAt: string;
}

export function clientsDir(dir: string): string {
  return join(dir, 'postgres.clients');
}

let clientSeq = 0;

/** Registers one attached handle; returns its file. */
export function addClient(dir: string): string {
  const cdir = clientsDir(dir);
  mkdirSync(cdir, { recursive: true });
  const file = join(cdir, `${process.pid}-${++clientSeq}-${randomBytes(3).toString('hex')}`);
  if (!createExclusive(file, JSON.stringify({ ...selfRef(), at: new Date().toISOString() }))) {
    throw new Error(`embedded Postgres: client file ${file} already exists`);
  }
  return file;
}

/** Client files whose process still runs; files of dead processes are removed on the way. */
export function liveClients(dir: string): string[] {
  const cdir = clientsDir(dir);
  let names: string[];
  try {
    names = readdirSync(cdir);
  } catch {
    return [];
  }
  const live: string[] = [];
  for (const name of names) {
    const file = join(cdir, name);
    // A file caught between create and write has no content yet; its name starts with the pid.
    const ref = readJson<ProcessRef>(file) ?? { pid: Number(name.split('-')[0]) };
    if (isAlive(ref)) live.push(file);
    else removeFile(file);
  }
  return live;
}
