// A real OCI distribution registry for tests: Debian's docker-registry (distribution v2) on a free loopback port,
// storing in a temp dir, with no auth, htpasswd basic auth, or bearer tokens from a token server of our own
// (node:http issuing RS256 JWTs that the registry verifies against a certificate we generate). Images get in
// with skopeo, as they would from a CI pipeline.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface StartRegistryOptions {
  auth?: RegistryAuth;
  username?: string;
  password?: string;
  /** Lifetime of the tokens the token server issues (auth 'token'). Default 300 s. */
  tokenTtlSeconds?: number;
  /** How long to wait for the registry to answer /v2/. Default 20 s. */
  startTimeoutMs?: number;
}

export interface TestRegistry {
  /** "http://127.0.0.1:PORT" */
  readonly url: string;
  /** "127.0.0.1:PORT", the registry part of image references. */
  readonly host: string;
  readonly auth: RegistryAuth;
  readonly username: string;
  readonly password: string;
  /** The registry's filesystem storage root (docker/registry/v2/… below it). */
  readonly storageDir: string;
  /** The token server's realm URL (auth 'token'). */
  readonly tokenRealm?: string;
  /** How many tokens the token server has issued, by outcome. */
  readonly tokenStats: { issued: number; refused: number };
  /**
   * Pushes an image with skopeo. `source` is a docker-archive tar (.tar, .tar.gz), an OCI layout directory
   * (`oci:<dir>[:<tag>]` or a plain directory), or any skopeo transport reference. `all` copies every image of
   * an index (skopeo copy --all).
   */
  push(source: string, repoTag: string, options?: { all?: boolean }): Promise<void>;
  /** PUT a manifest (or index) as the configured user; answers its Docker-Content-Digest. */
  putManifest(
    repository: string,
    reference: string,
    body: string | Buffer,
    mediaType: string,
  ): Promise<string>;
  /** The path of a blob in the registry's storage (to tamper with it). */
  blobPath(digest: string): string;
  /** An Authorization header value that lets a test talk to the registry itself (undefined without auth). */
  authorization(scope: string): string | undefined;
  stop(): Promise<void>;
}

const SERVICE = 'vigil-test-registry';
const ISSUER = 'vigil-test-token-issuer';

