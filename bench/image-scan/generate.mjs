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

// Go programs this machine has (buf and its plugins ship in the repo's node_modules as Go executables).
export const GO_PROGRAMS = ['buf', 'protoc-gen-buf-breaking', 'protoc-gen-buf-lint'].map((n) =>
  join(repo, 'node_modules/@bufbuild/buf-linux-x64/bin', n),
);

/**
 * A Go-heavy image for the memory target: one gzip layer of `copies` copies of each real Go program above, under
 * usr/local/bin/<name>-<i> (about 97 MB per copy of the set), plus the os-release. Cached like ensureImage.
 * Returns { archive, layers, archiveBytes, contentBytes, programs: [{ path, bytes, copies }] }.
 */
export async function ensureGoImage(copies, { regenerate = false, log = console.error } = {}) {
  const missing = GO_PROGRAMS.filter((p) => !existsSync(p));
  if (missing.length) throw new Error(`bench/image-scan: Go programs not installed: ${missing.join(', ')}`);
  const dir = join(cacheDir, `go-image-${copies}x`);
  const metaPath = join(dir, 'meta.json');
  if (!regenerate && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (meta.recipe === RECIPE && existsSync(meta.archive)) return meta;
  }
  rmSync(dir, { recursive: true, force: true });
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), readFileSync('/etc/os-release'));
  const paths = ['etc', 'etc/os-release', 'usr', 'usr/local', 'usr/local/bin'];
  let bytes = 0;
  for (let i = 0; i < copies; i++) {
    for (const program of GO_PROGRAMS) {
      const name = `usr/local/bin/${program.split('/').pop()}-${i}`;
      linkOrCopy(program, join(root, name));
      paths.push(name);
      bytes += statSync(program).size;
    }
  }
  log(`  generating the Go layer: ${copies} copies of ${GO_PROGRAMS.length} Go programs, ${(bytes / 1e6).toFixed(0)} MB`);
  const { archive, layer } = await writeSingleLayerImage(dir, root, paths, bytes, `${copies} copies of buf and its plugins (Go)`, `go-${copies}x`);
  const meta = {
    recipe: RECIPE,
    copies,
    archive,
    archiveBytes: statSync(archive).size,
    contentBytes: bytes,
    layers: [layer],
    programs: GO_PROGRAMS.map((path) => ({ path, bytes: statSync(path).size, copies })),
  };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2));
  return meta;
}

// Jars this machine has: Maven's own lib dir and the local repository (~/.m2), walked in sorted order.
const JAR_ROOTS = ['/usr/share/maven/lib', join(process.env.HOME ?? '/root', '.m2/repository')];
// Of those, the first jars up to this many bytes make one copy of the set; each copy is half loose jars, half one
// war built by the JDK's `jar` tool (WEB-INF/lib/*.jar, deflated), as an app server image holds both.
const JAR_SET_BYTES = 160 * 1024 * 1024;
// The kept-file limit of squashImage (256 MiB) must hold the war whole for --keep-whole.
const MAX_WAR_BYTES = 200 * 1024 * 1024;

function jarSet() {
  const out = [];
  let bytes = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1));
    } catch {
      return;
    }
    for (const e of entries) {
      if (bytes >= JAR_SET_BYTES) return;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && e.name.endsWith('.jar')) {
        out.push(p);
        bytes += statSync(p).size;
      }
    }
  };
  for (const root of JAR_ROOTS) walk(root);
  return { jars: out, bytes };
}

/**
 * A jar-heavy image (a Java app server's) for the memory target: one gzip layer of `copies` copies of a set of this
 * machine's real jars (~160 MB a copy): half under opt/app-<i>/lib/, the other half inside
 * opt/tomcat/webapps/app-<i>.war, plus the os-release. Cached like ensureImage. Returns { archive, layers,
 * archiveBytes, contentBytes, jarSet: { jars, bytes }, war: { path, bytes }, copies }.
 */
