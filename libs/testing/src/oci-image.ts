// Writes real container images for tests — docker save archives, OCI layout directories and oci-archives — with
// correct digests, diff_ids and media types and byte-for-byte deterministic output (fixed mtimes and owners, gzip
// without a timestamp, single-threaded zstd). `corrupt` and verbatim entry names make deliberately broken images.
// Self-contained: @vigil/image-scan's specs use this, so it must not import the engine back.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export type TestCompression = 'gzip' | 'zstd' | 'none';

export interface TestImageFile {
  /** Written verbatim as the tar entry name, so `../x` and `/x` make hostile entries. */
  path: string;
  content?: string | Uint8Array;
  mode?: number;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  linkTarget?: string;
}

export interface TestLayer {
  files: TestImageFile[];
  compression?: TestCompression;
  createdBy?: string;
  /** The uncompressed layer tar as-is, instead of one made from `files`. */
  raw?: Uint8Array;
}

export interface TestPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Image config fields to set (rootfs and history are computed from the layers). */
export interface TestImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: Record<string, unknown>;
  [field: string]: unknown;
}

export interface TestImageCorruption {
  /** index.json (or docker's manifest.json config name) names another digest than the manifest's. */
  manifestDigest?: boolean;
  /** The config's bytes change after their digest was taken. */
  configDigest?: boolean;
  /** The manifest names a wrong digest for layer i. */
  layerDigest?: number;
  /** The config names a wrong diff_id for layer i. */
  diffId?: number;
  /** Layer i's stored blob is cut in half; digests and sizes describe the cut blob, so only reading it fails. */
  truncateLayer?: number;
  /** This blob is left out. */
  missingBlob?: 'config' | 'manifest' | number;
  /** This document is not JSON. */
  badJson?: 'manifest' | 'config' | 'index';
}

export interface TestImageSpec {
  format: 'docker-archive' | 'oci-layout' | 'oci-archive';
  /** docker RepoTags entry, or the OCI ref.name annotation (its tag part) and io.containerd.image.name. */
  repoTag?: string;
  layers: TestLayer[];
  config?: TestImageConfig;
  /** Default linux/amd64. */
  platform?: TestPlatform;
  /** More images in the same OCI index, e.g. other platforms of one tag. */
  alsoImages?: { platform: TestPlatform; layers: TestLayer[]; repoTag?: string }[];
  /** Put the manifests in an image index blob that index.json points to (OCI formats). */
  nestedIndex?: boolean;
  /** Gzip the whole archive (docker-archive, oci-archive). */
  archiveCompression?: 'gzip' | 'none';
  /** docker-archive: `<id>/layer.tar` + `<hex>.json` (docker before 25, default) or OCI blobs (docker 25+). */
  dockerLayout?: 'legacy' | 'blobs';
  corrupt?: TestImageCorruption;
}

export interface WrittenLayer {
  digest: string;
  diffId: string;
  mediaType: string;
  size: number;
}

export interface WrittenTestImage {
  path: string;
  manifestDigest: string;
  configDigest: string;
  layers: WrittenLayer[];
}

const BLOCK = 512;
const CREATED = '2024-01-01T00:00:00Z';
const WRONG = `sha256:${'0'.repeat(64)}`;

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

function hex(digest: string): string {
  return digest.slice('sha256:'.length);
}

function bytesOf(content: string | Uint8Array | undefined): Buffer {
  if (content === undefined) return Buffer.alloc(0);
  return typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
}

function writeOctal(block: Buffer, value: number, offset: number, length: number): void {
  block.write(value.toString(8).padStart(length - 1, '0'), offset, length - 1, 'ascii');
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length)
    length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

function header(name: string, typeflag: string, size: number, mode: number, linkName = ''): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, 'utf8');
  writeOctal(block, mode, 100, 8);
  writeOctal(block, 0, 108, 8);
  writeOctal(block, 0, 116, 8);
  writeOctal(block, size, 124, 12);
  writeOctal(block, 0, 136, 12);
  block.fill(0x20, 148, 156);
  block.write(typeflag, 156, 1, 'ascii');
  block.write(linkName, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 8, 'ascii');
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\u0000 ', 148, 8, 'ascii');
  return block;
}

