// Registry credentials from docker's config.json (~/.docker/config.json: `auths` keyed by registry), from the
// older ~/.dockercfg shape (the same entries without `auths`), and from a Kubernetes imagePullSecret
// (a Secret of type kubernetes.io/dockerconfigjson whose data[".dockerconfigjson"] is such a file, base64).
import { DOCKER_HUB } from './reference.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export class DockerConfigError extends Error {
  constructor(problem: string) {
    super(`docker config: ${problem}`);
    this.name = 'DockerConfigError';
  }
}

interface AuthEntry {
  auth?: unknown;
  username?: unknown;
  password?: unknown;
  identitytoken?: unknown;
}

/**
 * The credentials a docker config (JSON text, parsed object, or a Kubernetes Secret object) holds for a
 * registry host ("docker.io", "localhost:5000"), or undefined when it has none for it.
 */
export function credentialsFromDockerConfig(
  config: string | Buffer | object,
  registry: string,
): RegistryCredentials | undefined {
  const auths = authsOf(parseConfig(config));
  const wanted = normalizeRegistryKey(registry);
  for (const [key, entry] of Object.entries(auths)) {
    if (normalizeRegistryKey(key) !== wanted) continue;
    if (entry === null || typeof entry !== 'object') continue;
    const found = credentialsOf(entry as AuthEntry, key);
    if (found) return found;
  }
  return undefined;
}

function parseConfig(config: string | Buffer | object): Record<string, unknown> {
  let value: unknown = config;
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const text = value.toString();
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new DockerConfigError(`not JSON (${(err as Error).message})`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new DockerConfigError('not a JSON object');
  const obj = value as Record<string, unknown>;
  // A whole Kubernetes Secret: take the config out of its data (base64) or stringData (plain).
  if (obj.kind === 'Secret') {
    const data = (obj.data ?? {}) as Record<string, unknown>;
    const stringData = (obj.stringData ?? {}) as Record<string, unknown>;
    for (const key of ['.dockerconfigjson', '.dockercfg']) {
      if (typeof stringData[key] === 'string') return parseConfig(stringData[key]);
      if (typeof data[key] === 'string') return parseConfig(Buffer.from(data[key], 'base64'));
    }
    throw new DockerConfigError('the Secret has no .dockerconfigjson or .dockercfg key');
  }
  return obj;
}

function authsOf(config: Record<string, unknown>): Record<string, unknown> {
  if ('auths' in config) {
    const auths = config.auths;
    if (auths === null || typeof auths !== 'object' || Array.isArray(auths))
      throw new DockerConfigError('"auths" is not an object');
    return auths as Record<string, unknown>;
  }
  // ~/.dockercfg: registry keys at the top level. Keep only entries that look like auth entries.
  return Object.fromEntries(
    Object.entries(config).filter(
      ([, v]) => v !== null && typeof v === 'object' && ('auth' in v || 'username' in v),
    ),
  );
}

function credentialsOf(entry: AuthEntry, key: string): RegistryCredentials | undefined {
  if (typeof entry.username === 'string' && typeof entry.password === 'string' && entry.username !== '')
    return { username: entry.username, password: entry.password };
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0)
      throw new DockerConfigError(
        `the "auth" of ${JSON.stringify(key)} is not base64 of "username:password"`,
      );
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  return undefined;
}

/**
 * docker writes keys as "https://index.docker.io/v1/", "registry.example.com", "http://host:5000/v2/": compare
 * them by host[:port] only, with Docker Hub's aliases folded together.
 */
export function normalizeRegistryKey(key: string): string {
  let host = key.trim().toLowerCase();
  host = host.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  const slash = host.indexOf('/');
  if (slash >= 0) host = host.slice(0, slash);
  if (host === 'index.docker.io' || host === 'registry-1.docker.io' || host === 'registry.hub.docker.com')
    return DOCKER_HUB;
  return host;
}
