#!/usr/bin/env node
// Assembles the example image registry.example.com/acme/payment-api:1.4.2 from the root filesystem described in
// this directory, with nothing but Node's own modules: no Docker, no registry. It writes the image twice, as a
// docker-archive (`docker save`) tar and as an OCI image layout directory, and the bytes are reproducible:
// sorted entries, uid/gid 0, one fixed mtime, and content-addressed names.
//
// Layers:
//   1. base OS  - rootfs/ without rootfs/app, plus base-only/ (files the base shipped that layer 2 deletes)
//   2. app      - rootfs/app, and a whiteout (.wh.debian.sources) that deletes the apt sources from layer 1
//
// Usage: node examples/payments/image/build.mjs [outDir]   (default: examples/payments/build)

import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { TYPE_DIRECTORY, TYPE_FILE, writeTar } from './tar.mjs';

const here = dirname(fileURLToPath(import.meta.url));

export const IMAGE_REPOSITORY = 'registry.example.com/acme/payment-api';
export const IMAGE_TAG = '1.4.2';
export const IMAGE_REF = `${IMAGE_REPOSITORY}:${IMAGE_TAG}`;
export const ROOTFS_DIR = join(here, 'rootfs');
export const BASE_ONLY_DIR = join(here, 'base-only');
export const DEFAULT_OUT_DIR = resolve(here, '..', 'build');
export const DOCKER_ARCHIVE_NAME = 'payment-api.tar';
export const OCI_LAYOUT_NAME = 'payment-api-oci';
// The file layer 2 deletes, as a path inside the image (no leading slash).
export const WHITED_OUT_PATH = 'etc/apt/sources.list.d/debian.sources';

// Fixed timestamps keep every digest stable; they read as the day release 1.4.2 was built.
const BASE_CREATED = '2023-10-09T00:00:00Z';
const APP_CREATED = '2023-10-20T09:00:00Z';
const MTIME = Math.floor(Date.parse(APP_CREATED) / 1000);

const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
};

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

// Lists the files under `dir` as image paths ("etc/os-release"), skipping the `skip` top-level entries.
async function listFiles(dir, skip = []) {
  const out = [];
  async function walk(current) {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      const rel = relative(dir, full).split(sep).join('/');
      if (skip.includes(rel)) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push({ path: rel, source: full });
      else
        throw new Error(
          `image build: ${full} is neither a file nor a directory; the example rootfs holds only those`,
        );
    }
  }
  await walk(dir);
  return out;
}

// Component-wise order puts every directory before what it contains and is independent of locale.
function comparePaths(a, b) {
  const x = a.replace(/\/$/, '').split('/');
  const y = b.replace(/\/$/, '').split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return x.length - y.length;
}

// Tar entries for a layer: each file plus every parent directory it needs, as `docker build` layers carry them.
async function layerEntries(files, whiteouts = []) {
  const dirs = new Set();
  const addParents = (path) => {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/') + '/');
  };
  const entries = [];
  for (const file of files) {
    addParents(file.path);
    entries.push({ path: file.path, type: TYPE_FILE, mode: 0o644, content: await readFile(file.source) });
  }
  for (const target of whiteouts) {
    addParents(target);
    const slash = target.lastIndexOf('/');
    const path = `${target.slice(0, slash + 1)}.wh.${target.slice(slash + 1)}`;
    entries.push({ path, type: TYPE_FILE, mode: 0o644, content: new Uint8Array(0) });
  }
  for (const dir of dirs) entries.push({ path: dir, type: TYPE_DIRECTORY, mode: 0o755 });
  return entries.sort((a, b) => comparePaths(a.path, b.path));
}