function pad(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

export interface TarMember {
  name: string;
  type?: 'file' | 'dir' | 'symlink' | 'hardlink';
  data?: Uint8Array;
  mode?: number;
  linkTarget?: string;
}

/** One tar member's bytes; names or link targets too long for ustar get a pax header. */
function member(m: TarMember): Buffer[] {
  const type = m.type ?? 'file';
  const data = type === 'file' ? Buffer.from(m.data ?? new Uint8Array(0)) : Buffer.alloc(0);
  const flag = { file: '0', dir: '5', symlink: '2', hardlink: '1' }[type];
  const mode = m.mode ?? (type === 'dir' ? 0o755 : type === 'symlink' ? 0o777 : 0o644);
  const link = m.linkTarget ?? '';
  const out: Buffer[] = [];
  const long = (s: string) => Buffer.byteLength(s) > 99 || /[^\x20-\x7e]/.test(s);
  if (long(m.name) || long(link)) {
    const pax = Buffer.from(
      (long(m.name) ? paxRecord('path', m.name) : '') + (long(link) ? paxRecord('linkpath', link) : ''),
    );
    out.push(header('PaxHeaders/entry', 'x', pax.length, 0o644), pax, pad(pax.length));
  }
  const shortName = long(m.name) ? m.name.slice(-99).replace(/^[^/]*\//, '') : m.name;
  out.push(header(shortName, flag, data.length, mode, long(link) ? '' : link), data, pad(data.length));
  return out;
}

/** A tar archive of the members in order, ending with the two zero blocks. */
export function tarBytes(members: TarMember[]): Buffer {
  return Buffer.concat([...members.flatMap(member), Buffer.alloc(BLOCK * 2)]);
}

function layerTar(files: TestImageFile[]): Buffer {
  return tarBytes(
    files.map((f) => ({
      name: f.path,
      type: f.type ?? 'file',
      data: bytesOf(f.content),
      ...(f.mode !== undefined ? { mode: f.mode } : {}),
      ...(f.linkTarget !== undefined ? { linkTarget: f.linkTarget } : {}),
    })),
  );
}

function compress(bytes: Buffer, how: TestCompression): Buffer {
  if (how === 'gzip') return gzipSync(bytes, { level: 6 });
  if (how === 'zstd') {
    const run = spawnSync('zstd', ['-q', '-c', '-3', '-T1', '--no-progress'], {
      input: bytes,
      maxBuffer: 1 << 30,
    });
    if (run.status !== 0) throw new Error(`writeTestImage: zstd failed: ${run.stderr.toString()}`);
    return run.stdout;
  }
  return bytes;
}

const OCI_LAYER_TYPES: Record<TestCompression, string> = {
  none: 'application/vnd.oci.image.layer.v1.tar',
  gzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  zstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
};

interface Blob {
  digest: string;
  bytes: Buffer;
}

interface BuiltImage {
  layers: (WrittenLayer & { bytes: Buffer })[];
  config: Blob;
  manifest: Blob;
  platform: TestPlatform;
  repoTag?: string;
}

function buildImage(
  spec: TestImageSpec,
  layers: TestLayer[],
  platform: TestPlatform,
  corrupt: TestImageCorruption,
): BuiltImage {
  const built = layers.map((layer, i) => {
    const tar = layer.raw ? Buffer.from(layer.raw) : layerTar(layer.files);
    const how = layer.compression ?? 'gzip';
    let stored = compress(tar, how);
    let diffId = sha256(tar);
    if (corrupt.truncateLayer === i) {
      stored = stored.subarray(0, Math.floor(stored.length / 2));
      if (how === 'none') diffId = sha256(stored);
    }
    const digest = sha256(stored);
    return { bytes: stored, digest, diffId, mediaType: OCI_LAYER_TYPES[how], size: stored.length };
  });
  const { config: runConfig, ...configFields } = spec.config ?? {};
  const config = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    created: CREATED,
    ...configFields,
    config: runConfig ?? { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: built.map((l, i) => (corrupt.diffId === i ? WRONG : l.diffId)) },
    history: layers.map((l, i) => ({
      created: CREATED,
      created_by: l.createdBy ?? `COPY layer-${i} / # buildkit`,
    })),
  };
  const configText = corrupt.badJson === 'config' ? '{"rootfs": ' : JSON.stringify(config);
  const configBytes = Buffer.from(configText);
  const configDigest = sha256(configBytes);
  const storedConfig = corrupt.configDigest
    ? Buffer.from(configText.replace('"created"', '"Created"'))
    : configBytes;
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: configDigest,
      size: configBytes.length,
    },
    layers: built.map((l, i) => ({
      mediaType: l.mediaType,
      digest: corrupt.layerDigest === i ? WRONG : l.digest,
      size: l.size,
    })),
  };
  const manifestBytes = Buffer.from(
    corrupt.badJson === 'manifest' ? '{"layers": [' : JSON.stringify(manifest),
  );
  return {
    layers: built,
    config: { digest: configDigest, bytes: storedConfig },
    manifest: { digest: sha256(manifestBytes), bytes: manifestBytes },
    platform,
  };
}