export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = options.auth ?? 'none';
  requireBinary('docker-registry', 'docker-registry');
  requireBinary('skopeo', 'skopeo');
  if (auth === 'basic') requireBinary('htpasswd', 'apache2-utils');
  if (auth === 'token') requireBinary('openssl', 'openssl');

  const username = options.username ?? 'vigil';
  const password = options.password ?? randomBytes(12).toString('base64url');
  const dir = mkdtempSync(join(tmpdir(), 'vigil-registry-'));
  const storageDir = join(dir, 'storage');
  const stats = { issued: 0, refused: 0 };
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  const cleanup = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    if (tokenServer) await new Promise<void>((resolve) => tokenServer!.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    let authSection = '';
    if (auth === 'basic') {
      const line = run('htpasswd', ['-Bbn', username, password]).trim();
      writeFileSync(join(dir, 'htpasswd'), `${line}\n`);
      authSection = `auth:\n  htpasswd:\n    realm: vigil-test\n    path: ${join(dir, 'htpasswd')}\n`;
    } else if (auth === 'token') {
      tokenServer = await startTokenServer(dir, username, password, options.tokenTtlSeconds ?? 300, stats);
      authSection =
        `auth:\n  token:\n    realm: ${tokenServer.realm}\n    service: ${SERVICE}\n    issuer: ${ISSUER}\n` +
        `    rootcertbundle: ${tokenServer.certPath}\n`;
    }
    const configPath = join(dir, 'config.yml');
    writeFileSync(
      configPath,
      `# Written by @vigil/testing startRegistry.
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${storageDir}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: ${host}
  secret: ${randomBytes(16).toString('hex')}
${authSection}`,
    );

    const stderr: string[] = [];
    // docker-registry takes every REGISTRY_* variable as a config override: keep the caller's out.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REGISTRY_')));
    child = spawn('docker-registry', ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const keep = (chunk: Buffer) => {
      stderr.push(chunk.toString());
      if (stderr.length > 200) stderr.shift();
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    const started = child;
    const killOnExit = () => started.kill('SIGKILL');
    process.once('exit', killOnExit);
    child.once('exit', () => process.removeListener('exit', killOnExit));

    const url = `http://${host}`;
    await waitForRegistry(url, started, options.startTimeoutMs ?? 20_000, stderr);

    const authorization = (scope: string): string | undefined => {
      if (auth === 'basic') return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      if (auth === 'token') return `Bearer ${tokenServer!.mint(username, scope)}`;
      return undefined;
    };

    let stopped: Promise<void> | undefined;
    return {
      url,
      host,
      auth,
      username,
      password,
      storageDir,
      ...(tokenServer ? { tokenRealm: tokenServer.realm } : {}),
      tokenStats: stats,
      push: (source, repoTag, pushOptions) =>
        skopeoPush(source, `${host}/${repoTag}`, auth, username, password, pushOptions?.all ?? false, dir),
      putManifest: async (repository, reference, body, mediaType) => {
        const headers: Record<string, string> = { 'content-type': mediaType };
        const value = authorization(`repository:${repository}:pull,push`);
        if (value) headers.authorization = value;
        const response = await fetch(`${url}/v2/${repository}/manifests/${reference}`, {
          method: 'PUT',
          headers,
          body: typeof body === 'string' ? body : new Uint8Array(body),
        });
        const text = await response.text();
        if (response.status !== 201)
          throw new Error(
            `putManifest ${repository}:${reference}: the registry answered ${response.status}: ${text}`,
          );
        return response.headers.get('docker-content-digest') ?? '';
      },
      blobPath: (digest) => {
        const [algorithm, hex = ''] = digest.split(':');
        return join(storageDir, 'docker/registry/v2/blobs', algorithm ?? '', hex.slice(0, 2), hex, 'data');
      },
      authorization,
      stop: () => (stopped ??= cleanup()),
    };
  } catch (err) {
    await cleanup().catch(() => undefined);
    throw err;
  }
}

// ------------------------------------------------------------------------------------------------------ helpers

function requireBinary(name: string, debianPackage: string): void {
  const found = (process.env.PATH ?? '')
    .split(delimiter)
    .some((d) => d && existsSync(join(d, name)) && statSync(join(d, name)).isFile());
  if (!found)
    throw new Error(
      `startRegistry: ${name} is not on PATH; install the Debian package: apt-get install -y ${debianPackage}`,
    );
}

function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error(
      `startRegistry: ${cmd} ${args[0] ?? ''} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`,
    );
  return r.stdout;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('startRegistry: no free port'))));
    });
  });
}

async function waitForRegistry(
  url: string,
  child: ChildProcess,
  timeoutMs: number,
  output: string[],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(
        `startRegistry: docker-registry exited (${child.exitCode ?? child.signalCode}) during start: ${output.join('').slice(-2000)}`,
      );
    try {
      const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(1_000) });
      await response.body?.cancel();
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline)
      throw new Error(
        `startRegistry: docker-registry did not answer ${url}/v2/ within ${timeoutMs} ms: ${output.join('').slice(-2000)}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function skopeoPush(
  source: string,
  destination: string,
  auth: RegistryAuth,
  username: string,
  password: string,
  all: boolean,
  scratch: string,
): Promise<void> {
  let src = source;
  if (!/^[a-z-]+:/.test(source)) {
    src = existsSync(source) && statSync(source).isDirectory() ? `oci:${source}` : `docker-archive:${source}`;
  }
  let unpacked: string | undefined;
  if (src.startsWith('docker-archive:')) {
    // skopeo 1.9 reads only plain tars; corpus archives are gzip-compressed `docker save` output.
    const rest = src.slice('docker-archive:'.length);
    // docker-archive:<path>[:<name:tag>]
    const file = existsSync(rest) ? rest : rest.replace(/:[^/]*$/, '');
    if (isGzip(file)) {
      const plain = join(scratch, `push-${randomBytes(6).toString('hex')}.tar`);
      await streamPipeline(createReadStream(file), createGunzip(), createWriteStream(plain));
      src = `docker-archive:${plain}${rest.slice(file.length)}`;
      unpacked = plain;
    }
  }
  const args = ['--insecure-policy', 'copy', '--quiet', '--dest-tls-verify=false', '--retry-times', '2'];
  if (auth !== 'none') args.push('--dest-creds', `${username}:${password}`);
  if (all) args.push('--all');
  args.push(src, `docker://${destination}`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`push ${source} → ${destination}: skopeo exited ${code}: ${stderr.trim()}`)),
    );
  }).finally(() => {
    if (unpacked) rmSync(unpacked, { force: true });
  });
}

