// openRegistryImage and resolveDigest against a node:http server speaking the distribution API, for what a
// real registry will not do on demand: fail with 503 and 429, redirect blobs to another host, lie about
// digests, expire tokens. The real registry (docker-registry) is in registry.int.spec.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ImageError } from '../image/source.js';
import {
  MEDIA_TYPES,
  openRegistryImage,
  resolveDigest,
  type RegistryImageOptions,
} from './registry-image.js';
import { RegistryClient } from './registry-client.js';
import { parseReference } from './reference.js';

const sha256 = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Blob {
  body: Buffer;
  mediaType: string;
}

function buildImage(arch: string, variant?: string) {
  const tar = Buffer.from(`pretend tar of ${arch}`);
  const layer = gzipSync(tar);
  const config = Buffer.from(
    JSON.stringify({
      architecture: arch,
      os: 'linux',
      ...(variant ? { variant } : {}),
      config: { User: 'app' },
      rootfs: { type: 'layers', diff_ids: [sha256(tar)] },
      history: [
        { created_by: '/bin/sh -c #(nop) ENV X=1', empty_layer: true },
        { created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
      ],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: sha256(config),
        size: config.length,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: sha256(layer),
          size: layer.length,
        },
      ],
    }),
  );
  return { tar, layer, config, manifest, digest: sha256(manifest) };
}

interface FakeOptions {
  auth?: 'none' | 'basic' | 'bearer';
  username?: string;
  password?: string;
  /** Grant tokens to anonymous callers (a public repository). */
  anonymousPull?: boolean;
  tokenField?: 'token' | 'access_token';
  expiresIn?: number;
  /** Blob GETs answer 307 to this base URL. */
  redirectBlobsTo?: string;
  /** Status codes to answer, in order, before answering manifest GETs properly. */
  manifestFailures?: number[];
  /** Override the Docker-Content-Digest header of manifest responses. */
  announcedDigest?: string;
  /** Replace the body of a blob (by digest) with other bytes. */
  tamper?: Map<string, Buffer>;
}

class FakeRegistry {
  readonly manifests = new Map<string, Blob>();
  readonly blobs = new Map<string, Buffer>();
  readonly requests: { method: string; path: string; authorization?: string }[] = [];
  tokenRequests = 0;
  private readonly tokens = new Set<string>();
  private readonly server = createServer((req, res) => this.handle(req, res));
  url = '';
  host = '';

  constructor(private readonly options: FakeOptions = {}) {}