/** Where a file goes: into a directory, or appended to an archive being written. */
interface Sink {
  add(name: string, bytes: Uint8Array): void;
  finish(): void;
}

function directorySink(root: string): Sink {
  mkdirSync(root, { recursive: true });
  return {
    add(name, bytes) {
      mkdirSync(dirname(join(root, name)), { recursive: true });
      writeFileSync(join(root, name), bytes);
    },
    finish() {},
  };
}

function archiveSink(path: string, compression: 'gzip' | 'none'): Sink {
  mkdirSync(dirname(path), { recursive: true });
  const members: TarMember[] = [];
  const fd = compression === 'none' ? openSync(path, 'w') : undefined;
  return {
    add(name, bytes) {
      // Members are written as they come so big layers are not held twice.
      if (fd !== undefined) for (const part of member({ name, data: bytes })) writeSync(fd, part);
      else members.push({ name, data: bytes });
    },
    finish() {
      if (fd !== undefined) {
        writeSync(fd, Buffer.alloc(BLOCK * 2));
        closeSync(fd);
      } else writeFileSync(path, gzipSync(tarBytes(members), { level: 6 }));
    },
  };
}

function tagOf(repoTag: string): string {
  const slash = repoTag.lastIndexOf('/');
  const colon = repoTag.lastIndexOf(':');
  return colon > slash ? repoTag.slice(colon + 1) : 'latest';
}

function writeOci(sink: Sink, spec: TestImageSpec, images: BuiltImage[], corrupt: TestImageCorruption): void {
  const blob = (b: Blob) => sink.add(`blobs/sha256/${hex(b.digest)}`, b.bytes);
  for (const [n, img] of images.entries()) {
    img.layers.forEach((l, i) => {
      // A corrupted digest is a blob stored under a name its bytes do not hash to.
      if (!(n === 0 && corrupt.missingBlob === i))
        blob(n === 0 && corrupt.layerDigest === i ? { ...l, digest: WRONG } : l);
    });
    if (!(n === 0 && corrupt.missingBlob === 'config')) blob(img.config);
    if (!(n === 0 && corrupt.missingBlob === 'manifest')) {
      blob(n === 0 && corrupt.manifestDigest ? { ...img.manifest, digest: WRONG } : img.manifest);
    }
  }
  const descriptors = images.map((img, n) => ({
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: n === 0 && corrupt.manifestDigest ? WRONG : img.manifest.digest,
    size: img.manifest.bytes.length,
    platform: img.platform,
    ...(img.repoTag && !spec.nestedIndex
      ? {
          annotations: {
            'io.containerd.image.name': img.repoTag,
            'org.opencontainers.image.ref.name': tagOf(img.repoTag),
          },
        }
      : {}),
  }));
  let top: unknown[] = descriptors;
  if (spec.nestedIndex) {
    const nested = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: descriptors,
      }),
    );
    const digest = sha256(nested);
    blob({ digest, bytes: nested });
    top = [
      {
        mediaType: 'application/vnd.oci.image.index.v1+json',
        digest,
        size: nested.length,
        ...(spec.repoTag
          ? {
              annotations: {
                'io.containerd.image.name': spec.repoTag,
                'org.opencontainers.image.ref.name': tagOf(spec.repoTag),
              },
            }
          : {}),
      },
    ];
  }
  sink.add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })));
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: top };
  sink.add(
    'index.json',
    Buffer.from(corrupt.badJson === 'index' ? '{"manifests": [' : JSON.stringify(index)),
  );
}

