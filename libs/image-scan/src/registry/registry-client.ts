// HTTP to one repository of one registry over the OCI distribution API: authentication (anonymous, HTTP basic,
// bearer tokens from the WWW-Authenticate challenge), retries with backoff, and redirects followed by hand so
// that credentials never go to another host (registries redirect blob downloads to object storage).
import { ImageError } from '../image/source.js';
import { parseChallenges, type Challenge } from './challenge.js';
import type { RegistryCredentials } from './credentials.js';
import { apiHost } from './reference.js';

export type FetchLike = (input: string | URL, init?: RequestInit) => Promise<Response>;

export interface RegistryClientOptions {
  credentials?: RegistryCredentials;
  /** Plain http instead of https (a registry on loopback, a test registry). */
  insecure?: boolean;
  fetch?: FetchLike;
  /** How long one request may wait for its response headers, and a blob stream for its next bytes. Default 30 s. */
  timeoutMs?: number;
  /** Retries after 429, 5xx and network errors. Default 3. */
  retries?: number;
  /** The first retry's delay; each next one doubles it. Default 250 ms. */
  retryDelayMs?: number;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

type AuthScheme =
  { kind: 'anonymous' } | { kind: 'basic' } | { kind: 'bearer'; realm: string; service?: string };

const MAX_REDIRECTS = 5;
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
/** A token whose response gives no lifetime lives 60 s (the distribution token spec's default). */
const DEFAULT_TOKEN_SECONDS = 60;
/** Tokens are renewed a little before they expire, so a request never arrives with a stale one. */
const TOKEN_SLACK_MS = 5_000;

export class RegistryClient {
  readonly registry: string;
  readonly baseUrl: string;
  private readonly fetchImpl: FetchLike;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly retryDelayMs: number;
  private scheme: AuthScheme | undefined;
  private readonly tokens = new Map<string, CachedToken>();
  /** How many tokens were fetched from the token service (observable so reuse can be tested). */
  tokenRequests = 0;

  constructor(
    registry: string,
    /** The name every error starts with: the image as the user wrote it. */
    private readonly image: string,
    private readonly options: RegistryClientOptions = {},
  ) {
    this.registry = registry;
    this.baseUrl = `${options.insecure ? 'http' : 'https'}://${apiHost(registry)}`;
    this.fetchImpl = options.fetch ?? ((input, init) => fetch(input, init));
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 3;
    this.retryDelayMs = options.retryDelayMs ?? 250;
  }

  /**
   * A request to `path` (under /v2/) for `scope` ("repository:library/alpine:pull"). Answers the response,
   * whatever its status other than 401 (the caller names 404 and friends); the body is the caller's to read.
   */
  async request(
    path: string,
    init: {
      method?: string;
      accept?: string;
      scope?: string;
      signal?: AbortSignal;
      body?: string;
      contentType?: string;
    },
  ): Promise<Response> {
    const scheme = await this.authScheme();
    const url = `${this.baseUrl}${path}`;
    let authorization = await this.authorization(scheme, init.scope, false);
    let response = await this.send(url, { ...init, authorization });
    if (response.status !== 401) return response;

    // Once more after a 401: the token may have been revoked, or the registry asks for another scope.
    const challenge = this.challengeOf(response);
    await response.body?.cancel();
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const scope = challenge.params.scope ?? init.scope;
      authorization = await this.authorization(
        { kind: 'bearer', realm: challenge.params.realm, service: challenge.params.service },
        scope,
        true,
      );
      response = await this.send(url, { ...init, authorization });
      if (response.status !== 401) return response;
      await response.body?.cancel();
    }
    throw this.authError(`${init.method ?? 'GET'} ${path} was refused with 401 Unauthorized`);
  }

  /** GET /v2/: learns how the registry wants to be authenticated (or that it is none at all). */
  private async authScheme(): Promise<AuthScheme> {
    if (this.scheme) return this.scheme;
    const response = await this.send(`${this.baseUrl}/v2/`, { method: 'GET' });
    await response.body?.cancel();
    if (response.ok) return (this.scheme = { kind: 'anonymous' });
    if (response.status !== 401)
      throw new ImageError(
        this.image,
        `registry ${this.registry} does not speak the distribution API: GET ${this.baseUrl}/v2/ answered ${response.status} ${response.statusText}`,
      );
    const challenge = this.challengeOf(response);
    if (challenge?.scheme === 'bearer' && challenge.params.realm)
      return (this.scheme = {
        kind: 'bearer',
        realm: challenge.params.realm,
        service: challenge.params.service,
      });
    if (challenge?.scheme === 'basic') return (this.scheme = { kind: 'basic' });
    throw new ImageError(
      this.image,
      `registry ${this.registry} answered GET /v2/ with 401 but no Bearer or Basic challenge it could follow (WWW-Authenticate: ${JSON.stringify(response.headers.get('www-authenticate') ?? '')})`,
    );
  }

  private challengeOf(response: Response): Challenge | undefined {
    const header = response.headers.get('www-authenticate');
    if (!header) return undefined;
    const challenges = parseChallenges(header);
    return challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
  }

