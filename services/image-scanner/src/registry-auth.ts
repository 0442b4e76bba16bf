// Registry credentials for the images the scanner reaches itself: a workload's imagePullSecrets read from the
// cluster API (when the service has a kubeconfig or runs in-cluster), else a mounted docker config file. Secret
// contents never travel on the log: requests name the secrets ("namespace/name") and each replica reads them.
import { existsSync, readFileSync } from 'node:fs';
import type { CoreV1Api } from '@kubernetes/client-node';
import { DockerConfigError, credentialsFromDockerConfig, type RegistryCredentials } from '@vigil/image-scan';

export interface KubeAccess {
  /** A kubeconfig file; its current-context unless `context` names one. */
  kubeconfig?: string;
  context?: string;
  /** The pod's service account (token, CA, KUBERNETES_SERVICE_HOST/PORT). */
  inCluster?: boolean;
}

export interface RegistryAuthOptions {
  /** How to reach the cluster API for pull secrets; absent: the service reads no Secrets. */
  kube?: KubeAccess;
  /** A docker config.json (or a .dockerconfigjson) mounted into the pod, used when no pull secret has credentials. */
  authFile?: string;
  /** A Secret read from the cluster is reused this long; rotated pull secrets are picked up after it. */
  secretTtlMs?: number;
  clock?: () => number;
  log?: { warn(msg: string): void };
}

/** Secrets named "namespace/name", as the request option pull-secrets carries them. */
export type PullSecretNames = readonly string[];

interface CachedSecret {
  at: number;
  /** The Secret as credentialsFromDockerConfig reads it, or undefined when it could not be read. */
  config: object | undefined;
}

const DEFAULT_SECRET_TTL_MS = 5 * 60_000;
const PULL_SECRET_TYPES = new Set(['kubernetes.io/dockerconfigjson', 'kubernetes.io/dockercfg']);

/** Parses "namespace/name,namespace/name" (the request option) into names, naming what is wrong. */
export function parsePullSecretOption(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names)
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(n))
      throw new Error(`option pull-secrets: "${n}" is not namespace/name of a Secret`);
  return names;
}

export class RegistryAuth {
  private readonly secrets = new Map<string, CachedSecret>();
  private core: Promise<CoreV1Api> | undefined;
  private fileConfig: { config: string | undefined; error?: string } | undefined;
  private readonly ttl: number;
  private readonly now: () => number;

  constructor(private readonly options: RegistryAuthOptions = {}) {
    this.ttl = options.secretTtlMs ?? DEFAULT_SECRET_TTL_MS;
    this.now = options.clock ?? Date.now;
  }

  /** Whether any source of credentials is configured (a cluster to read Secrets from, or an auth file). */
  get configured(): boolean {
    return this.options.kube !== undefined || this.options.authFile !== undefined;
  }

  /**
   * The credentials for `registry` (host[:port]): the first named pull secret that has an entry for it, else the
   * auth file's entry, else undefined (anonymous). A Secret that cannot be read is logged and skipped, as the
   * kubelet skips it; the registry then answers 401 and the scan says so.
   */
  async credentials(
    registry: string,
    pullSecrets: PullSecretNames = [],
  ): Promise<RegistryCredentials | undefined> {
    for (const name of pullSecrets) {
      const config = await this.secret(name);
      if (!config) continue;
      try {
        const found = credentialsFromDockerConfig(config, registry);
        if (found) return found;
      } catch (err) {
        if (!(err instanceof DockerConfigError)) throw err;
        this.options.log?.warn(`pull secret ${name}: ${err.message}`);
      }
    }
    const file = this.authFile();
    if (file === undefined) return undefined;
    try {
      return credentialsFromDockerConfig(file, registry);
    } catch (err) {
      if (!(err instanceof DockerConfigError)) throw err;
      this.options.log?.warn(`registry auth file ${this.options.authFile}: ${err.message}`);
      return undefined;
    }
  }

  private async secret(name: string): Promise<object | undefined> {
    if (!this.options.kube) return undefined;
    const cached = this.secrets.get(name);
    if (cached && this.now() - cached.at < this.ttl) return cached.config;
    const config = await this.readSecret(name);
    this.secrets.set(name, { at: this.now(), config });
    return config;
  }

  private async readSecret(qualified: string): Promise<object | undefined> {
    const slash = qualified.indexOf('/');
    const namespace = qualified.slice(0, slash);
    const name = qualified.slice(slash + 1);
    let core: CoreV1Api;
    try {
      core = await this.client();
    } catch (err) {
      this.options.log?.warn(`pull secret ${qualified}: no cluster access: ${(err as Error).message}`);
      return undefined;
    }
    try {
      const secret = await core.readNamespacedSecret({ name, namespace });
      if (secret.type && !PULL_SECRET_TYPES.has(secret.type)) {
        this.options.log?.warn(
          `pull secret ${qualified}: type ${secret.type} is not kubernetes.io/dockerconfigjson or kubernetes.io/dockercfg`,
        );
        return undefined;
      }
      // The typed client drops kind on some paths; credentialsFromDockerConfig recognises a Secret by it.
      return { kind: 'Secret', data: secret.data ?? {} };
    } catch (err) {
      // client-node's ApiException carries the HTTP status as a numeric code.
      const code = (err as { code?: unknown }).code;
      const why =
        typeof code === 'number'
          ? code === 404
            ? 'not found'
            : code === 403
              ? 'forbidden (the image-scanner needs get on secrets in that namespace)'
              : `the API server answered ${code}`
          : (err as Error).message;
      this.options.log?.warn(`pull secret ${qualified}: ${why}`);
      return undefined;
    }
  }

  private client(): Promise<CoreV1Api> {
    // A failed setup is not kept: a kubeconfig mounted late is picked up by the next read.
    this.core ??= this.makeClient().catch((err: unknown) => {
      this.core = undefined;
      throw err;
    });
    return this.core;
  }

  private async makeClient(): Promise<CoreV1Api> {
    // Loaded on first use: client-node takes seconds to import, and most scanners never read a Secret.
    const { CoreV1Api, KubeConfig } = await import('@kubernetes/client-node');
    const kube = this.options.kube!;
    const kc = new KubeConfig();
    if (kube.inCluster) {
      kc.loadFromCluster();
    } else if (kube.kubeconfig) {
      if (!existsSync(kube.kubeconfig)) throw new Error(`kubeconfig ${kube.kubeconfig}: no such file`);
      kc.loadFromFile(kube.kubeconfig);
    } else {
      kc.loadFromDefault();
    }
    if (kube.context) {
      if (!kc.getContextObject(kube.context)) throw new Error(`kubeconfig has no context "${kube.context}"`);
      kc.setCurrentContext(kube.context);
    }
    if (!kc.getCurrentCluster()?.server) throw new Error('the kubeconfig names no cluster with a server URL');
    return kc.makeApiClient(CoreV1Api);
  }

  // Read once: a mounted Secret file changes only with a restart of the pod in the usual setup.
  private authFile(): string | undefined {
    const path = this.options.authFile;
    if (!path) return undefined;
    if (!this.fileConfig) {
      try {
        this.fileConfig = { config: readFileSync(path, 'utf8') };
      } catch (err) {
        this.fileConfig = { config: undefined, error: (err as Error).message };
        this.options.log?.warn(`registry auth file ${path}: cannot read it: ${this.fileConfig.error}`);
      }
    }
    return this.fileConfig.config;
  }
}