  async start(hostname = '127.0.0.1'): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, hostname, resolve));
    const { port } = this.server.address() as AddressInfo;
    this.host = `${hostname}:${port}`;
    this.url = `http://${this.host}`;
    return this;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  addImage(repo: string, tag: string, image: ReturnType<typeof buildImage>): void {
    this.manifests.set(`${repo}@${image.digest}`, {
      body: image.manifest,
      mediaType: MEDIA_TYPES.ociManifest,
    });
    this.manifests.set(`${repo}:${tag}`, { body: image.manifest, mediaType: MEDIA_TYPES.ociManifest });
    this.blobs.set(sha256(image.config), image.config);
    this.blobs.set(sha256(image.layer), image.layer);
  }

  addIndex(
    repo: string,
    tag: string,
    entries: { image: ReturnType<typeof buildImage>; platform: object }[],
  ): string {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: entries.map((e) => ({
          mediaType: MEDIA_TYPES.ociManifest,
          digest: e.image.digest,
          size: e.image.manifest.length,
          platform: e.platform,
        })),
      }),
    );
    for (const e of entries) this.addImage(repo, `${tag}-${e.image.digest.slice(7, 15)}`, e.image);
    this.manifests.set(`${repo}:${tag}`, { body: index, mediaType: MEDIA_TYPES.ociIndex });
    this.manifests.set(`${repo}@${sha256(index)}`, { body: index, mediaType: MEDIA_TYPES.ociIndex });
    return sha256(index);
  }

  private authorized(req: IncomingMessage, res: ServerResponse, repo: string): boolean {
    const header = req.headers.authorization;
    const { auth = 'none', username = 'u', password = 'p' } = this.options;
    if (auth === 'none') return true;
    if (auth === 'basic') {
      if (header === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`) return true;
      res.writeHead(401, { 'www-authenticate': 'Basic realm="fake"' }).end();
      return false;
    }
    if (header?.startsWith('Bearer ') && this.tokens.has(header.slice(7))) return true;
    const scope = repo ? `,scope="repository:${repo}:pull"` : '';
    res
      .writeHead(401, { 'www-authenticate': `Bearer realm="${this.url}/token",service="fake"${scope}` })
      .end();
    return false;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.url);
    this.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    if (url.pathname === '/token') return this.token(req, res, url);
    if (url.pathname === '/v2/') {
      if (this.authorized(req, res, '')) res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    const stored = /^\/storage\/([^/]+)$/.exec(url.pathname);
    if (stored) {
      const body = this.blobs.get(stored[1] ?? '');
      if (!body) return void res.writeHead(404).end();
      return void res.writeHead(200, { 'content-length': body.length }).end(body);
    }
    const m = /^\/v2\/(.+)\/(manifests|blobs)\/([^/]+)$/.exec(url.pathname);
    if (!m) return void res.writeHead(404).end();
    const [, repo = '', kind, ref = ''] = m;
    if (!this.authorized(req, res, repo)) return;
    if (kind === 'manifests') {
      const failure = this.options.manifestFailures?.shift();
      if (failure) {
        res.writeHead(failure, failure === 429 ? { 'retry-after': '0' } : {}).end();
        return;
      }
      const found = this.manifests.get(ref.includes(':') ? `${repo}@${ref}` : `${repo}:${ref}`);
      if (!found) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown' }] }));
        return;
      }
      res.writeHead(200, {
        'content-type': found.mediaType,
        'content-length': found.body.length,
        'docker-content-digest': this.options.announcedDigest ?? sha256(found.body),
      });
      res.end(req.method === 'HEAD' ? undefined : found.body);
      return;
    }
    const blob = this.options.tamper?.get(ref) ?? this.blobs.get(ref);
    if (!blob)
      return void res
        .writeHead(404, { 'content-type': 'application/json' })
        .end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    if (this.options.redirectBlobsTo && !url.searchParams.has('signed')) {
      res.writeHead(307, { location: `${this.options.redirectBlobsTo}/storage/${ref}?signed=1` }).end();
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.length })
      .end(blob);
  }

  private token(req: IncomingMessage, res: ServerResponse, url: URL): void {
    this.tokenRequests++;
    const { username = 'u', password = 'p' } = this.options;
    const header = req.headers.authorization;
    const good = header === `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    if ((header && !good) || (!header && !this.options.anonymousPull)) {
      res.writeHead(401).end('{"details":"no"}');
      return;
    }
    assert.equal(url.searchParams.get('service'), 'fake');
    const token = `tok-${this.tokenRequests}-${url.searchParams.get('scope')}`;
    this.tokens.add(token);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        [this.options.tokenField ?? 'token']: token,
        ...(this.options.expiresIn ? { expires_in: this.options.expiresIn } : {}),
      }),
    );
  }
}

async function drain(image: Awaited<ReturnType<typeof openRegistryImage>>, i = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of await image.layers[i]!.open()) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

const fast: RegistryImageOptions = { insecure: true, retryDelayMs: 5, timeoutMs: 5_000 };

