// The real `vigil` CLI as a child process: what a user types, with its stdout, stderr and exit code. Each test file
// gets its own data dir under the system temp dir, so files never share an embedded Postgres or a log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '@vigil/testing';

export const VIGIL_BIN = 'services/vigil/bin/vigil.js';

/** Parsed CLI JSON output: the tests walk it by the documented field names. */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed CLI output

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number;
}

export interface RunOptions {
  /** Variables added to the inherited environment (minus the ones that would change the deployment). */
  env?: Record<string, string>;
  /** The child is killed (SIGKILL) after this long and the result says so; default 180 s. */
  timeoutMs?: number;
  /** Written to the child's stdin, which is then closed; without it stdin is not connected. */
  input?: Uint8Array;
}

// Variables of the developer's shell that would point the CLI elsewhere than the data dir the test gave it.
const DEPLOYMENT_VARS = [
  'EVENT_LOG',
  'DATABASE_URL',
  'KAFKA_BROKERS',
  'VIGIL_DATA_DIR',
  'VIGIL_CLUSTER',
  'VIGIL_IGNORE_FILE',
];

export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of DEPLOYMENT_VARS) delete env[k];
  return { ...env, ...extra };
}

/** Runs `node services/vigil/bin/vigil.js ...args` from the repository root and collects what it printed. */
export function runVigil(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const started = Date.now();
  const child = spawn(process.execPath, [VIGIL_BIN, ...args], {
    cwd: repoRoot(),
    env: cliEnv(options.env),
    stdio: [options.input ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  if (options.input) child.stdin?.end(options.input);
  return collect(child, started, options.timeoutMs ?? 180_000, args);
}

function collect(
  child: ChildProcess,
  started: number,
  timeoutMs: number,
  args: readonly string[],
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n[e2e] vigil ${args.join(' ')} still running after ${timeoutMs} ms: killed`;
    }, timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** A one-line account of a run, for assertion messages: the command, exit code and both streams. */
export function explain(args: readonly string[], r: CliResult): string {
  // Long outputs (a whole report) are cut: the head says what it was, the exit code and stderr say what went wrong.
  const cut = (text: string) =>
    text.length > 2_000 ? `${text.slice(0, 2_000)}\n[… ${text.length - 2_000} more characters]` : text;
  return `vigil ${args.join(' ')} → exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\n--- stdout\n${cut(r.stdout)}\n--- stderr\n${cut(r.stderr)}`;
}

/** Runs vigil and parses its stdout as JSON, failing with the whole exchange when it is not exit 0 + JSON. */
export async function vigilJson<T = Json>(
  args: readonly string[],
  options: RunOptions & { expectCode?: number } = {},
): Promise<{ json: T; result: CliResult }> {
  const result = await runVigil(args, options);
  const expected = options.expectCode ?? 0;
  if (result.code !== expected) throw new Error(`expected exit ${expected}: ${explain(args, result)}`);
  try {
    return { json: JSON.parse(result.stdout) as T, result };
  } catch (err) {
    throw new Error(`stdout is not JSON (${(err as Error).message}): ${explain(args, result)}`);
  }
}

/**
 * A fresh, empty directory under the system temp dir. The data dir itself is a child of it that vigil creates,
 * so the test also covers vigil making its own data dir.
 */
export function freshTempDir(prefix: string): { dir: string; dataDir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `vigil-${prefix}-`));
  return { dir, dataDir: join(dir, 'data'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The postmaster processes serving this data dir's embedded cluster (`postgres -D <dataDir>/postgres...`). */
export function postmastersFor(dataDir: string): { pid: number; command: string }[] {
  const ps = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  if (ps.status !== 0) throw new Error(`ps failed: ${ps.stderr}`);
  const pgDir = join(dataDir, 'postgres');
  return ps.stdout
    .split('\n')
    .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ pid: Number(m[1]), command: m[2] ?? '' }))
    .filter(({ command }) => {
      const args = command.split(/\s+/);
      const d = args.indexOf('-D');
      return /(^|\/)postgres$/.test(args[0] ?? '') && d >= 0 && (args[d + 1] ?? '').startsWith(pgDir);
    });
}

/** Polls until `fn` returns a value (not undefined) or the time is up; the error names what was awaited. */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 60_000,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`,
      );
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** GET a URL and return its status code, or undefined when nothing answers. */
export async function httpStatus(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return undefined;
  }
}

export interface Background {
  readonly child: ChildProcess;
  readonly name: string;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Sends the signal and waits for the exit; SIGKILL after `graceMs` (and the result's signal says so). */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<CliResult>;
  /** Resolves when the process exits on its own. */
  readonly exited: Promise<CliResult>;
}

/** Starts a long-running node script (vigil up, a service's main.js) from the repository root. */
export function startBackground(
  name: string,
  script: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Background {
  const started = Date.now();
  const child = spawn(process.execPath, [script, ...args], {
    cwd: repoRoot(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started }),
    );
  });
  // A test that fails before it stops the process must not leave it behind.
  exited.catch(() => undefined);
  return {
    child,
    name,
    exited,
    output: () => ({ stdout, stderr }),
    stop: async (signal = 'SIGTERM', graceMs = 30_000) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