  private async authorization(
    scheme: AuthScheme,
    scope: string | undefined,
    renew: boolean,
  ): Promise<string | undefined> {
    const creds = this.options.credentials;
    if (scheme.kind === 'anonymous') return undefined;
    if (scheme.kind === 'basic') {
      if (!creds) throw this.authError('the registry asks for a username and password');
      return basicHeader(creds);
    }
    const key = `${scheme.realm}|${scheme.service ?? ''}|${scope ?? ''}`;
    const cached = this.tokens.get(key);
    if (cached && !renew && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(scheme.realm, scheme.service, scope);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  /** The token endpoint of the distribution token spec: GET realm?service=…&scope=…, basic auth when we have creds. */
  private async fetchToken(
    realm: string,
    service: string | undefined,
    scope: string | undefined,
  ): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new ImageError(
        this.image,
        `registry ${this.registry} named a token realm that is not a URL: ${JSON.stringify(realm)}`,
      );
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:')
      throw new ImageError(
        this.image,
        `registry ${this.registry} named a token realm that is not http(s): ${realm}`,
      );
    if (service) url.searchParams.set('service', service);
    if (scope) for (const s of scope.split(' ')) url.searchParams.append('scope', s);
    const creds = this.options.credentials;
    const requestedAt = Date.now();
    this.tokenRequests++;
    const response = await this.send(url.toString(), {
      method: 'GET',
      accept: 'application/json',
      authorization: creds ? basicHeader(creds) : undefined,
    });
    if (response.status === 401 || response.status === 403) {
      await response.body?.cancel();
      throw this.authError(`the token service ${url.origin}${url.pathname} answered ${response.status}`);
    }
    if (!response.ok) {
      await response.body?.cancel();
      throw new ImageError(
        this.image,
        `the token service of registry ${this.registry} (${url.origin}${url.pathname}) answered ${response.status} ${response.statusText}`,
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      body = (await response.json()) as typeof body;
    } catch (err) {
      throw new ImageError(
        this.image,
        `the token service of registry ${this.registry} sent no JSON (${(err as Error).message})`,
      );
    }
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '')
      throw new ImageError(
        this.image,
        `the token service of registry ${this.registry} answered without a token`,
      );
    const seconds =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    const issued = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : NaN;
    // A token service's clock may be off from ours: never count from later than when we asked.
    const start = Number.isFinite(issued) ? Math.min(issued, requestedAt) : requestedAt;
    return { token, expiresAt: start + seconds * 1000 - TOKEN_SLACK_MS };
  }

  private authError(detail: string): ImageError {
    return this.options.credentials
      ? new ImageError(
          this.image,
          `authentication failed for registry ${this.registry} as ${JSON.stringify(this.options.credentials.username)}: ${detail}`,
        )
      : new ImageError(
          this.image,
          `authentication required for registry ${this.registry}: no credentials were given (${detail}); pass credentials or a docker config with an entry for ${this.registry}`,
        );
  }

  /** One logical request: retried on 429/5xx/network errors, redirects followed without the credentials. */
  private async send(
    url: string,
    init: {
      method?: string;
      accept?: string;
      authorization?: string;
      signal?: AbortSignal;
      body?: string;
      contentType?: string;
    },
  ): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response;
      try {
        response = await this.followRedirects(url, init);
      } catch (err) {
        if (err instanceof ImageError) throw err;
        if (init.signal?.aborted) throw err;
        if (attempt < this.retries) {
          await sleep(this.retryDelayMs * 2 ** attempt);
          continue;
        }
        throw new ImageError(
          this.image,
          `cannot reach registry ${this.registry} (${url}): ${describeNetworkError(err)}`,
        );
      }
      if (!RETRY_STATUSES.has(response.status) || attempt >= this.retries) return response;
      await response.body?.cancel();
      await sleep(retryDelay(response, this.retryDelayMs * 2 ** attempt));
    }
  }

  private async followRedirects(
    first: string,
    init: {
      method?: string;
      accept?: string;
      authorization?: string;
      signal?: AbortSignal;
      body?: string;
      contentType?: string;
    },
  ): Promise<Response> {
    const origin = new URL(first).origin;
    let url = first;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers: Record<string, string> = {};
      if (init.accept) headers.accept = init.accept;
      if (init.contentType) headers['content-type'] = init.contentType;
      // Credentials are for the registry (and its token service) only, never for where it redirects us.
      if (init.authorization && new URL(url).origin === origin) headers.authorization = init.authorization;
      const response = await this.fetchWithTimeout(url, {
        method: hop === 0 ? (init.method ?? 'GET') : init.method === 'HEAD' ? 'HEAD' : 'GET',
        headers,
        redirect: 'manual',
        ...(hop === 0 && init.body !== undefined ? { body: init.body } : {}),
        ...(init.signal ? { signal: init.signal } : {}),
      });
      const location = response.headers.get('location');
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      await response.body?.cancel();
      url = new URL(location, url).toString();
    }
    throw new ImageError(
      this.image,
      `registry ${this.registry} redirected ${first} more than ${MAX_REDIRECTS} times`,
    );
  }

  /** fetch, aborted when the response headers take longer than the timeout. */
  private async fetchWithTimeout(url: string, init: RequestInit): Promise<Response> {
    const controller = new AbortController();
    const outer = init.signal;
    const onAbort = () => controller.abort(outer?.reason);
    outer?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`no response within ${this.timeoutMs} ms`));
    }, this.timeoutMs);
    try {
      // The outer signal stays wired to the response: aborting it later stops the body stream too.
      return await this.fetchImpl(url, { ...init, signal: controller.signal });
    } catch (err) {
      outer?.removeEventListener('abort', onAbort);
      if (timedOut) throw new Error(`no response within ${this.timeoutMs} ms`, { cause: err });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

function basicHeader(creds: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

function retryDelay(response: Response, backoff: number): number {
  const header = response.headers.get('retry-after');
  const seconds = header !== null && /^\d+$/.test(header.trim()) ? Number(header) : NaN;
  // Honour Retry-After, but never stall a scan for long on it.
  return Number.isFinite(seconds) ? Math.min(seconds * 1000, 10_000) : backoff;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeNetworkError(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  const cause = e.cause;
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  if (cause?.message) return cause.message;
  return e.message ?? String(err);
}
