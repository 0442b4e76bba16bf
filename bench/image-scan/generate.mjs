// Builds the image bench/image-scan/scan.mjs reads: a docker-archive (Docker 25+ layout: manifest.json and
// blobs/sha256/*, gzip layers) of about N MB (uncompressed) made of this machine's own files — its binaries,
// shared libraries, Python and Java runtimes, /usr/share, its real dpkg database and the repo's node_modules and
// package-lock.json — so the scanner reads real ELF files, real text and a real package database, not random
// bytes. Layers are written by GNU tar (`tar -czf`): writeTestImage holds each layer in memory, which is too much
// here. The result is cached under bench/image-scan/.cache/ (gitignored) and reused while its recipe is unchanged.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
export const repo = join(here, '../..');
export const cacheDir = join(here, '.cache');

// Bump when the recipe changes, so a cached image from an older recipe is rebuilt.
const RECIPE = 2;

// Each layer: where its files come from (`base` is the directory tar runs in, `prefix` where they land in the
// image) and each root's share of the size budget left after the fixed parts. A root is walked in sorted order
// until its share is used, so the same machine always yields the same file set.
const FIXED = [
  'etc/os-release',
  'etc/debian_version',
  'usr/lib/os-release',
  'var/lib/dpkg', // status, available, info/*.list, *.md5sums …: the whole real database
];
const LAYERS = [
  {
    createdBy: 'debian base: dpkg database, /usr/bin, /usr/sbin',
    base: '/',
    roots: [...FIXED.map((path) => ({ path, share: null })), { path: 'usr/bin', share: 0.14 }, { path: 'usr/sbin', share: 0.02 }],
  },
  {
    createdBy: 'shared libraries',
    base: '/',
    roots: [{ path: 'usr/lib/x86_64-linux-gnu', share: 0.24 }],
  },
  {
    createdBy: 'runtimes: python3, jvm, /usr/share/java jars',
    base: '/',
    roots: [
      { path: 'usr/lib/python3', share: 0.04 },
      { path: 'usr/lib/python3.11', share: 0.06 },
      { path: 'usr/lib/jvm', share: 0.07 },
      { path: 'usr/share/java', share: 0.03 },
    ],
  },
  {
    createdBy: '/usr/share',
    base: '/',
    roots: [{ path: 'usr/share', share: 0.25, skip: ['usr/share/java'] }],
  },
  {
    createdBy: 'app: node_modules, package.json, package-lock.json',
    base: repo,
    prefix: 'app',
    roots: [
      { path: 'package.json', share: null },
      { path: 'package-lock.json', share: null },
      { path: 'node_modules', share: 0.15, skip: ['node_modules/.cache'] },
    ],
  },
];

/** Sorted depth-first walk of `base/root`: directories before their contents, until `budget` bytes of files. */
function collect(base, root, budget, skip = []) {
  const out = [];
  let bytes = 0;
  const visit = (rel) => {
    if (skip.includes(rel) || bytes >= budget) return;
    let st;
    try {
      st = lstatSync(join(base, rel));
    } catch {
      return;
    }
    if (st.isDirectory()) {
      out.push(rel);
      let names;
      try {
        names = readdirSync(join(base, rel)).sort();
      } catch {
        return;
      }
      for (const n of names) visit(`${rel}/${n}`);
    } else if (st.isFile()) {
      if (bytes + st.size > budget && out.length > 0) return; // skip one that would overshoot; smaller ones still fit
      out.push(rel);
      bytes += st.size;
    } else if (st.isSymbolicLink()) {
      out.push(rel);
    }
  };
  visit(root);
  return { paths: out, bytes };
}

function parents(path) {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024, ...opts });
  if (r.status !== 0) {
    throw new Error(`bench/image-scan: ${cmd} ${args.slice(0, 4).join(' ')} … failed (${r.status}): ${r.stderr}`);
  }
  return r.stdout;
}

async function sha256File(path, gunzip = false) {
  const hash = createHash('sha256');
  const sink = async function* (source) {
    for await (const chunk of source) hash.update(chunk);
  };
  if (gunzip) await pipeline(createReadStream(path), createGunzip(), sink);
  else await pipeline(createReadStream(path), sink);
  return hash.digest('hex');
}