describe('openRegistryImage against an anonymous registry', () => {
  const amd64 = buildImage('amd64');
  const arm64 = buildImage('arm64', 'v8');
  let reg: FakeRegistry;
  let indexDigest: string;
  before(async () => {
    reg = await new FakeRegistry().start();
    reg.addImage('team/app', '1.0', amd64);
    indexDigest = reg.addIndex('team/multi', 'latest', [
      { image: amd64, platform: { os: 'linux', architecture: 'amd64' } },
      { image: arm64, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ]);
  });
  after(() => reg.close());

  it('reads manifest, config and layers, and streams a verified layer', async () => {
    const image = await openRegistryImage(`${reg.host}/team/app:1.0`, fast);
    assert.equal(image.kind, 'registry');
    assert.equal(image.name, `${reg.host}/team/app:1.0`);
    assert.deepEqual(image.repoTags, [`${reg.host}/team/app:1.0`]);
    assert.equal(image.manifestDigest, amd64.digest);
    assert.equal(image.resolvedDigest, amd64.digest);
    assert.equal(image.configDigest, sha256(amd64.config));
    assert.equal(image.config.config?.User, 'app');
    assert.equal(image.layers.length, 1);
    assert.equal(image.layers[0]!.diffId, sha256(amd64.tar));
    assert.equal(image.layers[0]!.createdBy, 'ADD file:abc in / ');
    assert.equal(image.layers[0]!.mediaType, 'application/vnd.oci.image.layer.v1.tar+gzip');
    assert.deepEqual(await drain(image), amd64.layer);
    await image.close();
  });

  it('chooses linux/amd64 from an index by default, another platform when asked', async () => {
    const ref = `${reg.host}/team/multi`;
    const def = await openRegistryImage(ref, fast);
    assert.equal(def.manifestDigest, amd64.digest);
    assert.equal(def.indexDigest, indexDigest);
    assert.equal(def.resolvedDigest, indexDigest);
    const arm = await openRegistryImage(ref, { ...fast, platform: 'linux/arm64' });
    assert.equal(arm.manifestDigest, arm64.digest);
    assert.deepEqual(arm.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.deepEqual(await drain(arm), arm64.layer);
    await assert.rejects(
      openRegistryImage(ref, { ...fast, platform: 'linux/s390x' }),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message ===
          `${ref}: no image for platform linux/s390x in the image index; it has linux/amd64, linux/arm64/v8`,
    );
    await assert.rejects(openRegistryImage(ref, { ...fast, platform: 'linux' }), /expected os\/architecture/);
  });

  it('refuses a single-platform image for another requested platform', async () => {
    await assert.rejects(
      openRegistryImage(`${reg.host}/team/app:1.0`, { ...fast, platform: 'linux/arm64' }),
      /the image is for linux\/amd64, not the requested linux\/arm64/,
    );
  });

  it('opens by digest, and resolves a tag to its digest with HEAD', async () => {
    const byDigest = await openRegistryImage(`${reg.host}/team/app@${amd64.digest}`, fast);
    assert.deepEqual(byDigest.repoTags, []);
    assert.equal(byDigest.manifestDigest, amd64.digest);
    const before = reg.requests.length;
    const resolved = await resolveDigest(`${reg.host}/team/multi:latest`, fast);
    assert.equal(resolved.digest, indexDigest);
    assert.equal(resolved.mediaType, MEDIA_TYPES.ociIndex);
    assert.equal(resolved.pinned, `${reg.host}/team/multi:latest@${indexDigest}`);
    assert.deepEqual(
      reg.requests.slice(before).map((r) => `${r.method} ${r.path}`),
      ['GET /v2/', 'HEAD /v2/team/multi/manifests/latest'],
    );
  });

  it('says a missing tag or repository is not there', async () => {
    await assert.rejects(
      openRegistryImage(`${reg.host}/team/app:2.0`, fast),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message ===
          `${reg.host}/team/app:2.0: manifest unknown: tag "2.0" is not in repository team/app on registry ${reg.host} (MANIFEST_UNKNOWN: manifest unknown)`,
    );
    await assert.rejects(
      resolveDigest(`${reg.host}/team/nope:1`, fast),
      /manifest unknown: tag "1" is not in repository team\/nope/,
    );
  });

  it('names the registry when nothing listens', async () => {
    const closed = await new FakeRegistry().start();
    const host = closed.host;
    await closed.close();
    await assert.rejects(
      openRegistryImage(`${host}/a/b:1`, { ...fast, retries: 1 }),
      (err: unknown) =>
        err instanceof ImageError &&
        err.message.startsWith(`${host}/a/b:1: cannot reach registry ${host}`) &&
        /ECONNREFUSED/.test(err.message),
    );
  });
});

describe('digests are verified', () => {
  const image = buildImage('amd64');

  it('fails a layer stream whose bytes do not hash to its digest, at the end', async () => {
    const forged = Buffer.from(image.layer);
    forged[forged.length - 5]! ^= 0xff;
    const reg = await new FakeRegistry({ tamper: new Map([[sha256(image.layer), forged]]) }).start();
    try {
      reg.addImage('a/b', 'x', image);
      const opened = await openRegistryImage(`${reg.host}/a/b:x`, fast);
      await assert.rejects(
        drain(opened),
        (err: unknown) =>
          err instanceof ImageError &&
          err.message ===
            `${reg.host}/a/b:x: digest mismatch: layer 0 ${sha256(image.layer)} was received with content digest ${sha256(forged)}`,
      );
    } finally {
      await reg.close();
    }
  });

  it('fails a layer longer than its manifest says, and a tampered config at open', async () => {
    const reg = await new FakeRegistry({
      tamper: new Map([[sha256(image.layer), Buffer.concat([image.layer, Buffer.from('x')])]]),
    }).start();
    try {
      reg.addImage('a/b', 'x', image);
      await assert.rejects(
        drain(await openRegistryImage(`${reg.host}/a/b:x`, fast)),
        /is longer than the \d+ bytes its manifest says/,
      );
    } finally {
      await reg.close();
    }
    const cfg = Buffer.from(image.config.toString().replace('"app"', '"bob"'));
    const reg2 = await new FakeRegistry({ tamper: new Map([[sha256(image.config), cfg]]) }).start();
    try {
      reg2.addImage('a/b', 'x', image);
      await assert.rejects(
        openRegistryImage(`${reg2.host}/a/b:x`, fast),
        /digest mismatch: config sha256:[a-f0-9]{64} was received with content digest/,
      );
    } finally {
      await reg2.close();
    }
  });

  it('fails a manifest whose content does not match Docker-Content-Digest or the digest asked for', async () => {
    const wrong = sha256('not the manifest');
    const reg = await new FakeRegistry({ announcedDigest: wrong }).start();
    try {
      reg.addImage('a/b', 'x', image);
      await assert.rejects(
        openRegistryImage(`${reg.host}/a/b:x`, fast),
        new RegExp(
          `digest mismatch: registry ${reg.host} announced manifest ${wrong} \\(Docker-Content-Digest\\) but sent content with digest ${image.digest}`,
        ),
      );
      // Asked by digest, the registry serves other bytes under it.
      reg.manifests.set(`a/b@${wrong}`, { body: image.manifest, mediaType: MEDIA_TYPES.ociManifest });
      await assert.rejects(
        openRegistryImage(`${reg.host}/a/b@${wrong}`, fast),
        new RegExp(`digest mismatch: manifest ${wrong} was received with content digest ${image.digest}`),
      );
    } finally {
      await reg.close();
    }
  });

  it('refuses schema 1 manifests and manifests whose layers do not match the config', async () => {
    const reg = await new FakeRegistry().start();
    try {
      const v1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'a/b', fsLayers: [] }));
      reg.manifests.set('a/b:old', { body: v1, mediaType: MEDIA_TYPES.dockerSchema1Signed });
      await assert.rejects(
        openRegistryImage(`${reg.host}/a/b:old`, fast),
        /Docker schema 1, which is deprecated and not supported/,
      );
      const m = JSON.parse(image.manifest.toString()) as { layers: unknown[] };
      m.layers.push(m.layers[0]);
      reg.addImage('a/b', 'x', image);
      reg.manifests.set('a/b:two', {
        body: Buffer.from(JSON.stringify(m)),
        mediaType: MEDIA_TYPES.ociManifest,
      });
      await assert.rejects(
        openRegistryImage(`${reg.host}/a/b:two`, fast),
        /lists 2 layers but config sha256:[a-f0-9]+ has 1 diff_ids/,
      );
    } finally {
      await reg.close();
    }
  });
});

