// OCI image layout (a directory, or the same in a tar: oci-archive): index.json → (nested indexes) → manifest →
// config and layers, every blob addressed and verified by digest. An image is chosen by its ref.name annotation
// (the `path:tag` the user wrote) and by platform.
import type { BlobStore } from './blob-store.js';
import { isDigest, isObject, layerCreatedBy, parseConfig, parseJson, verifyDigest } from './config.js';
import { DEFAULT_PLATFORM, type Platform, formatPlatform, platformMatches } from './platform.js';
import { type ImageConfig, ImageError, type ImageSource, type LayerDescriptor } from './source.js';

const INDEX_TYPES = new Set([
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
]);
const MANIFEST_TYPES = new Set([
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
]);
const REF_NAME = 'org.opencontainers.image.ref.name';
const CONTAINERD_NAME = 'io.containerd.image.name';
const MAX_INDEX_DEPTH = 8;

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size: number;
  platform?: Partial<Platform>;
  annotations?: Record<string, string>;
}

export interface OciReadOptions {
  tag?: string;
  platform?: Platform;
}

function descriptor(image: string, value: unknown, where: string): Descriptor {
  if (!isObject(value) || !isDigest(value.digest) || typeof value.size !== 'number' || value.size < 0) {
    throw new ImageError(image, `${where} is not a valid descriptor (sha256 digest and size required)`);
  }
  return value as unknown as Descriptor;
}

export function blobPath(image: string, digest: string): string {
  if (!isDigest(digest))
    throw new ImageError(image, `unsupported or malformed digest ${JSON.stringify(digest)}`);
  return `blobs/sha256/${digest.slice('sha256:'.length)}`;
}

async function readBlob(store: BlobStore, d: Descriptor, what: string): Promise<Buffer> {
  const path = blobPath(store.image, d.digest);
  if (!(await store.has(path))) throw new ImageError(store.image, `missing blob ${d.digest} (${what})`);
  const bytes = await store.read(path);
  verifyDigest(store.image, `${what} ${path}`, bytes, d.digest);
  if (bytes.length !== d.size) {
    throw new ImageError(
      store.image,
      `size mismatch for ${what} ${d.digest}: expected ${d.size}, got ${bytes.length}`,
    );
  }
  return bytes;
}

interface Candidate {
  manifest: Descriptor;
  names: string[];
}

function namesOf(d: Descriptor): string[] {
  const a = d.annotations ?? {};
  return [a[CONTAINERD_NAME], a[REF_NAME]].filter((n): n is string => typeof n === 'string' && n !== '');
}

/** The reference an image is known by: containerd's full name when written, else the ref.name (often a tag). */
function repoTagsOf(names: string[]): string[] {
  return names.slice(0, 1);
}

function tagMatches(d: Descriptor, tag: string): boolean {
  return namesOf(d).some((n) => n === tag || n.endsWith(`:${tag}`));
}

function isAttestation(d: Descriptor): boolean {
  return d.platform?.os === 'unknown' || d.annotations?.['vnd.docker.reference.type'] !== undefined;
}

async function collect(
  store: BlobStore,
  list: Descriptor[],
  names: string[],
  depth: number,
  out: Candidate[],
): Promise<void> {
  if (depth > MAX_INDEX_DEPTH)
    throw new ImageError(store.image, `image indexes nest deeper than ${MAX_INDEX_DEPTH}`);
  for (const d of list) {
    if (isAttestation(d)) continue;
    const here = namesOf(d).length ? namesOf(d) : names;
    let type = d.mediaType;
    let bytes: Buffer | undefined;
    if (type === undefined) {
      bytes = await readBlob(store, d, 'manifest');
      const doc = parseJson(store.image, `blob ${d.digest}`, bytes);
      type = isObject(doc) && Array.isArray(doc.manifests) ? [...INDEX_TYPES][0] : [...MANIFEST_TYPES][0];
    }
    if (type && INDEX_TYPES.has(type)) {
      bytes ??= await readBlob(store, d, 'image index');
      const nested = parseJson(store.image, `image index ${d.digest}`, bytes);
      if (!isObject(nested) || !Array.isArray(nested.manifests)) {
        throw new ImageError(store.image, `image index ${d.digest} has no manifests list`);
      }
      const children = nested.manifests.map((m, i) =>
        descriptor(store.image, m, `image index ${d.digest} entry ${i}`),
      );
      await collect(store, children, here, depth + 1, out);
    } else if (type && MANIFEST_TYPES.has(type)) {
      if (!out.some((c) => c.manifest.digest === d.digest)) out.push({ manifest: d, names: here });
    }
  }
}

interface Manifest {
  config: Descriptor;
  layers: Descriptor[];
}