const fixedBytes = () =>
  FIXED.reduce((sum, p) => sum + collect('/', p, Infinity).paths.reduce((s, q) => {
    const st = lstatSync(join('/', q));
    return s + (st.isFile() ? st.size : 0);
  }, 0), 0);

/**
 * The image for `sizeMb`, built if the cache lacks it: { archive, layers: [{ path, digest, diffId, size, bytes,
 * files }], archiveBytes, contentBytes }.
 */
export async function ensureImage(sizeMb, { regenerate = false, log = console.error } = {}) {
  const dir = join(cacheDir, `image-${sizeMb}mb`);
  const metaPath = join(dir, 'meta.json');
  if (!regenerate && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (meta.recipe === RECIPE && existsSync(meta.archive) && meta.layers.every((l) => existsSync(l.path))) return meta;
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'layers'), { recursive: true });
  const started = Date.now();
  const budget = Math.max(0, sizeMb * 1024 * 1024 - fixedBytes());
  const layers = [];
  for (const [index, spec] of LAYERS.entries()) {
    const paths = [];
    let bytes = 0;
    for (const root of spec.roots) {
      const got = collect(spec.base, root.path, root.share === null ? Infinity : root.share * budget, root.skip);
      for (const p of parents(root.path)) if (!paths.includes(p)) paths.push(p);
      paths.push(...got.paths);
      bytes += got.bytes;
    }
    const list = join(dir, `layer${index}.list`);
    writeFileSync(list, paths.join('\n') + '\n');
    const out = join(dir, 'layers', `layer${index}.tar.gz`);
    log(`  generating layer ${index} (${spec.createdBy}): ${paths.length} entries, ${(bytes / 1e6).toFixed(0)} MB of files`);
    const args = ['-czf', out, '--no-recursion', '--numeric-owner', '--owner=0', '--group=0', '-C', spec.base];
    // Land the app's files under /app; symlink targets stay as they are (they are relative to the link).
    if (spec.prefix) args.push(`--transform=s,^,${spec.prefix}/,S`);
    args.push('-T', list);
    run('tar', args);
    rmSync(list);
    const digest = await sha256File(out);
    const diffId = await sha256File(out, true);
    layers.push({ path: out, digest, diffId, size: statSync(out).size, bytes, files: paths.length, createdBy: spec.createdBy });
  }
  // The docker-archive: manifest.json + blobs/sha256/<config> + blobs/sha256/<layer>…, staged then tarred.
  const stage = join(dir, 'stage');
  mkdirSync(join(stage, 'blobs/sha256'), { recursive: true });
  const created = '2024-01-01T00:00:00Z';
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], WorkingDir: '/app', User: 'node' },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.diffId}`) },
    history: layers.map((l) => ({ created, created_by: l.createdBy })),
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configHex = createHash('sha256').update(configBytes).digest('hex');
  writeFileSync(join(stage, 'blobs/sha256', configHex), configBytes);
  for (const l of layers) {
    // A hard link, not a copy: the stage only exists to give tar the member names.
    spawnSync('ln', [l.path, join(stage, 'blobs/sha256', l.digest)]);
  }
  const manifest = [
    {
      Config: `blobs/sha256/${configHex}`,
      RepoTags: [`bench.local/image-scan:${sizeMb}mb`],
      Layers: layers.map((l) => `blobs/sha256/${l.digest}`),
    },
  ];
  writeFileSync(join(stage, 'manifest.json'), JSON.stringify(manifest));
  const archive = join(dir, 'image.tar');
  run('tar', ['-cf', `${archive}.part`, '--numeric-owner', '--owner=0', '--group=0', '-C', stage, 'manifest.json', 'blobs']);
  renameSync(`${archive}.part`, archive);
  rmSync(stage, { recursive: true, force: true });
  const meta = {
    recipe: RECIPE,
    sizeMb,
    archive,
    archiveBytes: statSync(archive).size,
    contentBytes: layers.reduce((s, l) => s + l.bytes, 0),
    layers,
    generatedSeconds: (Date.now() - started) / 1000,
  };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2));
  return meta;
}