export async function ensureJarImage(copies, { regenerate = false, log = console.error } = {}) {
  const dir = join(cacheDir, `jar-image-${copies}x`);
  const metaPath = join(dir, 'meta.json');
  if (!regenerate && existsSync(metaPath)) {
    const meta = JSON.parse(readFileSync(metaPath, 'utf8'));
    if (meta.recipe === RECIPE && existsSync(meta.archive) && existsSync(meta.war.path)) return meta;
  }
  const set = jarSet();
  if (set.jars.length < 10) throw new Error(`bench/image-scan: only ${set.jars.length} jars under ${JAR_ROOTS.join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
  const loose = set.jars.filter((_, i) => i % 2 === 0);
  const packed = set.jars.filter((_, i) => i % 2 === 1);
  // Unique names: the local repository holds the same file name under several groups.
  const nameOf = (jar, i) => `${i}-${jar.split('/').pop()}`;
  const warStage = join(dir, 'war');
  mkdirSync(join(warStage, 'WEB-INF/lib'), { recursive: true });
  for (const [i, jar] of packed.entries()) linkOrCopy(jar, join(warStage, 'WEB-INF/lib', nameOf(jar, i)));
  const war = join(dir, 'app.war');
  log(`  building the war: ${packed.length} jars with the JDK's jar tool`);
  run('jar', ['--create', '--file', war, '-C', warStage, '.']);
  rmSync(warStage, { recursive: true, force: true });
  const warBytes = statSync(war).size;
  if (warBytes > MAX_WAR_BYTES) throw new Error(`bench/image-scan: the war is ${warBytes} bytes, over ${MAX_WAR_BYTES}`);

  const root = join(dir, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc/os-release'), readFileSync('/etc/os-release'));
  const paths = ['etc', 'etc/os-release', 'opt', 'opt/tomcat', 'opt/tomcat/webapps'];
  mkdirSync(join(root, 'opt/tomcat/webapps'), { recursive: true });
  let bytes = 0;
  for (let c = 0; c < copies; c++) {
    const lib = `opt/app-${c}/lib`;
    mkdirSync(join(root, lib), { recursive: true });
    paths.push(`opt/app-${c}`, lib);
    for (const [i, jar] of loose.entries()) {
      const name = `${lib}/${nameOf(jar, i)}`;
      linkOrCopy(jar, join(root, name));
      paths.push(name);
      bytes += statSync(jar).size;
    }
    const warName = `opt/tomcat/webapps/app-${c}.war`;
    linkOrCopy(war, join(root, warName));
    paths.push(warName);
    bytes += warBytes;
  }
  log(`  generating the jar layer: ${copies} copies of ${loose.length} jars and a war of ${packed.length}, ${(bytes / 1e6).toFixed(0)} MB`);
  const layer = await writeSingleLayerImage(dir, root, paths, bytes, `${copies} copies of ${set.jars.length} jars from this machine`, `jar-${copies}x`);
  const meta = {
    recipe: RECIPE,
    copies,
    archive: layer.archive,
    archiveBytes: statSync(layer.archive).size,
    contentBytes: bytes,
    layers: [layer.layer],
    jars: loose,
    war: { path: war, bytes: warBytes },
  };
  writeFileSync(metaPath, JSON.stringify(meta, null, 2));
  return meta;
}

function linkOrCopy(from, to) {
  // Hard links in the staging tree; --hard-dereference still writes each as a whole file.
  const r = spawnSync('ln', [from, to]);
  if (r.status !== 0) run('cp', [from, to]);
}

/** One gzip layer of `paths` under `root` (removed after), as a docker-archive at dir/image.tar. */
async function writeSingleLayerImage(dir, root, paths, bytes, createdBy, tag) {
  const list = join(dir, 'layer.list');
  writeFileSync(list, paths.join('\n') + '\n');
  mkdirSync(join(dir, 'layers'), { recursive: true });
  const out = join(dir, 'layers', 'layer0.tar.gz');
  run('tar', ['-czf', out, '--no-recursion', '--hard-dereference', '--numeric-owner', '--owner=0', '--group=0', '-C', root, '-T', list]);
  rmSync(root, { recursive: true, force: true });
  rmSync(list);
  const digest = await sha256File(out);
  const diffId = await sha256File(out, true);
  const layer = { path: out, digest, diffId, size: statSync(out).size, bytes, files: paths.length, createdBy };
  const stage = join(dir, 'stage');
  mkdirSync(join(stage, 'blobs/sha256'), { recursive: true });
  const created = '2024-01-01T00:00:00Z';
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created,
    config: {},
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    history: [{ created, created_by: createdBy }],
  };
  const configBytes = Buffer.from(JSON.stringify(config));
  const configHex = createHash('sha256').update(configBytes).digest('hex');
  writeFileSync(join(stage, 'blobs/sha256', configHex), configBytes);
  spawnSync('ln', [out, join(stage, 'blobs/sha256', digest)]);
  writeFileSync(
    join(stage, 'manifest.json'),
    JSON.stringify([{ Config: `blobs/sha256/${configHex}`, RepoTags: [`bench.local/image-scan:${tag}`], Layers: [`blobs/sha256/${digest}`] }]),
  );
  const archive = join(dir, 'image.tar');
  run('tar', ['-cf', `${archive}.part`, '--numeric-owner', '--owner=0', '--group=0', '-C', stage, 'manifest.json', 'blobs']);
  renameSync(`${archive}.part`, archive);
  rmSync(stage, { recursive: true, force: true });
  return { archive, layer };
}
