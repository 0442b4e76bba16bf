// An image in a registry as an ImageSource: the manifest (through an image index for the wanted platform), the
// config and the layers, each checked against its digest. Manifests and the config are small and read whole;
// layers are streams checked as they flow, so a tampered layer fails at its last byte, before anyone trusts it.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { ImageError, type ImageConfig, type ImageSource, type LayerDescriptor } from '../image/source.js';
import { credentialsFromDockerConfig, type RegistryCredentials } from './credentials.js';
import { digestAlgorithm, digestOf, verifyingStream } from './digest.js';
import { DEFAULT_PLATFORM, parsePlatform, type Platform } from '../image/platform.js';
import {
  formatIndexPlatform as formatPlatform,
  platformMatches,
  selectPlatform,
  type PlatformDescriptor,
} from './platform.js';
import { familiarTag, parseReference, type ImageReference } from './reference.js';
import { RegistryClient, type FetchLike } from './registry-client.js';

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
} as const;

const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerList,
  MEDIA_TYPES.dockerManifest,
].join(', ');

/** distribution refuses manifests over 4 MiB; anything bigger is not a manifest. */
const MANIFEST_LIMIT = 4 * 1024 * 1024;
/** Configs with long histories run to a few hundred KiB; this bound only stops a runaway response. */
const CONFIG_LIMIT = 32 * 1024 * 1024;

export interface RegistryImageOptions {
  /** "os/arch[/variant]" or a Platform; chooses from image indexes. Default linux/amd64. */
  platform?: string | Platform;
  /** Username and password for the registry (basic auth, or for its token service). */
  credentials?: RegistryCredentials;
  /** A docker config.json / .dockerconfigjson / imagePullSecret to take the credentials from when none are given. */
  dockerConfig?: string | Buffer | object;
  /** Plain http (a local or test registry). */
  insecure?: boolean;
  fetch?: FetchLike;
  /** Per request: how long to wait for response headers, and for a layer stream's next bytes. Default 30 s. */
  timeoutMs?: number;
  /** Retries after 429, 5xx and network errors; default 3. */
  retries?: number;
  retryDelayMs?: number;
  /** Reuse one client (and its tokens) across calls for the same registry. */
  client?: RegistryClient;
}

export interface RegistryImageSource extends ImageSource {
  kind: 'registry';
  reference: ImageReference;
  /** The digest the reference resolved to: the index's when the image is multi-platform, else the manifest's. */
  resolvedDigest: string;
  /** The digest of the image index the manifest was chosen from, when there was one. */
  indexDigest?: string;
  /** The platform of the image read (from its config). */
  platform: Platform;
}

export interface ResolvedDigest {
  reference: ImageReference;
  /** What the tag points at now (an index or a manifest). */
  digest: string;
  mediaType?: string;
  size?: number;
  /** "registry/repository[:tag]@digest", a reference that keeps naming the same image. */
  pinned: string;
}

interface Manifest {
  digest: string;
  mediaType: string;
  json: Record<string, unknown>;
}

interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  urls?: string[];
}