function imageConfig(diffIds) {
  return {
    architecture: 'amd64',
    os: 'linux',
    created: APP_CREATED,
    config: {
      // No User: the Dockerfile never switched away from root, which the image scanner should report.
      Env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'NODE_ENV=production',
        'PORT=8443',
        // A credential baked into the image config: dummy value, present so the "secrets in image env" check has a case.
        'ACQUIRER_API_KEY=dummy-acquirer-key-not-a-real-secret-0000',
      ],
      Cmd: ['node', 'server.js'],
      WorkingDir: '/app',
      ExposedPorts: { '8443/tcp': {} },
      Labels: {
        'org.opencontainers.image.title': 'payment-api',
        'org.opencontainers.image.version': IMAGE_TAG,
        'org.opencontainers.image.vendor': 'Acme Pay (fictional)',
        'org.opencontainers.image.description':
          'Example image of the vigil payments environment, assembled by examples/payments/image/build.mjs',
      },
    },
    rootfs: { type: 'layers', diff_ids: diffIds.map((id) => `sha256:${id}`) },
    history: [
      { created: BASE_CREATED, created_by: '/bin/sh -c #(nop) ADD file:debian-bookworm-rootfs in / ' },
      { created: BASE_CREATED, created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
      {
        created: APP_CREATED,
        created_by:
          'ENV NODE_ENV=production PORT=8443 ACQUIRER_API_KEY=dummy-acquirer-key-not-a-real-secret-0000',
        comment: 'buildkit.dockerfile.v0',
        empty_layer: true,
      },
      {
        created: APP_CREATED,
        created_by: 'WORKDIR /app',
        comment: 'buildkit.dockerfile.v0',
        empty_layer: true,
      },
      {
        created: APP_CREATED,
        created_by:
          'RUN /bin/sh -c rm /etc/apt/sources.list.d/debian.sources && cp -r /src/app/. /app/ # buildkit',
        comment: 'buildkit.dockerfile.v0',
      },
      {
        created: APP_CREATED,
        created_by: 'CMD ["node" "server.js"]',
        comment: 'buildkit.dockerfile.v0',
        empty_layer: true,
      },
    ],
  };
}

// OCI image-spec chain ids: ChainID(L1) = DiffID(L1), ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln)).
function chainIds(diffIds) {
  const out = [];
  for (const id of diffIds) {
    out.push(out.length === 0 ? id : sha256(`sha256:${out[out.length - 1]} sha256:${id}`));
  }
  return out;
}

const jsonBytes = (value) => Buffer.from(JSON.stringify(value));

function dockerArchive(layers, configBytes, configHex) {
  // Legacy per-layer directories: their names are derived from the chain ids, so they are as stable as the layers.
  const chains = chainIds(layers.map((l) => l.diffId));
  const v1Ids = chains.map((chain, i) => sha256(`${i === 0 ? '' : chains[i - 1]}\n${chain}`));
  const entries = [];
  layers.forEach((layer, i) => {
    const v1 = {
      id: v1Ids[i],
      ...(i > 0 ? { parent: v1Ids[i - 1] } : {}),
      created: APP_CREATED,
      os: 'linux',
    };
    entries.push({ path: `${v1Ids[i]}/`, type: TYPE_DIRECTORY, mode: 0o755 });
    entries.push({ path: `${v1Ids[i]}/VERSION`, content: '1.0' });
    entries.push({ path: `${v1Ids[i]}/json`, content: jsonBytes(v1) });
    entries.push({ path: `${v1Ids[i]}/layer.tar`, content: layer.tar });
  });
  entries.push({ path: `${configHex}.json`, content: configBytes });
  const manifest = [
    { Config: `${configHex}.json`, RepoTags: [IMAGE_REF], Layers: v1Ids.map((id) => `${id}/layer.tar`) },
  ];
  entries.push({ path: 'manifest.json', content: jsonBytes(manifest) });
  entries.push({
    path: 'repositories',
    content: jsonBytes({ [IMAGE_REPOSITORY]: { [IMAGE_TAG]: v1Ids.at(-1) } }),
  });
  entries.sort((a, b) => comparePaths(a.path, b.path));
  return writeTar(entries, { mtime: MTIME });
}