function isGzip(file: string): boolean {
  if (!existsSync(file) || !statSync(file).isFile()) return false;
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(2);
    return readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    closeSync(fd);
  }
}

// ------------------------------------------------------------------------------------------------ token server

interface TokenServer {
  server: Server;
  realm: string;
  certPath: string;
  mint(subject: string, scope: string): string;
}

/**
 * The token service of the distribution token spec: GET /token?service=…&scope=… with basic auth gives a JWT
 * granting the scopes asked for; without auth a token granting nothing (the registry then refuses it, as a
 * private repository on Docker Hub does); with wrong credentials 401.
 */
async function startTokenServer(
  dir: string,
  username: string,
  password: string,
  ttlSeconds: number,
  stats: { issued: number; refused: number },
): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    '/CN=vigil-test-token-issuer',
  ]);
  const privateKey = createPrivateKey(readFileSync(keyPath));
  const kid = libtrustKeyId(createPublicKey(privateKey));

  const mintFor = (subject: string, scopes: string[]): string => {
    const now = Math.floor(Date.now() / 1000);
    const access = scopes.flatMap((scope) => {
      // "repository:name:pull,push"; repository names have no ':' but registry-qualified types might.
      const parts = scope.split(':');
      if (parts.length < 3) return [];
      const actions = parts.pop()!.split(',').filter(Boolean);
      const type = parts.shift()!;
      return [{ type, name: parts.join(':'), actions }];
    });
    return signJwt(privateKey, kid, {
      iss: ISSUER,
      sub: subject,
      aud: SERVICE,
      exp: now + ttlSeconds,
      nbf: now - 10,
      iat: now,
      jti: randomBytes(12).toString('hex'),
      access,
    });
  };

  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://token');
    if (url.pathname !== '/token') {
      res.writeHead(404).end();
      return;
    }
    const header = req.headers.authorization ?? '';
    let subject = '';
    if (header.startsWith('Basic ')) {
      const decoded = Buffer.from(header.slice(6), 'base64').toString();
      if (decoded !== `${username}:${password}`) {
        stats.refused++;
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': 'Basic realm="vigil-test-token"',
        });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      subject = username;
    }
    const scopes = subject ? url.searchParams.getAll('scope') : [];
    const token = mintFor(subject, scopes);
    stats.issued++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: ttlSeconds,
        issued_at: new Date().toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    server,
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    mint: (subject, scope) => mintFor(subject, [scope]),
  };
}

function signJwt(key: KeyObject, kid: string, claims: Record<string, unknown>): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${encode({ typ: 'JWT', alg: 'RS256', kid })}.${encode(claims)}`;
  const signature = sign('sha256', Buffer.from(signingInput), key).toString('base64url');
  return `${signingInput}.${signature}`;
}

/**
 * distribution finds the key that signed a token by its libtrust key id: the SHA-256 of the DER public key,
 * cut to 240 bits, base32, in twelve groups of four joined by ':'.
 */
function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out.match(/.{4}/g)!.join(':');
}