/** Opens an image in a registry. Errors (ImageError) start with `ref` and name the registry and the problem. */
export async function openRegistryImage(
  ref: string,
  options: RegistryImageOptions = {},
): Promise<RegistryImageSource> {
  const reference = parseReference(ref);
  const client = clientOf(reference, ref, options);
  const explicitPlatform = options.platform !== undefined;
  const wanted = wantedPlatform(options.platform, ref);
  const scope = `repository:${reference.repository}:pull`;
  const repoPath = `/v2/${reference.repository}`;

  const top = await fetchManifest(client, reference, reference.digest ?? reference.tag ?? 'latest', ref);
  let manifest = top;
  let indexDigest: string | undefined;
  if (isIndex(top)) {
    indexDigest = top.digest;
    const manifests = top.json.manifests;
    if (!Array.isArray(manifests))
      throw new ImageError(ref, `image index ${top.digest} has no "manifests" list`);
    const chosen = selectPlatform(manifests as PlatformDescriptor[], wanted, ref);
    if (typeof chosen.digest !== 'string')
      throw new ImageError(ref, `image index ${top.digest} lists a manifest without a digest`);
    manifest = await fetchManifest(client, reference, chosen.digest, ref);
    if (isIndex(manifest))
      throw new ImageError(
        ref,
        `image index ${top.digest} points at another index (${manifest.digest}) for ${formatPlatform(wanted)}`,
      );
  }

  const configDescriptor = descriptorOf(manifest.json.config, ref, `manifest ${manifest.digest} config`);
  const rawLayers = manifest.json.layers;
  if (!Array.isArray(rawLayers))
    throw new ImageError(ref, `manifest ${manifest.digest} has no "layers" list`);
  const layerDescriptors = rawLayers.map((l, i) =>
    descriptorOf(l, ref, `manifest ${manifest.digest} layer ${i}`),
  );

  const configBytes = await fetchBlobBytes(client, repoPath, scope, configDescriptor, ref, 'config');
  let config: ImageConfig;
  try {
    config = JSON.parse(configBytes.toString('utf8')) as ImageConfig;
  } catch (err) {
    throw new ImageError(ref, `config ${configDescriptor.digest} is not JSON (${(err as Error).message})`);
  }
  if (config === null || typeof config !== 'object')
    throw new ImageError(ref, `config ${configDescriptor.digest} is not a JSON object`);
  const platform: Platform = {
    os: config.os ?? 'unknown',
    architecture: config.architecture ?? 'unknown',
    ...(config.variant ? { variant: config.variant } : {}),
  };
  if (!indexDigest && explicitPlatform && !platformMatches(wanted, platform))
    throw new ImageError(
      ref,
      `the image is for ${formatPlatform(platform)}, not the requested ${formatPlatform(wanted)}`,
    );

  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== layerDescriptors.length)
    throw new ImageError(
      ref,
      `manifest ${manifest.digest} lists ${layerDescriptors.length} layers but config ${configDescriptor.digest} has ${diffIds.length} diff_ids`,
    );
  const createdBy = (config.history ?? []).filter((h) => !h.empty_layer).map((h) => h.created_by);
  const timeoutMs = options.timeoutMs ?? 30_000;

  const layers: LayerDescriptor[] = layerDescriptors.map((d, i) => ({
    digest: d.digest,
    mediaType: d.mediaType ?? '',
    size: d.size,
    diffId: diffIds[i]!,
    ...(createdBy[i] !== undefined ? { createdBy: stripNop(createdBy[i]) } : {}),
    open: () => openBlobStream(client, repoPath, scope, d, ref, `layer ${i}`, timeoutMs),
  }));

  const tag = familiarTag(reference);
  return {
    name: ref,
    kind: 'registry',
    repoTags: tag ? [tag] : [],
    manifestDigest: manifest.digest,
    configDigest: configDescriptor.digest,
    config,
    layers,
    reference,
    resolvedDigest: top.digest,
    ...(indexDigest ? { indexDigest } : {}),
    platform,
    close: async () => undefined,
  };
}

/**
 * The digest a reference points at now (HEAD on the manifest, Docker-Content-Digest), for pinning a tag the way
 * a kubelet pulling it would get it. A reference that already pins a digest is checked to exist.
 */
export async function resolveDigest(
  ref: string,
  options: RegistryImageOptions = {},
): Promise<ResolvedDigest> {
  const reference = parseReference(ref);
  const client = clientOf(reference, ref, options);
  const target = reference.digest ?? reference.tag ?? 'latest';
  const response = await client.request(`/v2/${reference.repository}/manifests/${target}`, {
    method: 'HEAD',
    accept: MANIFEST_ACCEPT,
    scope: `repository:${reference.repository}:pull`,
  });
  await response.body?.cancel();
  if (!response.ok) throw await manifestError(response, reference, target, ref);
  let digest = response.headers.get('docker-content-digest') ?? undefined;
  let mediaType = contentType(response);
  const length = Number(response.headers.get('content-length'));
  let size = Number.isFinite(length) && length > 0 ? length : undefined;
  if (!digest) {
    // Not every registry answers HEAD with the digest: hash the manifest itself.
    const m = await fetchManifest(client, reference, target, ref);
    digest = m.digest;
    mediaType = m.mediaType;
    size = undefined;
  } else {
    digestAlgorithm(digest, ref);
    if (reference.digest && digest !== reference.digest)
      throw new ImageError(
        ref,
        `registry ${reference.registry} answered for ${reference.digest} with digest ${digest}`,
      );
  }
  const name = `${reference.registry}/${reference.repository}`;
  return {
    reference,
    digest,
    ...(mediaType ? { mediaType } : {}),
    ...(size !== undefined ? { size } : {}),
    pinned: `${name}${reference.tag ? `:${reference.tag}` : ''}@${digest}`,
  };
}

function clientOf(reference: ImageReference, image: string, options: RegistryImageOptions): RegistryClient {
  if (!options.client) return clientFor(reference, image, options);
  if (options.client.registry !== reference.registry)
    throw new ImageError(
      image,
      `the registry client given is for ${options.client.registry}, not for ${reference.registry}`,
    );
  return options.client;
}