describe('authentication', () => {
  const image = buildImage('amd64');
  const creds = { username: 'u', password: 'p' };

  it('bearer: fetches one token per scope with basic credentials and reuses it (access_token field)', async () => {
    const reg = await new FakeRegistry({ auth: 'bearer', tokenField: 'access_token' }).start();
    try {
      reg.addImage('a/b', 'x', image);
      const client = new RegistryClient(reg.host, 'img', { insecure: true, credentials: creds });
      const opened = await openRegistryImage(`${reg.host}/a/b:x`, { ...fast, client });
      assert.deepEqual(await drain(opened), image.layer);
      await resolveDigest(`${reg.host}/a/b:x`, { ...fast, client });
      assert.equal(reg.tokenRequests, 1);
      assert.equal(client.tokenRequests, 1);
      const tokenCall = reg.requests.find((r) => r.path === '/token');
      assert.equal(tokenCall?.authorization, `Basic ${Buffer.from('u:p').toString('base64')}`);
    } finally {
      await reg.close();
    }
  });

  it('bearer: renews a token once it expires', async () => {
    // expires_in 6 s and the 5 s safety margin: the token is good for about one second.
    const reg = await new FakeRegistry({ auth: 'bearer', expiresIn: 6 }).start();
    try {
      reg.addImage('a/b', 'x', image);
      const client = new RegistryClient(reg.host, 'img', { insecure: true, credentials: creds });
      await resolveDigest(`${reg.host}/a/b:x`, { ...fast, client });
      await resolveDigest(`${reg.host}/a/b:x`, { ...fast, client });
      assert.equal(reg.tokenRequests, 1);
      await new Promise((r) => setTimeout(r, 1_200));
      await resolveDigest(`${reg.host}/a/b:x`, { ...fast, client });
      assert.equal(reg.tokenRequests, 2);
    } finally {
      await reg.close();
    }
  });

  it('bearer: anonymous tokens for a public repository; refused without or with wrong credentials', async () => {
    const pub = await new FakeRegistry({ auth: 'bearer', anonymousPull: true }).start();
    try {
      pub.addImage('library/alpine', '3', image);
      const opened = await openRegistryImage(`${pub.host}/library/alpine:3`, fast);
      assert.equal(opened.configDigest, sha256(image.config));
      assert.equal(pub.requests.find((r) => r.path === '/token')?.authorization, undefined);
    } finally {
      await pub.close();
    }
    const priv = await new FakeRegistry({ auth: 'bearer' }).start();
    try {
      priv.addImage('a/b', 'x', image);
      await assert.rejects(
        openRegistryImage(`${priv.host}/a/b:x`, fast),
        new RegExp(`authentication required for registry ${priv.host}: no credentials were given`),
      );
      await assert.rejects(
        openRegistryImage(`${priv.host}/a/b:x`, { ...fast, credentials: { username: 'u', password: 'bad' } }),
        (err: unknown) =>
          err instanceof ImageError &&
          err.message.startsWith(
            `${priv.host}/a/b:x: authentication failed for registry ${priv.host} as "u": the token service`,
          ),
      );
    } finally {
      await priv.close();
    }
  });

  it('basic: with credentials from a docker config; 401 without or with wrong ones', async () => {
    const reg = await new FakeRegistry({ auth: 'basic' }).start();
    try {
      reg.addImage('a/b', 'x', image);
      const dockerConfig = {
        auths: { [`http://${reg.host}`]: { auth: Buffer.from('u:p').toString('base64') } },
      };
      const opened = await openRegistryImage(`${reg.host}/a/b:x`, { ...fast, dockerConfig });
      assert.deepEqual(await drain(opened), image.layer);
      await assert.rejects(
        openRegistryImage(`${reg.host}/a/b:x`, fast),
        /authentication required for registry 127\.0\.0\.1:\d+/,
      );
      await assert.rejects(
        openRegistryImage(`${reg.host}/a/b:x`, { ...fast, credentials: { username: 'u', password: 'no' } }),
        /authentication failed for registry 127\.0\.0\.1:\d+ as "u": GET \/v2\/a\/b\/manifests\/x was refused with 401/,
      );
    } finally {
      await reg.close();
    }
  });
});