async function ociLayout(dir, layers, configBytes, configHex) {
  await rm(dir, { recursive: true, force: true });
  const blobs = join(dir, 'blobs', 'sha256');
  await mkdir(blobs, { recursive: true });
  const put = async (bytes) => {
    const hex = sha256(bytes);
    await writeFile(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: bytes.length };
  };
  await put(configBytes);
  const layerDescriptors = [];
  for (const layer of layers)
    layerDescriptors.push({ mediaType: MEDIA.layerGzip, ...(await put(layer.gzip)) });
  const manifest = {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config: { mediaType: MEDIA.config, digest: `sha256:${configHex}`, size: configBytes.length },
    layers: layerDescriptors,
  };
  const manifestDescriptor = { mediaType: MEDIA.manifest, ...(await put(jsonBytes(manifest))) };
  const index = {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [
      {
        ...manifestDescriptor,
        platform: { architecture: 'amd64', os: 'linux' },
        annotations: {
          'io.containerd.image.name': IMAGE_REF,
          'org.opencontainers.image.ref.name': IMAGE_TAG,
        },
      },
    ],
  };
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return { manifestDigest: manifestDescriptor.digest, layerDescriptors };
}

/**
 * Builds both forms of the example image under outDir.
 * @param {string} [outDir] defaults to examples/payments/build (gitignored)
 * @returns {Promise<{ref: string, dockerArchive: string, ociLayout: string, configDigest: string,
 *   diffIds: string[], manifestDigest: string, compressedLayerDigests: string[], dockerArchiveDigest: string}>}
 */
export async function buildExampleImage(outDir = DEFAULT_OUT_DIR) {
  const baseFiles = [...(await listFiles(ROOTFS_DIR, ['app'])), ...(await listFiles(BASE_ONLY_DIR))];
  const appFiles = (await listFiles(ROOTFS_DIR)).filter((f) => f.path.startsWith('app/'));
  const rootfsPaths = new Set((await listFiles(ROOTFS_DIR)).map((f) => f.path));
  for (const f of await listFiles(BASE_ONLY_DIR)) {
    if (rootfsPaths.has(f.path)) throw new Error(`image build: ${f.path} is in both rootfs/ and base-only/`);
  }

  const layers = [];
  for (const [files, whiteouts] of [
    [baseFiles, []],
    [appFiles, [WHITED_OUT_PATH]],
  ]) {
    const tar = writeTar(await layerEntries(files, whiteouts), { mtime: MTIME });
    layers.push({ tar, diffId: sha256(tar), gzip: gzipSync(tar, { level: 9 }) });
  }

  const configBytes = jsonBytes(imageConfig(layers.map((l) => l.diffId)));
  const configHex = sha256(configBytes);
  await mkdir(outDir, { recursive: true });
  const archivePath = join(outDir, DOCKER_ARCHIVE_NAME);
  const archive = dockerArchive(layers, configBytes, configHex);
  await writeFile(archivePath, archive);
  const layoutPath = join(outDir, OCI_LAYOUT_NAME);
  const oci = await ociLayout(layoutPath, layers, configBytes, configHex);

  return {
    ref: IMAGE_REF,
    dockerArchive: archivePath,
    ociLayout: layoutPath,
    configDigest: `sha256:${configHex}`,
    diffIds: layers.map((l) => `sha256:${l.diffId}`),
    manifestDigest: oci.manifestDigest,
    compressedLayerDigests: oci.layerDescriptors.map((d) => d.digest),
    dockerArchiveDigest: `sha256:${sha256(archive)}`,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2] ? resolve(process.argv[2]) : DEFAULT_OUT_DIR;
  buildExampleImage(outDir).then(
    (result) => {
      console.log(`built ${result.ref}`);
      console.log(`  docker-archive     ${result.dockerArchive}  (${result.dockerArchiveDigest})`);
      console.log(`  OCI layout         ${result.ociLayout}`);
      console.log(`  config (image id)  ${result.configDigest}`);
      console.log(`  OCI manifest       ${result.manifestDigest}`);
      result.diffIds.forEach((id, i) => console.log(`  layer ${i + 1} diff_id    ${id}`));
      result.compressedLayerDigests.forEach((id, i) => console.log(`  layer ${i + 1} gzip blob  ${id}`));
    },
    (error) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
}
