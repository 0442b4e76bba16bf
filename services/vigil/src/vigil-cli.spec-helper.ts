// The vigil CLI as a user runs it, for the e2e specs: `node services/vigil/bin/vigil.js ... --data-dir DIR` from the
// repository root, with none of the developer's variables that would point it at another deployment.
import { spawn } from 'node:child_process';
import { repoRoot } from '@vigil/testing';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

const env = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) => !['EVENT_LOG', 'DATABASE_URL', 'KAFKA_BROKERS', 'VIGIL_DATA_DIR', 'VIGIL_CLUSTER'].includes(k),
  ),
);

/** A runner of the CLI on one data dir: each call is one command, its exit code and what it printed. */
export function vigilCli(dataDir: string): (...args: string[]) => Promise<Run> {
  return (...args) => {
    const child = spawn(process.execPath, ['services/vigil/bin/vigil.js', ...args, '--data-dir', dataDir], {
      cwd: repoRoot(),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  };
}
