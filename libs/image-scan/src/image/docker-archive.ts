// `docker save` output: manifest.json names each image's config and layer files. Old saves store layers as
// `<id>/layer.tar` (always uncompressed) and configs as `<hex>.json`; Docker 25+ stores both as OCI blobs
// (`blobs/sha256/<hex>`, layers possibly compressed).
import { createHash } from 'node:crypto';
import type { BlobStore } from './blob-store.js';
import { isObject, layerCreatedBy, parseConfig, parseJson, sha256 } from './config.js';
import { sniffCompression } from './compression.js';
import { formatPlatform, platformMatches, type Platform } from './platform.js';
import { ImageError, type ImageSource, type LayerDescriptor } from './source.js';

interface ManifestEntry {
  Config: string;
  RepoTags: string[];
  Layers: string[];
}

function parseManifest(image: string, bytes: Uint8Array): ManifestEntry[] {
  const doc = parseJson(image, 'manifest.json', bytes);
  if (!Array.isArray(doc) || doc.length === 0) throw new ImageError(image, 'manifest.json lists no image');
  return doc.map((e, i) => {
    if (
      !isObject(e) ||
      typeof e.Config !== 'string' ||
      !Array.isArray(e.Layers) ||
      !e.Layers.every((l) => typeof l === 'string')
    ) {
      throw new ImageError(image, `manifest.json entry ${i} has no Config or Layers`);
    }
    const tags = Array.isArray(e.RepoTags)
      ? e.RepoTags.filter((t): t is string => typeof t === 'string')
      : [];
    return { Config: e.Config, RepoTags: tags, Layers: e.Layers as string[] };
  });
}

function pick(image: string, entries: ManifestEntry[], tag: string | undefined): ManifestEntry {
  if (tag !== undefined) {
    const hit = entries.find((e) =>
      e.RepoTags.some((t) => t === tag || t.endsWith(`/${tag}`) || t.split(':').pop() === tag),
    );
    if (!hit) {
      const known = entries.flatMap((e) => e.RepoTags).join(', ') || 'none';
      throw new ImageError(image, `no image tagged ${JSON.stringify(tag)} in the archive (tags: ${known})`);
    }
    return hit;
  }
  if (entries.length > 1) {
    const known = entries.map((e) => e.RepoTags[0] ?? e.Config).join(', ');
    throw new ImageError(
      image,
      `the archive holds ${entries.length} images (${known}); name one as <path>:<tag>`,
    );
  }
  return entries[0]!;
}

/** The sha256 a member's name declares (`blobs/sha256/<hex>`, `<hex>.json`), if it declares one. */
function declaredDigest(path: string): string | undefined {
  const m = /(?:^|\/)(?:sha256\/)?([0-9a-f]{64})(?:\.json)?$/.exec(path);
  return m && (path.includes('blobs/sha256/') || path.endsWith('.json')) ? `sha256:${m[1]}` : undefined;
}

async function hashMember(store: BlobStore, path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of await store.stream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

export interface DockerReadOptions {
  tag?: string;
  /**
   * The platform asked for (`--platform`): the image's config must say it, as an OCI layout's must. Unset: the
   * image is read whatever its platform (a docker save archive holds one image per tag).
   */
  platform?: Platform;
}

export async function readDockerArchive(
  store: BlobStore,
  options: DockerReadOptions = {},
): Promise<ImageSource> {
  const { tag, platform } = options;
  const image = store.image;
  const entry = pick(image, parseManifest(image, await store.read('manifest.json')), tag);
  const configBytes = await store.read(entry.Config);
  const configDigest = sha256(configBytes);
  const declared = declaredDigest(entry.Config);
  if (declared && declared !== configDigest) {
    throw new ImageError(
      image,
      `digest mismatch for config ${entry.Config}: expected ${declared}, got ${configDigest}`,
    );
  }
  const config = parseConfig(image, configBytes, `config ${entry.Config}`);
  if (platform) {
    const have: Partial<Platform> = {
      os: config.os,
      architecture: config.architecture,
      variant: config.variant,
    };
    if (!platformMatches(platform, have)) {
      const seen = formatPlatform({
        os: have.os ?? '?',
        architecture: have.architecture ?? '?',
        variant: have.variant,
      });
      throw new ImageError(image, `no image for platform ${formatPlatform(platform)} (available: ${seen})`);
    }
  }
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== entry.Layers.length) {
    throw new ImageError(
      image,
      `manifest.json lists ${entry.Layers.length} layers but the config has ${diffIds.length} diff_ids`,
    );
  }
  const createdBy = layerCreatedBy(config, entry.Layers.length);
  const layers: LayerDescriptor[] = [];
  for (const [i, path] of entry.Layers.entries()) {
    const size = await store.size(path);
    const diffId = diffIds[i]!;
    let digest = declaredDigest(path);
    let mediaType = 'application/vnd.docker.image.rootfs.diff.tar';
    if (!digest) {
      // Legacy saves do not say the stored digest: an uncompressed layer is its own diff; a compressed one is hashed.
      const head = await readHead(store, path);
      const kind = sniffCompression(head);
      digest = kind === 'none' ? diffId : await hashMember(store, path);
      if (kind === 'gzip') mediaType = 'application/vnd.docker.image.rootfs.diff.tar.gzip';
      if (kind === 'zstd') mediaType = 'application/vnd.docker.image.rootfs.diff.tar.zstd';
    }
    layers.push({
      digest,
      mediaType,
      size,
      diffId,
      ...(createdBy[i] !== undefined ? { createdBy: createdBy[i] } : {}),
      open: () => store.stream(path),
    });
  }
  return {
    name: image,
    kind: 'docker-archive',
    repoTags: entry.RepoTags,
    configDigest,
    config,
    layers,
    close: () => store.close(),
  };
}

async function readHead(store: BlobStore, path: string): Promise<Buffer> {
  const stream = await store.stream(path);
  const parts: Buffer[] = [];
  let have = 0;
  for await (const chunk of stream) {
    parts.push(chunk as Buffer);
    have += (chunk as Buffer).length;
    if (have >= 4) break;
  }
  stream.destroy();
  return Buffer.concat(parts);
}