function writeDocker(sink: Sink, spec: TestImageSpec, img: BuiltImage, corrupt: TestImageCorruption): void {
  const legacy = (spec.dockerLayout ?? 'legacy') === 'legacy';
  // docker-archive has no manifest digest: a "wrong manifest digest" there is a config stored under a wrong name.
  const configHex = corrupt.manifestDigest ? hex(WRONG) : hex(img.config.digest);
  const configName = legacy ? `${configHex}.json` : `blobs/sha256/${configHex}`;
  const layerNames = img.layers.map((l, i) =>
    legacy
      ? `${hex(l.diffId)}/layer.tar`
      : `blobs/sha256/${hex(corrupt.layerDigest === i ? WRONG : l.digest)}`,
  );
  if (legacy) {
    img.layers.forEach((l, i) => {
      if (corrupt.missingBlob !== i) sink.add(layerNames[i]!, l.bytes);
    });
    if (corrupt.missingBlob !== 'config') sink.add(configName, img.config.bytes);
  } else {
    // Docker 25+ writes an OCI layout beside manifest.json; its blobs serve both.
    const { manifestDigest, ...rest } = corrupt;
    writeOci(sink, { ...spec, nestedIndex: false }, [img], rest);
    if (manifestDigest) sink.add(configName, img.config.bytes);
  }
  const entry = {
    Config: configName,
    RepoTags: spec.repoTag ? [spec.repoTag] : [],
    Layers: layerNames,
  };
  sink.add(
    'manifest.json',
    Buffer.from(corrupt.badJson === 'manifest' ? '[{"Config": ' : JSON.stringify([entry])),
  );
}

/** Writes the image to `out` (a directory for oci-layout, a tar file otherwise) and returns its digests. */
export async function writeTestImage(out: string, spec: TestImageSpec): Promise<WrittenTestImage> {
  const corrupt = spec.corrupt ?? {};
  const main = buildImage(
    spec,
    spec.layers,
    spec.platform ?? { os: 'linux', architecture: 'amd64' },
    corrupt,
  );
  if (spec.repoTag) main.repoTag = spec.repoTag;
  const others = (spec.alsoImages ?? []).map((o) => {
    const img = buildImage(spec, o.layers, o.platform, {});
    if (o.repoTag ?? spec.repoTag) img.repoTag = o.repoTag ?? spec.repoTag;
    return img;
  });
  const sink =
    spec.format === 'oci-layout' ? directorySink(out) : archiveSink(out, spec.archiveCompression ?? 'none');
  if (spec.format === 'docker-archive') writeDocker(sink, spec, main, corrupt);
  else writeOci(sink, spec, [main, ...others], corrupt);
  sink.finish();
  return {
    path: out,
    manifestDigest: main.manifest.digest,
    configDigest: main.config.digest,
    layers: main.layers.map(({ digest, diffId, mediaType, size }) => ({ digest, diffId, mediaType, size })),
  };
}