describe('transport', () => {
  const image = buildImage('amd64');

  it('follows blob redirects to another host without sending it the credentials', async () => {
    const storage = await new FakeRegistry().start('localhost');
    const reg = await new FakeRegistry({ auth: 'basic', redirectBlobsTo: storage.url }).start();
    try {
      reg.addImage('a/b', 'x', image);
      for (const [digest, body] of reg.blobs) storage.blobs.set(digest, body);
      const opened = await openRegistryImage(`${reg.host}/a/b:x`, {
        ...fast,
        credentials: { username: 'u', password: 'p' },
      });
      assert.deepEqual(await drain(opened), image.layer);
      const storageCalls = storage.requests.filter((r) => r.path.startsWith('/storage/'));
      assert.equal(storageCalls.length, 2, 'config and layer both came from storage');
      assert.ok(
        storageCalls.every((r) => r.authorization === undefined),
        'no Authorization to the storage host',
      );
    } finally {
      await reg.close();
      await storage.close();
    }
  });

  it('retries 503 and 429 with backoff, then gives up naming the status', async () => {
    const reg = await new FakeRegistry({ manifestFailures: [503, 429, 502] }).start();
    try {
      reg.addImage('a/b', 'x', image);
      const opened = await openRegistryImage(`${reg.host}/a/b:x`, fast);
      assert.equal(opened.manifestDigest, image.digest);
      assert.equal(reg.requests.filter((r) => r.path === '/v2/a/b/manifests/x').length, 4);
    } finally {
      await reg.close();
    }
    const down = await new FakeRegistry({ manifestFailures: [500, 500, 500] }).start();
    try {
      down.addImage('a/b', 'x', image);
      await assert.rejects(
        openRegistryImage(`${down.host}/a/b:x`, { ...fast, retries: 2 }),
        new RegExp(`registry ${down.host} answered 500 Internal Server Error for tag "x" of a/b`),
      );
    } finally {
      await down.close();
    }
  });
});

