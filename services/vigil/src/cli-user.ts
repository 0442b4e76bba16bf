import { userInfo } from 'node:os';

/**
 * The user running the CLI, for the record (who requested a snapshot, who revoked an exception): the OS account,
 * else $USER (os.userInfo() throws for a uid without a passwd entry, as in many containers), else "unknown".
 */
export function osUser(
  info: () => { username: string } = userInfo,
  env: NodeJS.ProcessEnv = process.env,
): string {
  try {
    const name = info().username;
    if (name) return name;
  } catch {
    // No passwd entry for this uid: fall back to the environment.
  }
  return env.USER?.trim() || 'unknown';
}

/** A snapshot request's `requestedBy` when it comes from this CLI: `cli:<os user>`. */
export function cliRequester(user: string = osUser()): string {
  return `cli:${user}`;
}
