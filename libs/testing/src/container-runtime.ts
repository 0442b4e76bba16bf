// Is there a container runtime testcontainers could use? Asked quickly: on machines without one (CI here) the
// answer must be "no" in milliseconds, not after testcontainers has tried every strategy with its own timeouts.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface RuntimeProbe {
  readonly available: boolean;
  /** Why not, or which runtime answered. */
  readonly reason: string;
}

/** Places testcontainers itself looks for a runtime (its strategies: env, ~/.testcontainers.properties, sockets). */
function candidates(env: NodeJS.ProcessEnv): string[] {
  const found: string[] = [];
  if (env.DOCKER_HOST) found.push(`DOCKER_HOST=${env.DOCKER_HOST}`);
  const props = join(homedir(), '.testcontainers.properties');
  if (existsSync(props) && /^\s*docker\.host\s*=/m.test(readFileSync(props, 'utf8')))
    found.push(`docker.host in ${props}`);
  const sockets = [
    '/var/run/docker.sock',
    join(homedir(), '.docker/run/docker.sock'),
    join(homedir(), '.docker/desktop/docker.sock'),
    env.XDG_RUNTIME_DIR ? join(env.XDG_RUNTIME_DIR, 'podman/podman.sock') : '',
    '/run/podman/podman.sock',
  ].filter(Boolean);
  for (const s of sockets) if (existsSync(s)) found.push(s);
  return found;
}

export async function probeContainerRuntime(
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<RuntimeProbe> {
  if (env.VIGIL_TESTCONTAINERS === '0') return { available: false, reason: 'VIGIL_TESTCONTAINERS=0' };
  const where = candidates(env);
  if (where.length === 0)
    return { available: false, reason: 'no DOCKER_HOST and no Docker or Podman socket' };
  // Loaded only when a runtime may exist: importing testcontainers costs time the common path should not pay.
  const { getContainerRuntimeClient } = await import('testcontainers');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const client = await Promise.race([getContainerRuntimeClient(), timeout]);
    return { available: true, reason: `${client.info.containerRuntime.host} (${where.join(', ')})` };
  } catch (err) {
    return { available: false, reason: `${where.join(', ')} did not answer: ${(err as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}