describe('a registry that stalls mid-layer', () => {
  it('errors the layer stream after the idle timeout, naming the layer', async () => {
    const image = buildImage('amd64');
    const reg = await new FakeRegistry().start();
    reg.addImage('a/b', 'x', image);
    const layerDigest = sha256(image.layer);
    // A second server in front: everything passes through, except that the layer sends half and then nothing.
    const front = createServer((req, res) => {
      if (req.url === `/v2/a/b/blobs/${layerDigest}`) {
        res.writeHead(200, { 'content-length': image.layer.length });
        res.write(image.layer.subarray(0, 10));
        return;
      }
      void fetch(`${reg.url}${req.url}`, { method: req.method ?? 'GET' }).then(async (r) => {
        res.writeHead(r.status, Object.fromEntries(r.headers));
        res.end(Buffer.from(await r.arrayBuffer()));
      });
    });
    await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
    const { port } = front.address() as AddressInfo;
    try {
      const opened = await openRegistryImage(`127.0.0.1:${port}/a/b:x`, { ...fast, timeoutMs: 300 });
      await assert.rejects(
        drain(opened),
        new RegExp(`layer 0 ${layerDigest}: no data from registry 127\\.0\\.0\\.1:${port} for 300 ms`),
      );
    } finally {
      front.closeAllConnections();
      front.close();
      await reg.close();
    }
  });
});

describe('the client answers on a host that is not a registry', () => {
  it('says /v2/ did not answer as the distribution API', async () => {
    const server = createServer((_req, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await assert.rejects(
        openRegistryImage(`127.0.0.1:${port}/a/b:x`, fast),
        /does not speak the distribution API: GET http:\/\/127\.0\.0\.1:\d+\/v2\/ answered 404/,
      );
    } finally {
      server.close();
    }
    assert.equal(parseReference('a/b').registry, 'docker.io');
  });
});
