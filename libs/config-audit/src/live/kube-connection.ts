import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HttpMethod, IsomorphicFetchHttpLibrary, KubeConfig, RequestContext } from '@kubernetes/client-node';

export interface ConnectOptions {
  /** A kubeconfig file; default: what client-node's loadFromDefault finds (KUBECONFIG, then ~/.kube/config). */
  kubeconfig?: string;
  /** A context of that kubeconfig; default its current-context. */
  context?: string;
  /** Use the pod's service account (token, CA and KUBERNETES_SERVICE_HOST/PORT) instead of a kubeconfig. */
  inCluster?: boolean;
}

export interface RawResponse {
  status: number;
  text: string;
}

/** One authenticated connection to an API server, answering raw JSON text so nothing is lost to typed models. */
export interface KubeConnection {
  readonly kubeConfig: KubeConfig;
  readonly context: string;
  readonly server: string;
  /** Where the configuration came from, for messages: "kubeconfig /home/x/.kube/config", "in-cluster service account". */
  readonly source: string;
  /** "context kind-a (server https://…, kubeconfig …)" */
  describe(): string;
  get(path: string, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<RawResponse>;
}

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Loads the configuration and picks the context; a missing file, context or cluster throws naming it. */
export function connect(opts: ConnectOptions): KubeConnection {
  const kc = new KubeConfig();
  let source: string;
  if (opts.inCluster) {
    source = 'in-cluster service account';
    if (!process.env['KUBERNETES_SERVICE_HOST'] || !process.env['KUBERNETES_SERVICE_PORT']) {
      throw new Error(
        `${source}: KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set (not running in a pod?)`,
      );
    }
    if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
      throw new Error(`${source}: no token at ${SERVICE_ACCOUNT_TOKEN} (automountServiceAccountToken off?)`);
    }
    kc.loadFromCluster();
  } else if (opts.kubeconfig) {
    source = `kubeconfig ${opts.kubeconfig}`;
    if (!existsSync(opts.kubeconfig)) throw new Error(`${source}: no such file`);
    try {
      kc.loadFromFile(opts.kubeconfig);
    } catch (err) {
      throw new Error(`${source}: cannot load: ${(err as Error).message}`, { cause: err });
    }
  } else {
    const env = process.env['KUBECONFIG'];
    const home = join(homedir(), '.kube', 'config');
    source = env ? `kubeconfig KUBECONFIG=${env}` : `kubeconfig ${home}`;
    if (!env && !existsSync(home)) {
      // loadFromDefault would fall back to http://localhost:8080, which only hides the real problem.
      throw new Error(
        `${source}: no such file and KUBECONFIG is not set (give a kubeconfig file: vigil scan k8s --live --kubeconfig PATH, or run inside a pod to use its service account)`,
      );
    }
    try {
      kc.loadFromDefault();
    } catch (err) {
      throw new Error(`${source}: cannot load: ${(err as Error).message}`, { cause: err });
    }
  }

  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const names = kc.getContexts().map((c) => c.name);
      throw new Error(
        `${source}: no context "${opts.context}" (contexts: ${names.length ? names.join(', ') : 'none'})`,
      );
    }
    kc.setCurrentContext(opts.context);
  }
  const context = kc.getCurrentContext();
  if (!context || !kc.getContextObject(context)) {
    throw new Error(`${source}: no current-context${context ? ` "${context}" among its contexts` : ' set'}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster?.server) {
    throw new Error(`${source}: context "${context}" names no cluster with a server URL`);
  }
  const server = cluster.server.replace(/\/+$/, '');
  const describe = () => `context ${context} (server ${server}, ${source})`;
  const http = new IsomorphicFetchHttpLibrary();

  return {
    kubeConfig: kc,
    context,
    server,
    source,
    describe,
    async get(path, { signal, timeoutMs } = {}) {
      const request = new RequestContext(`${server}${path}`, HttpMethod.GET);
      request.setHeaderParam('Accept', 'application/json');
      try {
        // Tokens, client certificates, exec plugins, CA and proxy settings all come from client-node here.
        await kc.applySecurityAuthentication(request);
      } catch (err) {
        throw new Error(`${describe()}: cannot set up credentials: ${(err as Error).message}`, {
          cause: err,
        });
      }
      const signals = [signal, timeoutMs ? AbortSignal.timeout(timeoutMs) : undefined].filter(
        (s): s is AbortSignal => s !== undefined,
      );
      if (signals.length) request.setSignal(signals.length === 1 ? signals[0]! : AbortSignal.any(signals));
      try {
        const response = await http.send(request).toPromise();
        return { status: response.httpStatusCode, text: await response.body.text() };
      } catch (err) {
        if (signal?.aborted) throw new Error(`${describe()}: read aborted`, { cause: err });
        const e = err as Error & { code?: string };
        if (e.name === 'AbortError') {
          throw new Error(`${describe()}: no answer to GET ${path} within ${timeoutMs} ms`, { cause: err });
        }
        throw new Error(
          `${describe()}: cannot reach the API server: ${e.code ? `${e.code} ` : ''}${e.message}`,
          {
            cause: err,
          },
        );
      }
    },
  };
}

/** The message of a Status body, or the start of whatever the server sent. */
export function statusMessage(text: string): string {
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    if (typeof body['message'] === 'string') return body['message'];
  } catch {
    // not JSON: fall through to the raw text
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat || '(empty body)';
}