/** A client for the reference's registry with credentials from the options or their docker config. */
export function clientFor(
  reference: ImageReference,
  image: string,
  options: RegistryImageOptions,
): RegistryClient {
  const credentials =
    options.credentials ??
    (options.dockerConfig !== undefined
      ? credentialsFromDockerConfig(options.dockerConfig, reference.registry)
      : undefined);
  return new RegistryClient(reference.registry, image, {
    ...(credentials ? { credentials } : {}),
    ...(options.insecure !== undefined ? { insecure: options.insecure } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.retries !== undefined ? { retries: options.retries } : {}),
    ...(options.retryDelayMs !== undefined ? { retryDelayMs: options.retryDelayMs } : {}),
  });
}

function wantedPlatform(platform: string | Platform | undefined, image: string): Platform {
  if (platform === undefined) return DEFAULT_PLATFORM;
  if (typeof platform !== 'string') return platform;
  try {
    return parsePlatform(platform);
  } catch (err) {
    throw new ImageError(image, (err as Error).message);
  }
}

async function fetchManifest(
  client: RegistryClient,
  reference: ImageReference,
  target: string,
  image: string,
): Promise<Manifest> {
  const response = await client.request(`/v2/${reference.repository}/manifests/${target}`, {
    accept: MANIFEST_ACCEPT,
    scope: `repository:${reference.repository}:pull`,
  });
  if (!response.ok) throw await manifestError(response, reference, target, image);
  const bytes = await readLimited(response, MANIFEST_LIMIT, image, `manifest ${target}`);

  const pinned = target.includes(':') ? target : undefined;
  const announced = response.headers.get('docker-content-digest') ?? undefined;
  const expected = pinned ?? announced;
  const digest = digestOf(bytes, expected ? digestAlgorithm(expected, image) : 'sha256');
  if (pinned && digest !== pinned)
    throw new ImageError(
      image,
      `digest mismatch: manifest ${pinned} was received with content digest ${digest}`,
    );
  if (!pinned && announced && digest !== announced)
    throw new ImageError(
      image,
      `digest mismatch: registry ${reference.registry} announced manifest ${announced} (Docker-Content-Digest) but sent content with digest ${digest}`,
    );

  let json: Record<string, unknown>;
  try {
    json = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new ImageError(image, `manifest ${digest} is not JSON (${(err as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ImageError(image, `manifest ${digest} is not a JSON object`);
  const mediaType =
    (typeof json.mediaType === 'string' ? json.mediaType : undefined) ??
    contentType(response) ??
    (Array.isArray(json.manifests) ? MEDIA_TYPES.ociIndex : MEDIA_TYPES.ociManifest);
  if (
    mediaType === MEDIA_TYPES.dockerSchema1 ||
    mediaType === MEDIA_TYPES.dockerSchema1Signed ||
    json.schemaVersion === 1
  )
    throw new ImageError(
      image,
      `manifest ${digest} is Docker schema 1, which is deprecated and not supported; push the image again with a current client`,
    );
  if (
    ![
      MEDIA_TYPES.ociIndex,
      MEDIA_TYPES.ociManifest,
      MEDIA_TYPES.dockerList,
      MEDIA_TYPES.dockerManifest,
    ].includes(mediaType as never)
  )
    throw new ImageError(
      image,
      `manifest ${digest} has media type ${JSON.stringify(mediaType)}, which is not an image manifest or index`,
    );
  return { digest, mediaType, json };
}

function isIndex(m: Manifest): boolean {
  return m.mediaType === MEDIA_TYPES.ociIndex || m.mediaType === MEDIA_TYPES.dockerList;
}

function descriptorOf(value: unknown, image: string, what: string): Descriptor {
  const d = value as Partial<Descriptor> | null;
  if (!d || typeof d !== 'object' || typeof d.digest !== 'string')
    throw new ImageError(image, `${what} has no digest`);
  digestAlgorithm(d.digest, image);
  if (typeof d.size !== 'number' || !Number.isSafeInteger(d.size) || d.size < 0)
    throw new ImageError(image, `${what} (${d.digest}) has no valid size`);
  return d as Descriptor;
}

async function fetchBlobBytes(
  client: RegistryClient,
  repoPath: string,
  scope: string,
  d: Descriptor,
  image: string,
  what: string,
): Promise<Buffer> {
  if (d.size > CONFIG_LIMIT)
    throw new ImageError(
      image,
      `${what} ${d.digest} is ${d.size} bytes, more than the ${CONFIG_LIMIT} allowed`,
    );
  const response = await client.request(`${repoPath}/blobs/${d.digest}`, { scope });
  if (!response.ok) throw await blobError(response, client.registry, d.digest, image, what);
  const bytes = await readLimited(response, d.size, image, `${what} ${d.digest}`);
  if (bytes.length !== d.size)
    throw new ImageError(
      image,
      `${what} ${d.digest} is ${bytes.length} bytes, not the ${d.size} its manifest says`,
    );
  const got = digestOf(bytes, digestAlgorithm(d.digest, image));
  if (got !== d.digest)
    throw new ImageError(
      image,
      `digest mismatch: ${what} ${d.digest} was received with content digest ${got}`,
    );
  return bytes;
}

async function openBlobStream(
  client: RegistryClient,
  repoPath: string,
  scope: string,
  d: Descriptor,
  image: string,
  what: string,
  idleMs: number,
): Promise<Readable> {
  const controller = new AbortController();
  const response = await client.request(`${repoPath}/blobs/${d.digest}`, {
    scope,
    signal: controller.signal,
  });
  if (!response.ok) throw await blobError(response, client.registry, d.digest, image, what);
  if (!response.body) throw new ImageError(image, `${what} ${d.digest}: the registry sent no body`);
  const body = Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
  const verify = verifyingStream(d.digest, d.size, image, what);
  // A stalled download would hang the scan forever: give up when no bytes come for idleMs. A consumer that is
  // slow to read (backpressure) is not a stalled registry, so the clock restarts while data waits in the stream.
  let idle: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (verify.writableNeedDrain || verify.readableLength > 0 || body.readableLength > 0) {
        arm();
        return;
      }
      const err = new ImageError(
        image,
        `${what} ${d.digest}: no data from registry ${client.registry} for ${idleMs} ms`,
      );
      controller.abort(err);
      verify.destroy(err);
    }, idleMs);
  };
  arm();
  body.on('data', arm);
  pipeline(body, verify, (err) => {
    clearTimeout(idle);
    if (err && !verify.destroyed) verify.destroy(asImageError(err, image, what, d.digest, client.registry));
  });
  verify.on('close', () => clearTimeout(idle));
  return verify;
}

function asImageError(err: Error, image: string, what: string, digest: string, registry: string): ImageError {
  if (err instanceof ImageError) return err;
  return new ImageError(
    image,
    `${what} ${digest}: the download from registry ${registry} broke off (${err.message})`,
  );
}

async function readLimited(response: Response, limit: number, image: string, what: string): Promise<Buffer> {
  const length = Number(response.headers.get('content-length'));
  if (Number.isFinite(length) && length > limit) {
    await response.body?.cancel();
    throw new ImageError(image, `${what} is ${length} bytes, more than the ${limit} expected`);
  }
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) {
      await response.body.cancel().catch(() => undefined);
      throw new ImageError(image, `${what} is longer than the ${limit} bytes expected`);
    }
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

function contentType(response: Response): string | undefined {
  const header = response.headers.get('content-type');
  return header ? header.split(';')[0]!.trim() || undefined : undefined;
}

/** The distribution API's error body: {"errors":[{"code":"MANIFEST_UNKNOWN","message":"…"}]}. */
async function errorCode(response: Response): Promise<string | undefined> {
  try {
    const text = await response.text();
    const body = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    const first = body.errors?.[0];
    return first?.code ? `${first.code}${first.message ? `: ${first.message}` : ''}` : undefined;
  } catch {
    return undefined;
  }
}

async function manifestError(
  response: Response,
  reference: ImageReference,
  target: string,
  image: string,
): Promise<ImageError> {
  const code = response.status === 404 || response.status === 403 ? await errorCode(response) : undefined;
  const where = `repository ${reference.repository} on registry ${reference.registry}`;
  const what = target.includes(':') ? `manifest ${target}` : `tag ${JSON.stringify(target)}`;
  if (response.status === 404)
    return new ImageError(image, `manifest unknown: ${what} is not in ${where}${code ? ` (${code})` : ''}`);
  if (response.status === 403)
    return new ImageError(image, `access denied to ${where}${code ? ` (${code})` : ''}`);
  await response.body?.cancel().catch(() => undefined);
  return new ImageError(
    image,
    `registry ${reference.registry} answered ${response.status} ${response.statusText} for ${what} of ${reference.repository}`,
  );
}

async function blobError(
  response: Response,
  registry: string,
  digest: string,
  image: string,
  what: string,
): Promise<ImageError> {
  const code = response.status === 404 ? await errorCode(response) : undefined;
  if (response.status === 404)
    return new ImageError(
      image,
      `blob unknown: ${what} ${digest} is not on registry ${registry}${code ? ` (${code})` : ''}`,
    );
  await response.body?.cancel().catch(() => undefined);
  return new ImageError(
    image,
    `registry ${registry} answered ${response.status} ${response.statusText} for ${what} ${digest}`,
  );
}

function stripNop(createdBy: string | undefined): string | undefined {
  return createdBy?.replace(/^\/bin\/sh -c #\(nop\)\s*/, '');
}