async function loadManifest(store: BlobStore, d: Descriptor): Promise<Manifest> {
  const doc = parseJson(store.image, `manifest ${d.digest}`, await readBlob(store, d, 'manifest'));
  if (!isObject(doc) || !Array.isArray(doc.layers)) {
    throw new ImageError(store.image, `manifest ${d.digest} has no layers list`);
  }
  return {
    config: descriptor(store.image, doc.config, `manifest ${d.digest} config`),
    layers: doc.layers.map((l, i) => descriptor(store.image, l, `manifest ${d.digest} layer ${i}`)),
  };
}

async function loadConfig(store: BlobStore, d: Descriptor): Promise<ImageConfig> {
  return parseConfig(store.image, await readBlob(store, d, 'config'), `config ${d.digest}`);
}

export async function readOciLayout(
  store: BlobStore,
  kind: 'oci-layout' | 'oci-archive',
  options: OciReadOptions = {},
): Promise<ImageSource> {
  const image = store.image;
  if (!(await store.has('oci-layout')))
    throw new ImageError(image, 'not an OCI image layout (no oci-layout file)');
  const layout = parseJson(image, 'oci-layout', await store.read('oci-layout'));
  if (!isObject(layout) || typeof layout.imageLayoutVersion !== 'string') {
    throw new ImageError(image, 'oci-layout has no imageLayoutVersion');
  }
  if (!(await store.has('index.json'))) throw new ImageError(image, 'missing index.json');
  const index = parseJson(image, 'index.json', await store.read('index.json'));
  if (!isObject(index) || !Array.isArray(index.manifests))
    throw new ImageError(image, 'index.json has no manifests list');
  let top = index.manifests.map((m, i) => descriptor(image, m, `index.json entry ${i}`));
  if (options.tag !== undefined) {
    const tag = options.tag;
    const named = top.filter((d) => tagMatches(d, tag));
    if (named.length === 0) {
      const known = top.flatMap(namesOf).join(', ') || 'none';
      throw new ImageError(image, `no image named ${JSON.stringify(tag)} in index.json (names: ${known})`);
    }
    top = named;
  }
  const candidates: Candidate[] = [];
  await collect(store, top, [], 0, candidates);
  if (candidates.length === 0) throw new ImageError(image, 'index.json references no image manifest');

  const want = options.platform ?? DEFAULT_PLATFORM;
  let chosen: { candidate: Candidate; manifest: Manifest; config: ImageConfig } | undefined;
  const seen: string[] = [];
  const matching: { candidate: Candidate; manifest: Manifest; config: ImageConfig }[] = [];
  for (const candidate of candidates) {
    const manifest = await loadManifest(store, candidate.manifest);
    // The descriptor's platform is a hint; the config says what the image really is.
    const config = await loadConfig(store, manifest.config);
    const have: Partial<Platform> = {
      os: config.os ?? candidate.manifest.platform?.os,
      architecture: config.architecture ?? candidate.manifest.platform?.architecture,
      variant: config.variant ?? candidate.manifest.platform?.variant,
    };
    seen.push(
      formatPlatform({ os: have.os ?? '?', architecture: have.architecture ?? '?', variant: have.variant }),
    );
    if (platformMatches(want, have)) matching.push({ candidate, manifest, config });
    else if (candidates.length === 1 && options.platform === undefined)
      chosen = { candidate, manifest, config };
  }
  if (matching.length > 1) {
    throw new ImageError(
      image,
      `${matching.length} images match platform ${formatPlatform(want)}; name one as <path>:<ref.name>`,
    );
  }
  // One single-platform image is scanned whatever its platform, unless the user asked for another.
  chosen = matching[0] ?? chosen;
  if (!chosen) {
    throw new ImageError(
      image,
      `no image for platform ${formatPlatform(want)} (available: ${seen.join(', ')})`,
    );
  }
  const { candidate, manifest, config } = chosen;
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== manifest.layers.length) {
    throw new ImageError(
      image,
      `manifest ${candidate.manifest.digest} lists ${manifest.layers.length} layers but the config has ${diffIds.length} diff_ids`,
    );
  }
  const createdBy = layerCreatedBy(config, manifest.layers.length);
  const layers: LayerDescriptor[] = [];
  for (const [i, l] of manifest.layers.entries()) {
    const path = blobPath(image, l.digest);
    if (!(await store.has(path))) throw new ImageError(image, `missing blob ${l.digest} (layer ${i + 1})`);
    layers.push({
      digest: l.digest,
      mediaType: l.mediaType ?? 'application/vnd.oci.image.layer.v1.tar',
      size: l.size,
      diffId: diffIds[i]!,
      ...(createdBy[i] !== undefined ? { createdBy: createdBy[i] } : {}),
      open: () => store.stream(path),
    });
  }
  return {
    name: image,
    kind,
    repoTags: repoTagsOf(candidate.names),
    manifestDigest: candidate.manifest.digest,
    configDigest: manifest.config.digest,
    config,
    layers,
    close: () => store.close(),
  };
}
